import type { Actor } from '../../domain/access';
import { ROLE_LABELS } from '../../domain/access';
import { queryAuditByHolder, type AuditEntry } from '../../db/audit';
import { getCertificateCached, type CachedCertificate } from '../../db/certificate-cache';
import { listHolderCertificates } from '../../db/certificates';
import { versionLinks } from '../../db/certificate-versions';
import { listDepartments } from '../../db/org';
import { getUser } from '../../db/org';
import type { ServiceDeps } from '../deps';
import { notFoundError } from '../errors';

/**
 * The holder's own view (docs/holders.md): every certificate whose holder ID hashes to the
 * session's, across departments, and who else used them, read from the audit log by its
 * holder_hash index (migration 014).
 */

type HolderActor = Extract<Actor, { kind: 'holder' }>;

export async function myCertificates(deps: Pick<ServiceDeps, 'db' | 'config'>, holder: HolderActor) {
  const certs = await listHolderCertificates(deps.db, holder.holderHash);
  // The chain of versions (docs/lifecycle.md): each names the one it replaced and its successor.
  const links = await versionLinks(
    deps.db,
    certs.map((c) => c.number),
  );
  const today = new Date().toISOString().slice(0, 10);
  const soon = new Date(Date.now() + deps.config.expiry.reminderDays * 86_400_000).toISOString().slice(0, 10);
  return certs.map((c) => ({
    number: c.number,
    type: { code: c.typeCode, name: c.typeName },
    issuer: { department: c.department, name: c.issuerName },
    holderName: c.holderName,
    issuedAt: c.issuedAt,
    validFrom: c.validFrom,
    validUntil: c.validUntil,
    status: c.status,
    replaces: links.get(c.number)?.replaces ?? null,
    supersededBy: links.get(c.number)?.supersededBy ?? null,
    // Within the reminder window (EXPIRY_REMINDER_DAYS): the portal puts these first and flags them.
    expiringSoon: c.status === 'valid' && c.validUntil !== null && c.validUntil >= today && c.validUntil <= soon,
  }));
}

/** One of the holder's certificates; anyone else's is "not found", never "forbidden". */
export async function myCertificate(
  deps: Pick<ServiceDeps, 'db' | 'cache'>,
  holder: HolderActor,
  number: string,
): Promise<CachedCertificate> {
  const cert = await getCertificateCached(deps.db, deps.cache, number);
  if (!cert || cert.holderIdHash !== holder.holderHash) throw notFoundError(`No certificate ${number} of yours`);
  return cert;
}

/** What an audit action means to a holder. */
const USES: Record<string, string> = {
  'certificate.read': 'read',
  'certificate.download': 'download',
  'certificate.record': 'record',
  'certificate.credential': 'credential',
  'certificate.compare': 'compare',
  'certificate.fetch': 'fetch',
  'certificate.verify': 'verify',
  'show-code.redeem': 'show-code',
  'grant.expire': 'grant-expired',
  'certificate.revoke': 'revoke',
  'certificate.cancel': 'cancel',
  'holder-request.read': 'request-read',
  'holder-request.accept': 'request-accepted',
  'holder-request.reject': 'request-rejected',
  'holder-request.escalate': 'request-overdue',
};

export async function usageLog(
  deps: Pick<ServiceDeps, 'db'>,
  holder: HolderActor,
  page: { before?: number; limit: number },
) {
  // The holder's own doings are not "usage by others"; business systems' per-call api-call entries
  // repeat the route's own entry for the same request.
  const { entries, nextCursor } = await queryAuditByHolder(deps.db, {
    holderHash: holder.holderHash,
    excludeActorType: 'holder',
    before: page.before,
    limit: page.limit,
  });
  const shown = entries.filter((e) => e.category !== 'api-call');
  const departments = new Map((await listDepartments(deps.db)).map((d) => [d.code, d.name]));
  const roles = new Map<string, string[]>();
  for (const e of shown) {
    if (e.actorType !== 'user' || !e.actorId || roles.has(key(e))) continue;
    const user = await getUser(deps.db, Number(e.actorId));
    const held = (user?.roles ?? []).filter((r) => r.department === e.department || r.department === null);
    roles.set(
      key(e),
      held.map((r) => r.role),
    );
  }
  return {
    items: shown.map((e) => ({
      seq: e.seq,
      at: e.at,
      certificateNumber: e.objectId,
      use: (e.category === 'verification' ? 'verify' : USES[e.action]) ?? e.action,
      viaGrant: typeof e.detail?.grantId === 'string' ? e.detail.grantId : null,
      outcome: e.outcome,
      reason: typeof e.detail?.reason === 'string' ? e.detail.reason : null,
      who: {
        type: e.actorType,
        name: e.actorName,
        department: e.department,
        departmentName: e.department ? (departments.get(e.department) ?? e.department) : null,
        roles: (roles.get(key(e)) ?? []).map((r) => ({ role: r, ...ROLE_LABELS[r as keyof typeof ROLE_LABELS] })),
      },
    })),
    nextCursor,
  };
}

const key = (e: AuditEntry) => `${e.actorId}|${e.department}`;
