/**
 * A holder's request to the issuing department (docs/holders.md, "Requests"): cancel a
 * certificate (注销申请) or correct wrong data (异议). Pure: the workflow imports it.
 */

export const REQUEST_KINDS = ['cancel', 'correct'] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];

export const REQUEST_DECISIONS = ['accept', 'reject'] as const;
export type RequestDecision = (typeof REQUEST_DECISIONS)[number];

/**
 * What came of a request, as stored and shown to the holder:
 * - `cancelled`: accepted, the certificate is cancelled (注销);
 * - `already-ended`: accepted, but the certificate had ended already (expired, revoked…);
 * - `will-correct`: accepted, the department will issue a corrected certificate;
 * - `rejected`: not accepted (the handler's comment says why).
 */
export const REQUEST_OUTCOMES = ['cancelled', 'already-ended', 'will-correct', 'rejected'] as const;
export type RequestOutcome = (typeof REQUEST_OUTCOMES)[number];

/** Who decides: only a department admin may end a certificate (docs/access.md); a handler answers corrections. */
export const REQUEST_ROLE: Record<RequestKind, 'department-admin' | 'handler'> = {
  cancel: 'department-admin',
  correct: 'handler',
};

export const REQUEST_STEP_NAMES: Record<RequestKind, string> = {
  cancel: '注销申请',
  correct: '更正申请（异议）',
};

/** The holder's words about an outcome, for the gateway's message (the portal has its own i18n). */
export const OUTCOME_TEXT: Record<RequestOutcome, string> = {
  cancelled: '证照已注销',
  'already-ended': '证照此前已失效，无需注销',
  'will-correct': '部门将为您换发更正后的证照',
  rejected: '申请未予受理',
};

/** Fields a correction may name besides the type's face fields. */
export const BUILT_IN_FIELDS = [
  { key: 'holder.name', label: '持证人名称' },
  { key: 'holder.id', label: '持证人证件号码' },
  { key: 'validity', label: '有效期限' },
  { key: 'other', label: '其他' },
] as const;

export interface RequestDecisionInput {
  decision: RequestDecision;
  comment: string | null;
  actor: { type: 'user' | 'api-client' | 'system'; id: string; name: string };
}

export interface RequestState {
  requestId: number;
  status: 'open' | 'accepted' | 'rejected';
  outcome: RequestOutcome | null;
  overdue: boolean;
}
