/**
 * What an operator reads about a run in the Temporal Web UI (static summary and details,
 * current details) and how a stuck application may be repaired (docs/runbook.md).
 * Pure code: the workflows, the API and main/schedules.ts all build their texts here, so the
 * rule "no personal data in Temporal" is kept in one place: these builders take type, step,
 * department, mode, ids and numbers only — never a holder's name, ID number or face data.
 */
import type { ActorRef, ApplicationState, CurrentStep, IssuanceMode } from './issuance';

export const RUNBOOK = 'docs/runbook.md';

export interface RunText {
  staticSummary: string;
  staticDetails: string;
}

/** Temporal single-line markdown: keep it one line and short. */
const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim().slice(0, 200);

export interface IssuanceRunFacts {
  applicationId: string;
  typeCode: string;
  typeVersion: number;
  /** The type's display name (营业执照); absent for callers that do not have it. */
  typeName?: string;
  department: string;
  mode: IssuanceMode;
  chain: readonly { name: string; role: string; deadlineHours?: number }[];
}

const typeLabel = (f: { typeCode: string; typeVersion?: number; typeName?: string }) =>
  `${f.typeName ? `${f.typeName} ` : ''}${f.typeCode}${f.typeVersion !== undefined ? ` v${f.typeVersion}` : ''}`;

export function issuanceRunText(f: IssuanceRunFacts): RunText {
  const chain = f.chain.length
    ? f.chain.map((s) => `${s.name} (${s.role}${s.deadlineHours ? `, ${s.deadlineHours} h` : ''})`).join(' → ')
    : 'none: sealed at once';
  return {
    staticSummary: oneLine(`签发 ${typeLabel(f)} · ${f.department} · ${f.mode}`),
    staticDetails: [
      `**Issuance** of a ${typeLabel(f)} certificate`,
      `- application: ${f.applicationId}`,
      `- type: ${typeLabel(f)}`,
      `- department: ${f.department}`,
      `- mode: ${f.mode}`,
      `- approval chain: ${chain}`,
      `- operator updates: \`retry\`, \`cancel\` (see ${RUNBOOK})`,
    ].join('\n'),
  };
}

export interface RevocationRunFacts {
  number: string;
  status: string;
  typeCode: string;
  typeName?: string;
  department: string;
}

export function revocationRunText(f: RevocationRunFacts): RunText {
  return {
    staticSummary: oneLine(`${f.status} ${f.number} · ${typeLabel(f)} · ${f.department}`),
    staticDetails: [
      `**End of a certificate** (${f.status})`,
      `- certificate: ${f.number}`,
      `- type: ${typeLabel(f)}`,
      `- department: ${f.department}`,
      '- then: a child run `notify-<status>-<number>` tells the business system',
    ].join('\n'),
  };
}

export function statusNoticeRunText(f: { number: string; event: string }): RunText {
  return {
    staticSummary: oneLine(`notify business system: ${f.number} ${f.event}`),
    staticDetails: `Tells the business system that certificate ${f.number} is now ${f.event}; retried for about a day.`,
  };
}

export function expirySweepRunText(f: { everyMinutes: number; reminderDays: number; scheduleId: string }): RunText {
  return {
    staticSummary: `expiry sweep · all types · all departments · every ${f.everyMinutes} min`,
    staticDetails: [
      '**Expiry sweep**: expires valid certificates past their last valid day, in batches,',
      `then records reminders for those ending within ${f.reminderDays} days.`,
      `- started by the Schedule \`${f.scheduleId}\`; pause or trigger it: ${RUNBOOK}#expiry-schedule`,
    ].join('\n'),
  };
}

export function pingRunText(): RunText {
  return {
    staticSummary: 'ping · API → Temporal → worker → database',
    staticDetails: 'Records one row through an activity: proves the whole path works. Safe to ignore.',
  };
}

export function resendCallbackRunText(f: { applicationId: string; typeCode: string; department: string }): RunText {
  return {
    staticSummary: oneLine(`resend certificate.issued · ${f.typeCode} · ${f.department}`),
    staticDetails: [
      '**Re-send of the certificate.issued callback** to the business system',
      `- application: ${f.applicationId}`,
      `- type: ${f.typeCode}`,
      `- department: ${f.department}`,
    ].join('\n'),
  };
}

/** 2026-12-02T10:14:00Z → "2026-12-02 18:14 +08:00": operators read Beijing time. */
export function chinaTime(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  return `${new Date(ms + 8 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ')} +08:00`;
}

/** "等待审核 · reviewer · market · due 2026-12-02 18:14 +08:00 · round 2". */
export function waitingDetails(step: CurrentStep, department: string, round: number): string {
  const due = step.dueAt ? ` · due ${chinaTime(step.dueAt)}` : '';
  const late = step.escalated ? ' · OVERDUE, escalated to department-admin' : step.overdue ? ' · OVERDUE' : '';
  return `等待${step.name} · ${step.role} · ${department}${due}${late} · round ${round}`;
}

