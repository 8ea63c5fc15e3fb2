import * as vc from '@digitalbazaar/vc';
import { DataIntegrityProof } from '@digitalbazaar/data-integrity';
import { cryptosuite as ecdsaRdfc2019 } from '@digitalbazaar/ecdsa-rdfc-2019-cryptosuite';
import { createCredential, createList } from '@digitalbazaar/vc-bitstring-status-list';
import type { ServiceDeps } from '../deps';
import { getCertificate } from '../../db/certificates';
import { getDepartment } from '../../db/org';
import {
  ensureStatusEntry,
  getStatusList,
  setIndexes,
  setStatusBit,
  type StatusEntry,
  type StatusPurpose,
} from '../../db/credentials';
import { getJson, setJson } from '../../platform/cache';
import { credentialFromRecord, type CredentialStatusEntry } from '../../domain/credential';
import type { CertificateRecord, CertificateStatus } from '../../domain/certificate-record';
import { verifyUrl } from '../documents/certificate';
import { credentialKeyPair, departmentDid } from './keys';
import { offlineDocumentLoader } from './loader';
import { notFoundError } from '../errors';

/**
 * W3C Verifiable Credentials of certificates and each department's Bitstring Status Lists
 * (docs/trust.md, "Verifiable credentials"): signed with the department's P-256 credential key as
 * Data Integrity proofs (ecdsa-rdfc-2019), JSON-LD processed with the offline loader only.
 */
type CredentialDeps = Pick<ServiceDeps, 'db' | 'cache' | 'masterKey' | 'config'>;

/** At least 131 072 positions (16 KiB), the Bitstring Status List minimum for herd privacy. */
export const STATUS_LIST_MIN_LENGTH = 131_072;

export function statusListUrl(publicUrl: string, department: string, purpose: StatusPurpose): string {
  return `${publicUrl}/api/v1/trust/status-lists/${department}/${purpose}`;
}

/** Bits a certificate's status sets: revocation for the permanent ends, suspension for a suspension. */
export function statusBits(status: CertificateStatus): { revoked: boolean; suspended: boolean } {
  return {
    revoked: ['revoked', 'cancelled', 'withdrawn', 'superseded'].includes(status),
    suspended: status === 'suspended',
  };
}

/** Adds the department's proof to an unsigned credential. */
export async function signCredential(
  deps: Pick<CredentialDeps, 'masterKey' | 'config'>,
  department: string,
  credential: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const pair = await credentialKeyPair(deps.masterKey, deps.config.http.publicUrl, department);
  const suite = new DataIntegrityProof({ signer: pair.signer(), cryptosuite: ecdsaRdfc2019 });
  return vc.issue({ credential, suite, documentLoader: offlineDocumentLoader() });
}

/** The certificate as a signed credential; its status positions are taken on first export. */
export async function certificateCredential(deps: CredentialDeps, number: string): Promise<Record<string, unknown>> {
  const cert = await getCertificate(deps.db, number);
  if (!cert) throw notFoundError(`No certificate ${number}`);
  const entry = await ensureStatusEntry(deps.db, number, cert.department, statusBits(cert.status));
  const department = await getDepartment(deps.db, cert.department);
  const publicUrl = deps.config.http.publicUrl;
  const record = JSON.parse(cert.record) as CertificateRecord;
  const credential = credentialFromRecord({
    record,
    recordSha256: cert.recordSha256,
    id: verifyUrl(publicUrl, number),
    issuer: { id: departmentDid(publicUrl, cert.department), name: department?.name ?? record.issuer.name },
    status: statusEntries(publicUrl, entry),
  });
  return signCredential(deps, cert.department, credential);
}

function statusEntries(publicUrl: string, entry: StatusEntry): CredentialStatusEntry[] {
  return (['revocation', 'suspension'] as const).map((purpose) => {
    const list = statusListUrl(publicUrl, entry.department, purpose);
    return {
      id: `${list}#${entry.index}`,
      type: 'BitstringStatusListEntry',
      statusPurpose: purpose,
      statusListIndex: String(entry.index),
      statusListCredential: list,
    };
  });
}

/**
 * The department's signed BitstringStatusListCredential for one purpose, as of now. Built from
 * the stored bits and cached under the list's version, which every change increments: any
 * process serves a list at least as new as the last change it can see.
 */
export async function statusListCredential(
  deps: CredentialDeps,
  department: string,
  purpose: StatusPurpose,
): Promise<Record<string, unknown>> {
  if (!(await getDepartment(deps.db, department))) throw notFoundError(`No department ${department}`);
  const state = await getStatusList(deps.db, department);
  const version = state?.version ?? 0;
  const key = `vc-status-list:${department}:${purpose}:${version}`;
  const cached = await getJson<Record<string, unknown>>(deps.cache, key);
  if (cached) return cached;
  const size = state?.size ?? 0;
  const list = await createList({
    length: Math.max(1, Math.ceil(size / STATUS_LIST_MIN_LENGTH)) * STATUS_LIST_MIN_LENGTH,
  });
  for (const index of await setIndexes(deps.db, department, purpose)) list.setStatus(index, true);
  const publicUrl = deps.config.http.publicUrl;
  const unsigned = await createCredential({
    id: statusListUrl(publicUrl, department, purpose),
    list,
    statusPurpose: purpose,
  });
  const since = (state?.updatedAt ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const signed = await signCredential(deps, department, {
    ...unsigned,
    issuer: departmentDid(publicUrl, department),
    validFrom: since,
  });
  await setJson(deps.cache, key, signed, 3600);
  return signed;
}

/**
 * Sets or clears a certificate's bit in its department's list (the lifecycle calls this on every
 * status change: services/lifecycle.ts; suspension, issue #16, calls it with 'suspension').
 * A certificate never exported gets its position now, so no change can slip between.
 */
export async function setCredentialStatus(
  deps: Pick<CredentialDeps, 'db'>,
  number: string,
  purpose: StatusPurpose,
  on: boolean,
): Promise<{ index: number; changed: boolean } | undefined> {
  const cert = await getCertificate(deps.db, number);
  if (!cert) return undefined;
  await ensureStatusEntry(deps.db, number, cert.department, statusBits(cert.status));
  const result = await setStatusBit(deps.db, number, purpose, on);
  return result && { index: result.entry.index, changed: result.changed };
}
