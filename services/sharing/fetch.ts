import { randomUUID } from 'node:crypto';
import type { Actor } from '../../domain/access';
import type { CachedCertificate } from '../../db/certificate-cache';
import { getDepartment } from '../../db/org';
import { insertAnnotatedCopy, type AnnotatedCopy } from '../../db/sharing';
import { sha256 } from '../../platform/blobs';
import type { ServiceDeps } from '../deps';
import { invalidError } from '../errors';
import { appendPage } from '../documents/append-page';
import { renderAnnotationPage } from '../documents/annotation-page';
import { signPdf } from '../trust/sign-pdf';
import type { FetchAccess } from './policy';
import { PLATFORM_SEAL_NAME, platformSeal } from './platform-seal';

/**
 * Fetch (获取, docs/sharing.md): another department receives an annotated copy (加注件), never
 * the bare original. The copy is the issuer's signed PDF byte for byte, then an incremental
 * update with one annotation page (matter, who, when, valid until), signed by the platform's
 * seal over all of it. The caller has decided access with fetchAccess (services/sharing/policy.ts).
 */

/** A copy lasts 30 days unless asked for less; never past the grant it was fetched under. */
const DEFAULT_COPY_MS = 30 * 86_400_000;
const MAX_COPY_MS = 366 * 86_400_000;

export interface FetchRequest {
  matter: string;
  reason: string;
  validUntil?: Date;
}

/** China Standard Time, to the minute: what the annotation prints. */
export function chinaTime(iso: string): string {
  return `${new Date(Date.parse(iso) + 8 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ')}（北京时间）`;
}

export async function makeAnnotatedCopy(
  deps: ServiceDeps,
  actor: Actor,
  cert: CachedCertificate,
  access: Extract<FetchAccess, { allowed: true }>,
  request: FetchRequest,
): Promise<{ copy: AnnotatedCopy; pdf: Buffer }> {
  const now = Date.now();
  let until = request.validUntil?.getTime() ?? now + DEFAULT_COPY_MS;
  if (until <= now)
    throw invalidError('The copy must be valid into the future', [{ field: 'validUntil', message: 'is in the past' }]);
  if (until - now > MAX_COPY_MS)
    throw invalidError('A copy is valid at most a year', [{ field: 'validUntil', message: 'more than a year ahead' }]);
  if (access.basis === 'grant') until = Math.min(until, Date.parse(access.grant.validUntil));

  const id = randomUUID();
  const department = (await getDepartment(deps.db, access.department))?.name ?? access.department;
  const usedBy =
    actor.kind === 'api-client'
      ? `${department} · ${actor.name}`
      : actor.kind === 'user'
        ? `${department}（经办人员 ${actor.displayName}）`
        : department;
  const fetchedAt = new Date(now).toISOString();
  const validUntil = new Date(until).toISOString();
  const original = await deps.blobs.get(cert.pdfSha256);
  const page = await renderAnnotationPage({
    copyId: id,
    certificateNumber: cert.number,
    certificateName: cert.typeName,
    issuerName: cert.issuerName,
    matter: request.matter,
    reason: request.reason,
    usedBy,
    basis: access.basis === 'grant' ? `用证授权 ${access.grant.id}` : '无条件共享',
    fetchedAt: chinaTime(fetchedAt),
    validUntil: chinaTime(validUntil),
  });
  // The copy id in /Reason (covered by the signature) is how /verify finds what the copy says.
  const pdf = await signPdf(appendPage(original, page), await platformSeal(deps), {
    reason: `电子证照加注件 ${id} ${cert.number}`,
    name: PLATFORM_SEAL_NAME,
    location: cert.regionCode,
    signingTime: new Date(Math.floor(now / 1000) * 1000),
  });
  const copy: AnnotatedCopy = {
    id,
    certificateNumber: cert.number,
    originalSha256: cert.pdfSha256,
    originalLength: original.length,
    copySha256: sha256(pdf),
    department: access.department,
    apiClientId: actor.kind === 'api-client' ? actor.id : null,
    fetchedBy: actor.kind === 'user' ? actor.username : actor.kind === 'api-client' ? actor.name : actor.kind,
    basis: access.basis,
    grantId: access.basis === 'grant' ? access.grant.id : null,
    matter: request.matter,
    reason: request.reason,
    validUntil,
    createdAt: fetchedAt,
  };
  await insertAnnotatedCopy(deps.db, copy);
  return { copy, pdf };
}