export const SEALING_STAGES = {
  numbering: 'allocate certificate number',
  rendering: 'render DOCX from the template',
  converting: 'convert DOCX → PDF',
  signing: 'sign PDF and record with the seal',
  storing: 'store the certificate',
} as const;
export type SealingStage = keyof typeof SEALING_STAGES;

/** What the run shows while it is not waiting on a person. */
export function stateDetails(state: ApplicationState, stage?: SealingStage): string {
  switch (state.status) {
    case 'in-review':
      if (state.currentStep) return waitingDetails(state.currentStep, state.department, state.round);
      return `in review · round ${state.round}`;
    case 'returned':
      return (
        `returned for correction · waiting for the filler's amendment · ${state.department}` + ` · round ${state.round}`
      );
    case 'sealing':
      return `sealing: ${stage ?? 'starting'}`;
    case 'failed':
      return (
        `failed: ${state.error ?? 'unknown cause'}` +
        ` — fix the cause, then update \`retry\` (or \`cancel\`): ${RUNBOOK}#retry-a-failed-sealing`
      );
    case 'issued':
      return `issued ${state.certificateNumber ?? ''}`.trim();
    case 'cancelled':
      return 'cancelled by an operator (reason in the application history and the audit log)';
    default:
      return state.status;
  }
}

/** What an operator should do about each non-retryable sealing failure type (activities/sealing.ts). */
const FIXES: Record<string, string> = {
  TemplateError: 'correct the template of this type version (its tags must match the face fields), then retry',
  NoTemplate: 'upload a template for this type version, then retry',
  NotDocx: 'the rendered file is not a DOCX: upload a valid template, then retry',
  BlobMissing: 'restore the missing blob into the blob store from backup (same SHA-256 name), then retry',
  SealUnavailable: 'activate a seal for the department (Seals page), then retry',
  NoIssuerCode: "set the department's unified social credit code, then retry",
  NoTypeCode: 'give the type a national type code, then retry',
  RecordMismatch: 'the stored blobs disagree with the allocation: escalate to the developers; do not retry blindly',
  NotFound: 'the application, type or department row is gone: restore it, then retry',
  NotApproved: 'the application is not approved: cancel the run',
};

/** "missing data for template tags: x" → "… — fix: correct the template …; see docs/runbook.md". */
export function withFix(type: string, message: string): string {
  const fix = FIXES[type];
  return fix ? `${message} — fix: ${fix} (${RUNBOOK}#failure-types)` : message;
}

/** An operator's request through a workflow Update (Web UI, `temporal workflow update`, or the API). */
export interface OperatorRequest {
  reason: string;
  /** Who asks; the CLI may omit it (recorded as the Temporal operator). */
  operator?: ActorRef;
}

export const TEMPORAL_OPERATOR: ActorRef = { type: 'system', id: 'temporal-operator', name: 'temporal-operator' };

/** As RuleViolation (domain/issuance.ts): the kind and the field at fault travel to the API's 409/422. */
export type OperatorViolation = { kind: 'conflict' | 'invalid'; message: string; field?: string };

function checkReason(input: OperatorRequest | undefined): OperatorViolation | undefined {
  if (!input || typeof input.reason !== 'string' || !input.reason.trim()) {
    return { kind: 'invalid', field: 'reason', message: 'reason is required: say what was fixed or why' };
  }
  if (input.reason.length > 500) {
    return { kind: 'invalid', field: 'reason', message: 'reason is longer than 500 characters' };
  }
  const op = input.operator as Partial<ActorRef> | undefined;
  const isName = (v: unknown) => typeof v === 'string' && v.trim().length > 0 && v.length <= 100;
  if (
    op !== undefined &&
    (typeof op !== 'object' ||
      op === null ||
      !['user', 'api-client', 'system'].includes(op.type as string) ||
      !isName(op.id) ||
      !isName(op.name))
  ) {
    return {
      kind: 'invalid',
      field: 'operator',
      message: 'operator must be {"type":"user"|"system","id":"…","name":"…"} or left out',
    };
  }
  return undefined;
}

export function checkRetry(
  state: ApplicationState,
  input: OperatorRequest | undefined,
  pending: boolean,
): OperatorViolation | undefined {
  if (state.status !== 'failed') {
    return { kind: 'conflict', message: `only a failed sealing can be retried; the application is ${state.status}` };
  }
  if (pending) return { kind: 'conflict', message: 'a retry or cancel is already under way' };
  return checkReason(input);
}

export const CANCELLABLE: readonly ApplicationState['status'][] = ['in-review', 'returned', 'failed'];

export function checkCancel(
  state: ApplicationState,
  input: OperatorRequest | undefined,
  pending: boolean,
): OperatorViolation | undefined {
  if (!CANCELLABLE.includes(state.status)) {
    return { kind: 'conflict', message: `an application that is ${state.status} cannot be cancelled` };
  }
  if (pending) return { kind: 'conflict', message: 'a retry or cancel is already under way' };
  return checkReason(input);
}
