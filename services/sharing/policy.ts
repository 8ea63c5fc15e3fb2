import type { Actor } from '../../domain/access';
import { fetchPrecheck, grantAllowsFetch, type SharingCondition } from '../../domain/sharing';
import { chinaDate } from '../../domain/calendar';
import { getType } from '../../db/certificate-types';
import { activeGrantsFor, type HolderGrant } from '../../db/holders';
import type { CachedCertificate } from '../../db/certificate-cache';
import type { ServiceDeps } from '../deps';
import { statusNow } from '../verify';

/**
 * The one place that decides whether an actor may fetch (获取) a certificate of another
 * department (docs/sharing.md): the type's sharing condition, the certificate's state, and —
 * for conditional types — a live grant to the actor's department, whether the holder gave it
 * or an approved access request made it. Routes, the web search and the access-request flow
 * all ask this and never decide themselves.
 */

export type FetchAccess =
  | { allowed: true; basis: 'unconditional'; sharing: SharingCondition; department: string }
  | { allowed: true; basis: 'grant'; grant: HolderGrant; sharing: SharingCondition; department: string }
  | { allowed: false; reason: string; sharing: SharingCondition; needsRequest: boolean };

export async function fetchAccess(
  deps: Pick<ServiceDeps, 'db'>,
  actor: Actor,
  cert: CachedCertificate,
  now = new Date(),
): Promise<FetchAccess> {
  const sharing = (await getType(deps.db, cert.typeCode))?.sharing ?? 'conditional';
  const status = statusNow(cert, chinaDate(now.getTime())).effective;
  const pre = fetchPrecheck(actor, { sharing, department: cert.department, status });
  if (pre.decision.allowed) return { allowed: true, basis: 'unconditional', sharing, department: pre.departments[0]! };
  if (!pre.needsGrant) return { allowed: false, reason: pre.decision.reason, sharing, needsRequest: false };
  for (const department of pre.departments) {
    for (const grant of await activeGrantsFor(deps.db, cert.number, department)) {
      if (grantAllowsFetch(actor, grant, now).allowed) {
        return { allowed: true, basis: 'grant', grant, sharing, department };
      }
    }
  }
  return { allowed: false, reason: pre.decision.reason, sharing, needsRequest: true };
}
