import type { ServiceDeps } from './deps';
import { getCertificate, type CertificateRow } from '../db/certificates';
import { kindsOf } from '../db/certificate-versions';
import { getTypeVersion } from '../db/certificate-types';
import { changedFields } from '../domain/certificate-change';
import { CERTIFICATE_STATUS_CODES } from '../domain/certificate-record';
import { createFaceCrypto } from '../platform/face-crypto';

/**
 * The versions of one certificate (docs/lifecycle.md): first issue, then every change, renewal
 * and reissue, oldest first, each with the face fields it changed. Only keys, never values: a
 * reader sees the values of a version by reading that version (and is audited for it).
 */

/** A chain longer than this is a loop in the data, not a licence's life. */
const MAX_VERSIONS = 100;

export interface CertificateVersion {
  number: string;
  kind: string;
  reason: string | null;
  issuedAt: string;
  validFrom: string;
  validUntil: string | null;
  status: CertificateRow['status'];
  statusCode: string;
  statusChangedAt: string;
  /** Face fields whose values differ from the version before (empty for the first). */
  changedFields: string[];
}

export async function certificateVersions(
  deps: Pick<ServiceDeps, 'db' | 'masterKey'>,
  number: string,
): Promise<CertificateVersion[]> {
  const start = await getCertificate(deps.db, number);
  if (!start) return [];
  const chain: CertificateRow[] = [start];
  const seen = new Set([start.number]);
  for (let c = start; c.replacesNumber && chain.length < MAX_VERSIONS;) {
    const prev = seen.has(c.replacesNumber) ? undefined : await getCertificate(deps.db, c.replacesNumber);
    if (!prev) break;
    chain.unshift(prev);
    seen.add(prev.number);
    c = prev;
  }
  for (let c = start; c.supersededBy && chain.length < MAX_VERSIONS;) {
    const next = seen.has(c.supersededBy) ? undefined : await getCertificate(deps.db, c.supersededBy);
    if (!next) break;
    chain.push(next);
    seen.add(next.number);
    c = next;
  }
  if (chain.length === 1 && !start.replacesNumber && !start.supersededBy) return [];
  const kinds = await kindsOf(
    deps.db,
    chain.map((c) => c.applicationId),
  );
  const faces = createFaceCrypto(deps.masterKey);
  const opened: Record<string, unknown>[] = [];
  const keys: string[][] = [];
  for (const c of chain) {
    const fields = (await getTypeVersion(deps.db, c.typeCode, c.typeVersion))?.faceFields ?? [];
    keys.push(fields.map((f) => f.key));
    opened.push(faces.open(fields, c.faceData));
  }
  return chain.map((c, i) => ({
    number: c.number,
    kind: kinds.get(c.applicationId)?.kind ?? 'new',
    reason: kinds.get(c.applicationId)?.reason ?? null,
    issuedAt: c.issuedAt,
    validFrom: c.validFrom,
    validUntil: c.validUntil,
    status: c.status,
    statusCode: CERTIFICATE_STATUS_CODES[c.status],
    statusChangedAt: c.statusChangedAt,
    changedFields: i === 0 ? [] : changedFields(keys[i]!, opened[i - 1]!, opened[i]!),
  }));
}
