import { z } from 'zod';
import type { Actor, Decision } from './access';

/**
 * Sharing between departments (docs/sharing.md): each certificate type carries the sharing
 * condition the national resource catalogues use, set by the issuing department's admin.
 * Pure rules here; services/sharing/policy.ts looks up the grants and decides.
 */

export const SHARING_CONDITIONS = ['unconditional', 'conditional', 'not-shared'] as const;
export type SharingCondition = (typeof SHARING_CONDITIONS)[number];
export const sharingConditionSchema = z.enum(SHARING_CONDITIONS);

export const SHARING_LABELS: Record<SharingCondition, { zh: string; en: string }> = {
  unconditional: { zh: '无条件共享', en: 'Shared unconditionally' },
  conditional: { zh: '有条件共享', en: 'Shared on condition' },
  'not-shared': { zh: '不予共享', en: 'Not shared' },
};

/**
 * The departments in which this actor may fetch (获取) certificates of others: a staff member's
 * handler departments, or a business system's own department when it has `certificates:fetch`.
 */
export function fetchingDepartments(actor: Actor): string[] {
  if (actor.kind === 'user') {
    return [...new Set(actor.roles.filter((r) => r.role === 'handler' && r.department).map((r) => r.department!))];
  }
  if (actor.kind === 'api-client') return actor.scopes.includes('certificates:fetch') ? [actor.department] : [];
  return [];
}

/** What the fetch rule looks at: the type's condition and the certificate's state. */
export interface FetchTarget {
  sharing: SharingCondition;
  /** The issuing department. */
  department: string;
  /** Effective status now (a valid row past its end date counts as expired). */
  status: string;
}

/**
 * The part of the fetch decision that needs no database: who may fetch at all, and whether the
 * type and the certificate's state allow it before any grant is looked at. `needsGrant` means:
 * allowed only with a live grant to one of `departments`.
 */
export function fetchPrecheck(
  actor: Actor,
  target: FetchTarget,
): { decision: Decision; departments: string[]; needsGrant: boolean } {
  const departments = fetchingDepartments(actor);
  const refuse = (reason: string) => ({
    decision: { allowed: false as const, reason },
    departments,
    needsGrant: false,
  });
  if (departments.length === 0) {
    return refuse(
      actor.kind === 'api-client'
        ? 'API client lacks scope certificates:fetch'
        : 'only handlers (经办人员) and business systems with certificates:fetch fetch certificates',
    );
  }
  if (target.sharing === 'not-shared') return refuse('this certificate type is not shared (不予共享)');
  if (target.status !== 'valid')
    return refuse(`the certificate is ${target.status}: only valid certificates are shared`);
  if (target.sharing === 'unconditional') return { decision: { allowed: true }, departments, needsGrant: false };
  return {
    decision: {
      allowed: false,
      reason: "conditional sharing (有条件共享): needs the holder's grant or an approved access request",
    },
    departments,
    needsGrant: true,
  };
}

/** What a grant (the holder's, or one made by an approved access request) says, for fetching. */
export interface FetchGrantTerms {
  department: string;
  apiClientId: string | null;
  status: 'active' | 'revoked' | 'expired';
  validUntil: string;
}

/**
 * Does this grant let the actor fetch? Its department must be one the actor fetches for, it must
 * be active and not past its end (the end counts even before the expiry timer fires), and a grant
 * naming one business system serves that one only.
 */
export function grantAllowsFetch(actor: Actor, grant: FetchGrantTerms, now: Date): Decision {
  if (grant.status !== 'active') return { allowed: false, reason: `the grant is ${grant.status}` };
  if (Date.parse(grant.validUntil) <= now.getTime()) return { allowed: false, reason: 'the grant has ended' };
  if (!fetchingDepartments(actor).includes(grant.department)) {
    return { allowed: false, reason: `the grant is for department ${grant.department}` };
  }
  if (grant.apiClientId && !(actor.kind === 'api-client' && actor.id === grant.apiClientId)) {
    return { allowed: false, reason: 'the grant names one business system only' };
  }
  return { allowed: true };
}
