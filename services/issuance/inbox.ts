import type { ServiceDeps } from '../deps';
import { notFoundError, invalidError } from '../errors';
import type { ApprovalStep } from '../../domain/certificate-type';
import type { ActorRef, ApplicationStatus, Decision, HistoryEntry } from '../../domain/issuance';
import { validateFaceData } from '../../domain/face-fields';
import { appendAudit } from '../../db/audit';
import { createFaceCrypto } from '../../platform/face-crypto';
import { addEvent, faceDataOf, getApplication, setApplicationStatus, setCurrentRevision } from '../../db/applications';
import { cancelOpenTasks, decideTask, findStepTask, getTask, markTaskOverdue, openStepTask } from '../../db/tasks';
import { getTypeVersion } from '../../db/certificate-types';

/**
 * What the issuance workflow asks of the world while the chain runs: keep the inbox
 * (tasks table) and the application's history in step, and audit every decision.
 * Each is idempotent, keyed by application, round and step, so a retry changes nothing.
 * activities/issuance.ts adapts these to Temporal.
 */

type Deps = Pick<ServiceDeps, 'db' | 'masterKey'>;

function audit(
  { db, masterKey }: Deps,
  applicationId: string,
  department: string,
  action: string,
  actor: ActorRef,
  detail: Record<string, unknown>,
) {
  return appendAudit(
    db,
    {
      category: 'operation',
      action,
      outcome: 'success',
      actor: { type: actor.type, id: actor.id, name: actor.name },
      department,
      object: { type: 'application', id: applicationId },
      detail,
    },
    masterKey,
  );
}

export interface MarkApplicationInput {
  applicationId: string;
  status: ApplicationStatus;
  event: (Omit<HistoryEntry, 'at'> & { key: string }) | null;
}

export async function markApplication({ db }: Deps, input: MarkApplicationInput): Promise<void> {
  await setApplicationStatus(db, input.applicationId, input.status);
  if (input.event) {
    const { key, kind, actor, step, comment } = input.event;
    await addEvent(db, { applicationId: input.applicationId, key, kind, actor: actor?.name, step, comment });
  }
}

export interface OpenTaskInput {
  applicationId: string;
  typeCode: string;
  department: string;
  round: number;
  stepIndex: number;
  step: ApprovalStep;
  deadlineMs: number | null;
}

export async function openTask({ db }: Deps, input: OpenTaskInput): Promise<{ taskId: number; dueAt: string | null }> {
  const existing = await findStepTask(db, input);
  if (existing) return { taskId: existing.id, dueAt: existing.dueAt };
  const now = new Date();
  const task = await openStepTask(db, {
    applicationId: input.applicationId,
    round: input.round,
    stepIndex: input.stepIndex,
    stepKey: input.step.key,
    stepName: input.step.name,
    role: input.step.role,
    department: input.department,
    typeCode: input.typeCode,
    dueAt: input.deadlineMs === null ? null : new Date(now.getTime() + input.deadlineMs),
    createdAt: now,
  });
  const key = `task:${task.id}`;
  await addEvent(db, { applicationId: input.applicationId, key, kind: 'task-opened', step: input.step.name });
  return { taskId: task.id, dueAt: task.dueAt };
}

export interface RecordDecisionInput {
  applicationId: string;
  taskId: number;
  decision: Decision;
  comment: string | null;
  actor: ActorRef;
  step: string;
}

export async function recordDecision(deps: Deps, input: RecordDecisionInput): Promise<void> {
  const { db } = deps;
  const task = await getTask(db, input.taskId);
  if (!task) throw notFoundError(`no task ${input.taskId}`);
  // A delegate's decision is recorded as "X acting for Y" (docs/issuance.md).
  const actingFor = input.actor.actingFor?.name ?? null;
  if (task.status === 'open') {
    const decided = { decision: input.decision, decidedBy: input.actor.name, actingFor, comment: input.comment };
    await decideTask(db, input.taskId, decided);
    const detail = { taskId: input.taskId, step: input.step, comment: input.comment, ...(actingFor && { actingFor }) };
    await audit(deps, input.applicationId, task.department, `task.${input.decision}`, input.actor, detail);
  }
  const kind = input.decision === 'approve' ? 'approved' : input.decision === 'reject' ? 'rejected' : 'returned';
  const { applicationId, step, comment } = input;
  const name = actingFor ? `${input.actor.name} acting for ${actingFor}` : input.actor.name;
  await addEvent(db, { applicationId, key: `decision:${input.taskId}`, kind, actor: name, step, comment });
}

export interface MarkOverdueInput {
  applicationId: string;
  taskId: number;
  step: string;
  escalate: boolean;
}

export async function markOverdue(deps: Deps, input: MarkOverdueInput): Promise<void> {
  const { db } = deps;
  const task = await getTask(db, input.taskId);
  if (!task) throw notFoundError(`no task ${input.taskId}`);
  if (!task.overdue) {
    await markTaskOverdue(db, input.taskId, input.escalate);
    const deadline: ActorRef = { type: 'system', id: 'deadline', name: 'deadline' };
    const action = input.escalate ? 'task.escalate' : 'task.remind';
    const detail = { taskId: input.taskId, step: input.step, dueAt: task.dueAt };
    await audit(deps, input.applicationId, task.department, action, deadline, detail);
  }
  const { applicationId, taskId, step } = input;
  const reminder = 'reminder: past the deadline';
  await addEvent(db, { applicationId, key: `overdue:${taskId}`, kind: 'overdue', step, comment: reminder });
  if (input.escalate) {
    const comment = 'escalated to the department admin';
    await addEvent(db, { applicationId, key: `escalated:${taskId}`, kind: 'escalated', step, comment });
  }
}

/** Makes a proposed revision current, after checking it again against the type version. */
export interface ApplyAmendmentInput {
  applicationId: string;
  revision: number;
  actor: ActorRef;
}

export async function applyAmendment(deps: Deps, input: ApplyAmendmentInput): Promise<void> {
  const { db } = deps;
  const app = await getApplication(db, input.applicationId);
  if (!app) throw notFoundError(`no application ${input.applicationId}`, 'Error');
  if (app.revision >= input.revision) return; // already applied by an earlier attempt
  const faceData = await faceDataOf(db, input.applicationId, input.revision);
  const type = await getTypeVersion(db, app.typeCode, app.typeVersion);
  const open = faceData && type ? createFaceCrypto(deps.masterKey).open(type.faceFields, faceData) : undefined;
  const check = open && type ? validateFaceData(type.faceFields, open) : undefined;
  if (!check?.ok) {
    throw invalidError(`revision ${input.revision} of ${input.applicationId} does not validate`, undefined, 'Error');
  }
  await setCurrentRevision(db, input.applicationId, input.revision);
  const { applicationId, revision, actor } = input;
  await addEvent(db, { applicationId, key: `amended:${revision}`, kind: 'amended', actor: actor.name });
  await audit(deps, applicationId, app.department, 'application.amend', actor, { revision });
}

export async function closeOpenTasks({ db }: Deps, input: { applicationId: string; reason: string }): Promise<void> {
  await cancelOpenTasks(db, input.applicationId, input.reason);
}

/** Stands in for the sealing pipeline until it is wired in: records that sealing happened. */
export async function recordSealedPlaceholder({ db }: Deps, input: { applicationId: string }): Promise<string | null> {
  const comment = 'sealing pipeline placeholder';
  await addEvent(db, { applicationId: input.applicationId, key: 'sealed-placeholder', kind: 'sealed', comment });
  return null;
}
