/**
 * The rules of the issuance flow (docs/issuance.md), shared by the workflow's Update
 * validators and the API: who may decide a step, four-eyes, which chain a mode runs.
 * Pure code: the workflow imports it.
 */
import { hasRole, type Actor } from './access';
import type { ApprovalStep } from './certificate-type';

export const APPLICATION_STATUSES = [
  'in-review',
  'returned',
  'sealing',
  'issued',
  'rejected',
  'withdrawn',
  'failed',
  'cancelled',
] as const;
export type ApplicationStatus = (typeof APPLICATION_STATUSES)[number];
/**
 * Nothing more happens by the filler's or a reviewer's hand. `failed` waits only for an
 * operator's `retry` or `cancel` (docs/runbook.md); `cancelled` is an operator's end.
 */
export const FINAL_STATUSES: readonly ApplicationStatus[] = ['issued', 'rejected', 'withdrawn', 'failed', 'cancelled'];

/**
 * docs/issuance.md, "Modes": `review` runs the type's chain; `auto-seal` seals at once (the approval system
 * already approved); `online-seal` skips review and asks a sealing officer to seal.
 */
export const ISSUANCE_MODES = ['review', 'auto-seal', 'online-seal'] as const;
export type IssuanceMode = (typeof ISSUANCE_MODES)[number];

export function chainForMode(mode: IssuanceMode, typeChain: readonly ApprovalStep[]): ApprovalStep[] {
  if (mode === 'auto-seal') return [];
  if (mode === 'online-seal') {
    const sealSteps = typeChain.filter((s) => s.role === 'sealing-officer');
    return sealSteps.length ? sealSteps : [{ key: 'seal', name: '签章', role: 'sealing-officer' }];
  }
  return [...typeChain];
}

/** What a submission answers: with no step to review (auto-seal, an empty chain) it goes straight to sealing. */
export function initialStatus(chain: readonly ApprovalStep[]): ApplicationStatus {
  return chain.length === 0 ? 'sealing' : 'in-review';
}

export const DECISIONS = ['approve', 'reject', 'return'] as const;
export type Decision = (typeof DECISIONS)[number];

/** Who did something, as recorded in history; `key` identifies the person for four-eyes. */
export interface ActorRef {
  type: 'user' | 'api-client' | 'system';
  id: string;
  name: string;
  /** A delegate's decision: whom they acted for ("X acting for Y", docs/issuance.md). */
  actingFor?: { type: 'user'; id: string; name: string };
}

export function actorRef(actor: Actor): ActorRef {
  switch (actor.kind) {
    case 'user':
      return { type: 'user', id: String(actor.id), name: actor.username };
    case 'api-client':
      return { type: 'api-client', id: actor.id, name: actor.name };
    case 'system':
      return { type: 'system', id: actor.name, name: actor.name };
    case 'holder':
      // Holders never act in issuance (domain/access.ts refuses them); named for completeness only.
      return { type: 'system', id: 'holder', name: actor.agentName ?? actor.name };
    case 'anonymous':
      return { type: 'system', id: 'anonymous', name: 'anonymous' };
  }
}

export const sameActor = (a: ActorRef, b: ActorRef) => a.type === b.type && a.id === b.id;

export interface CurrentStep {
  index: number;
  key: string;
  name: string;
  role: ApprovalStep['role'];
  taskId: number;
  dueAt: string | null;
  overdue: boolean;
  escalated: boolean;
}

export interface HistoryEntry {
  at: string;
  kind:
    | 'submitted'
    | 'task-opened'
    | 'approved'
    | 'rejected'
    | 'returned'
    | 'amended'
    | 'withdrawn'
    | 'overdue'
    | 'escalated'
    | 'sealing'
    | 'issued'
    | 'failed'
    | 'retried'
    | 'cancelled'
    | 'catalog-failed'
    | 'callback-failed';
  actor?: ActorRef;
  step?: string;
  comment?: string;
}

