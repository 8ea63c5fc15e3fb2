import type { ApprovalStep, CertificateTypeDefinition, ValidityRule } from './certificate-type';
import { validityDates } from './certificate-type';
import { addDays } from './calendar';

/**
 * Kinds of application (docs/lifecycle.md): a first issue, or a change (变更), renewal (延续) or
 * reissue (补发/换发) of an issued certificate, which the new certificate supersedes. Pure rules,
 * shared by the API, the sealing activities and the web page's wording.
 */

export const APPLICATION_KINDS = ['new', 'change', 'renewal', 'reissue'] as const;
export type ApplicationKind = (typeof APPLICATION_KINDS)[number];
export type ReplacingKind = Exclude<ApplicationKind, 'new'>;

export const KIND_NAMES: Record<ApplicationKind, string> = {
  new: '新办',
  change: '变更',
  renewal: '延续',
  reissue: '补发/换发',
};

/** The chain a kind runs: its own if the type configures one, else the type's chain. */
export function chainForKind(
  kind: ApplicationKind,
  type: Pick<CertificateTypeDefinition, 'approvalChain' | 'chainsByKind'>,
): ApprovalStep[] {
  if (kind === 'new') return [...type.approvalChain];
  return [...(type.chainsByKind?.[kind] ?? type.approvalChain)];
}

export interface ReplacedCertificate {
  number: string;
  typeCode: string;
  department: string;
  status: string;
  validUntil: string | null;
}

export interface KindProblem {
  field: string;
  message: string;
  /** conflict: the certificate is in the wrong state (409); invalid: the request is wrong (422). */
  kind: 'invalid' | 'conflict';
}

/**
 * Whether `kind` may replace `old` (submission time). Only a valid certificate of the same type
 * is changed, renewed or reissued; renewal needs an end date to extend from.
 */
export function checkReplaceable(kind: ReplacingKind, typeCode: string, old: ReplacedCertificate): KindProblem[] {
  const out: KindProblem[] = [];
  if (old.typeCode !== typeCode)
    out.push({
      field: 'replaces',
      message: `${old.number} is of type ${old.typeCode}, not ${typeCode}`,
      kind: 'invalid',
    });
  if (old.status !== 'valid')
    out.push({
      field: 'replaces',
      message: `${old.number} is ${old.status}; only a valid certificate is changed, renewed or reissued`,
      kind: 'conflict',
    });
  if (kind === 'renewal' && old.validUntil === null)
    out.push({
      field: 'replaces',
      message: `${old.number} has no end date: there is nothing to renew`,
      kind: 'invalid',
    });
  return out;
}

/** Statuses the replaced certificate may have when its successor is stored: a renewal may come just after the end. */
export function supersedableStatuses(kind: ReplacingKind): string[] {
  return kind === 'renewal' ? ['valid', 'expired'] : ['valid'];
}

/**
 * Validity of a certificate. A renewal continues from the day after the old end date, for the
 * type's term; every other kind starts on its issue day.
 */
export function validityFor(
  rule: ValidityRule,
  issuedOn: string,
  renewalOf?: { validUntil: string | null },
): { validFrom: string; validUntil: string | null } {
  if (!renewalOf?.validUntil) return validityDates(rule, issuedOn);
  const from = addDays(renewalOf.validUntil, 1);
  return validityDates(rule, from);
}

/** The face data of a change: the old face, restricted to the version's fields, with the changed fields over it. */
export function mergeFace(
  fieldKeys: readonly string[],
  old: Record<string, unknown>,
  changes: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of fieldKeys) if (k in old) out[k] = old[k];
  return { ...out, ...changes };
}

/** Keys whose values differ between two faces (compared as JSON), in the order of `fieldKeys`. */
export function changedFields(
  fieldKeys: readonly string[],
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): string[] {
  return fieldKeys.filter((k) => JSON.stringify(before[k] ?? null) !== JSON.stringify(after[k] ?? null));
}

/**
 * When a suspension whose last day is `until` (China date) ends: midnight at the start of the
 * next day, China Standard Time (UTC+8, no daylight saving).
 */
export function suspensionEndsAt(until: string): string {
  return new Date(`${addDays(until, 1)}T00:00:00+08:00`).toISOString();
}