/** What the workflow's Query answers: everything the API and the inbox show. */
export interface ApplicationState {
  applicationId: string;
  typeCode: string;
  typeVersion: number;
  department: string;
  mode: IssuanceMode;
  status: ApplicationStatus;
  /** 1, then +1 after each return for correction. */
  round: number;
  revision: number;
  filler: ActorRef;
  chain: ApprovalStep[];
  currentStep: CurrentStep | null;
  /** Who approved a step in this round: none of them may decide another (four-eyes). */
  approvers: ActorRef[];
  history: HistoryEntry[];
  certificateNumber: string | null;
  /** The last failure of the sealing pipeline, for operators. */
  error: string | null;
}

/**
 * Why a workflow Update is refused: `kind` becomes the failure type and `field` (the input field at fault,
 * for `invalid`) its details, which api/problem.ts problemOf turns into 403/409/422 naming the field.
 */
export type RuleViolation = { kind: 'forbidden' | 'conflict' | 'invalid'; message: string; field?: string };

export interface DecideInput {
  taskId: number;
  decision: Decision;
  comment?: string;
  actor: Actor;
  /**
   * Set when a delegate decides a task of their principal (docs/issuance.md, "Assignment and
   * delegation"): the principal's authority decides, and four-eyes holds for both people.
   */
  onBehalfOf?: Actor;
}

/** Why this decision may not be taken now, or undefined when it may. */
export function checkDecision(
  state: ApplicationState,
  input: DecideInput,
  deciding: boolean,
): RuleViolation | undefined {
  const step = state.currentStep;
  if (state.status !== 'in-review' || !step)
    return { kind: 'conflict', message: `no decision is awaited: the application is ${state.status}` };
  if (input.taskId !== step.taskId)
    return {
      kind: 'conflict',
      message: `task ${input.taskId} is not the current step (task ${step.taskId}, ${step.name})`,
    };
  if (deciding) return { kind: 'conflict', message: `a decision on task ${step.taskId} is already being recorded` };
  if (input.actor.kind !== 'user') return { kind: 'forbidden', message: 'only signed-in staff decide approval steps' };
  const principal = input.onBehalfOf;
  if (principal && (principal.kind !== 'user' || principal.id === input.actor.id))
    return { kind: 'forbidden', message: 'a delegate acts for another member of staff' };
  // A delegate decides with the principal's authority.
  const authority = principal ?? input.actor;
  const mayDecide =
    hasRole(authority, step.role, state.department) ||
    (step.escalated && hasRole(authority, 'department-admin', state.department));
  if (!mayDecide)
    return {
      kind: 'forbidden',
      message: `step "${step.name}" needs the ${step.role} role in department ${state.department}`,
    };
  // Four-eyes holds for the delegate and for the one they act for.
  for (const person of principal ? [input.actor, principal] : [input.actor]) {
    const who = actorRef(person);
    const you = person === input.actor ? 'you' : `${who.name}, for whom you act,`;
    if (sameActor(who, state.filler)) {
      const whom = person === input.actor ? '' : ` (${who.name}, for whom you act)`;
      return { kind: 'forbidden', message: `four-eyes: the filler of an application cannot decide on it${whom}` };
    }
    if (state.approvers.some((a) => sameActor(a, who) || (a.actingFor && sameActor(a.actingFor, who)))) {
      return { kind: 'forbidden', message: `four-eyes: ${you} already approved an earlier step of this application` };
    }
  }
  if (input.decision !== 'approve' && !input.comment?.trim()) {
    return {
      kind: 'invalid',
      field: 'comment',
      message: `a reason is required to ${input.decision === 'reject' ? 'reject' : 'return for correction'}`,
    };
  }
  return undefined;
}

export function checkAmend(state: ApplicationState, actor: Actor): RuleViolation | undefined {
  if (state.status !== 'returned')
    return { kind: 'conflict', message: `only a returned application can be amended; it is ${state.status}` };
  if (!sameActor(actorRef(actor), state.filler))
    return { kind: 'forbidden', message: 'only the filler who submitted the application may amend it' };
  return undefined;
}

export function checkWithdraw(state: ApplicationState, actor: Actor): RuleViolation | undefined {
  if (state.status !== 'in-review' && state.status !== 'returned') {
    return { kind: 'conflict', message: `an application that is ${state.status} cannot be withdrawn` };
  }
  if (!sameActor(actorRef(actor), state.filler))
    return { kind: 'forbidden', message: 'only the filler who submitted the application may withdraw it' };
  return undefined;
}
