import type { Client } from '@temporalio/client';
import { hasRole, type Actor, type Role } from '../../domain/access';
import {
  BUILT_IN_FIELDS,
  REQUEST_ROLE,
  REQUEST_STEP_NAMES,
  type RequestDecisionInput,
  type RequestKind,
  type RequestOutcome,
} from '../../domain/holder-request';
import { appendAudit } from '../../db/audit';
import { getCertificate, type CertificateRow } from '../../db/certificates';
import { getTypeVersion } from '../../db/certificate-types';
import {
  decideHolderRequest,
  deleteHolderRequest,
  findOpenRequest,
  getHolderRequest,
  insertHolderRequest,
  listHolderRequests,
  type HolderRequest,
} from '../../db/holder-requests';
import { decideTask, findRequestTask, markTaskOverdue, openRequestTask, type TaskRow } from '../../db/tasks';
import type { ServiceDeps } from '../deps';
import { ServiceError, conflictError, forbiddenError, invalidError, notFoundError } from '../errors';
import { START_DEADLINE_MS } from '../issuance/submit';
import { decideRequestUpdate, holderRequestWorkflow } from '../../workflows/holder-request';

/**
 * Holder requests (docs/holders.md, "Requests"): a signed-in holder asks the issuing department
 * to cancel one of their certificates (注销申请) or to correct wrong data (异议). Each runs the
 * workflow `holder-request-<id>-<filed at>` (workflows/holder-request.ts), which keeps a task in the
 * department's inbox: a cancellation is decided by a department admin (only they end
 * certificates, docs/access.md), a correction by a handler.
 */

type HolderActor = Extract<Actor, { kind: 'holder' }>;
export type RequestDeps = Pick<ServiceDeps, 'db' | 'config' | 'masterKey'> & { temporal: Client };

/**
 * `holder-request-<id>-<filed at, ms, base 36>`: the id alone could meet a run of an earlier
 * database in the same Temporal namespace (a restore to an earlier point, a second installation).
 */
export const requestWorkflowId = (r: Pick<HolderRequest, 'id' | 'createdAt'>) =>
  `holder-request-${r.id}-${Date.parse(r.createdAt).toString(36)}`;

/** The fields a correction may name: the type's face fields, then the holder, validity and "other". */
export async function correctableFields(db: ServiceDeps['db'], cert: CertificateRow) {
  const type = await getTypeVersion(db, cert.typeCode, cert.typeVersion);
  return [...(type?.faceFields ?? []).map((f) => ({ key: f.key, label: f.label })), ...BUILT_IN_FIELDS];
}

async function myCertificate(deps: Pick<ServiceDeps, 'db'>, holder: HolderActor, number: string) {
  const cert = await getCertificate(deps.db, number);
  // Someone else's certificate is "not found": the holder learns nothing about it.
  if (!cert || cert.holderIdHash !== holder.holderHash) throw notFoundError(`No certificate ${number} of yours`);
  return cert;
}

export async function requestFields(deps: Pick<ServiceDeps, 'db'>, holder: HolderActor, number: string) {
  return correctableFields(deps.db, await myCertificate(deps, holder, number));
}

export interface NewRequest {
  number: string;
  kind: RequestKind;
  field?: string;
  statement: string;
}

export async function createRequest(deps: RequestDeps, holder: HolderActor, r: NewRequest): Promise<HolderRequest> {
  const cert = await myCertificate(deps, holder, r.number);
  let field: { key: string; label: string } | null = null;
  if (r.kind === 'correct') {
    const fields = await correctableFields(deps.db, cert);
    field = fields.find((f) => f.key === r.field) ?? null;
    if (!field) {
      const message = r.field
        ? `not a field of this certificate: one of ${fields.map((f) => f.key).join(', ')}`
        : 'required for a correction';
      throw invalidError('Name the field that is wrong', [{ field: 'field', message }]);
    }
  } else if (r.field !== undefined) {
    throw invalidError('A cancellation names no field', [{ field: 'field', message: 'only for kind "correct"' }]);
  }
  if (cert.status !== 'valid' && cert.status !== 'suspended') {
    throw conflictError(`Certificate ${cert.number} is ${cert.status}: nothing to ${r.kind}`);
  }
  const open = await findOpenRequest(deps.db, cert.number, r.kind);
  if (open) throw conflictError(`Request ${open.id} about ${cert.number} is still open`);
  const request = await insertHolderRequest(deps.db, {
    certificateNumber: cert.number,
    holderHash: holder.holderHash,
    department: cert.department,
    kind: r.kind,
    field,
    statement: r.statement,
    requestedBy: holder.agentName ?? holder.name,
  });
  // Two filed at once both passed the check above: the later one gives way.
  const earlier = await findOpenRequest(deps.db, cert.number, r.kind, request.id);
  if (earlier) {
    await deleteHolderRequest(deps.db, request.id);
    throw conflictError(`Request ${earlier.id} about ${cert.number} is still open`);
  }
  try {
    await startRequestWorkflow(deps, request);
  } catch (err) {
    // No workflow, no task: leave no request behind that nobody would ever see (Temporal down: 503).
    await deleteHolderRequest(deps.db, request.id);
    throw err;
  }
  return request;
}

/** Temporal out of reach is a 503 with Retry-After within START_DEADLINE_MS, as for a submission. */
async function startRequestWorkflow(deps: RequestDeps, request: HolderRequest) {
  try {
    await deps.temporal.connection.withDeadline(Date.now() + START_DEADLINE_MS, () => startWorkflow(deps, request));
  } catch (err) {
    const why = `The workflow service is not reachable; try again shortly (${(err as Error).message})`;
    throw new ServiceError('unavailable', why, { code: 'TemporalUnavailable', retryAfter: 10 });
  }
}

function startWorkflow(deps: RequestDeps, request: HolderRequest) {
  return deps.temporal.workflow.start(holderRequestWorkflow, {
    taskQueue: deps.config.temporal.taskQueue,
    workflowId: requestWorkflowId(request),
    args: [
      {
        requestId: request.id,
        kind: request.kind,
        certificateNumber: request.certificateNumber,
        deadlineMs: Math.round(deps.config.holder.requestDeadlineHours * 3_600_000),
      },
    ],
    staticSummary: `${REQUEST_STEP_NAMES[request.kind]} ${request.certificateNumber}`,
  });
}

export function listMyRequests(deps: Pick<ServiceDeps, 'db'>, holder: HolderActor) {
  return listHolderRequests(deps.db, holder.holderHash);
}

export async function myRequest(deps: Pick<ServiceDeps, 'db'>, holder: HolderActor, id: number) {
  const request = await getHolderRequest(deps.db, id);
  if (!request || request.holderHash !== holder.holderHash) throw notFoundError(`No request ${id} of yours`);
  return request;
}

// ------------------------------------------------------------------ the department's side

/** Those who decide: the task's role in its department, or the department admin once it is overdue. */
export function mayDecide(actor: Actor, task: TaskRow): boolean {
  return (
    hasRole(actor, task.role as Role, task.department) ||
    (task.escalated && hasRole(actor, 'department-admin', task.department))
  );
}

/** The request as its department sees it; others get a 404 (they need not know of it). */
export async function departmentRequest(deps: Pick<ServiceDeps, 'db'>, actor: Actor, id: number) {
  const request = await getHolderRequest(deps.db, id);
  const task = request && (await findRequestTask(deps.db, id));
  const sees = (d: string) => hasRole(actor, 'handler', d) || hasRole(actor, 'department-admin', d);
  if (!request || !task || !sees(request.department)) throw notFoundError(`No request ${id} in your departments`);
  return { request, task };
}

/** Hands the decision to the request's workflow, which has the last word; returns the request as decided. */
export async function decideRequest(
  deps: RequestDeps,
  actor: Actor,
  id: number,
  d: Omit<RequestDecisionInput, 'actor'> & { actor: RequestDecisionInput['actor'] },
) {
  const { request, task } = await departmentRequest(deps, actor, id);
  if (!mayDecide(actor, task)) {
    const who = task.role === 'department-admin' ? 'a department admin' : `a ${task.role}`;
    throw forbiddenError(`Request ${id} is decided by ${who} of ${task.department}`);
  }
  if (request.status !== 'open' || task.status !== 'open') throw conflictError(`Request ${id} is ${request.status}`);
  if (task.assignee && d.actor.type === 'user' && String(task.assignee.id) !== d.actor.id) {
    throw conflictError(`Request ${id} is claimed by ${task.assignee.name}`);
  }
  await deps.temporal.workflow.getHandle(requestWorkflowId(request)).executeUpdate(decideRequestUpdate, { args: [d] });
  return (await getHolderRequest(deps.db, id))!;
}

// ------------------------------------------------------------------ the workflow's steps

export async function openTaskForRequest(
  deps: Pick<ServiceDeps, 'db' | 'masterKey'>,
  input: { requestId: number; deadlineMs: number },
): Promise<{ taskId: number; dueAt: string | null }> {
  const request = await getHolderRequest(deps.db, input.requestId);
  if (!request) throw notFoundError(`no request ${input.requestId}`);
  const existing = await findRequestTask(deps.db, request.id);
  if (existing) return { taskId: existing.id, dueAt: existing.dueAt };
  const cert = await getCertificate(deps.db, request.certificateNumber);
  if (!cert) throw notFoundError(`no certificate ${request.certificateNumber}`);
  const now = new Date();
  const task = await openRequestTask(deps.db, {
    requestId: request.id,
    applicationId: cert.applicationId,
    stepKey: `holder-${request.kind}`,
    stepName: REQUEST_STEP_NAMES[request.kind],
    role: REQUEST_ROLE[request.kind],
    department: request.department,
    typeCode: cert.typeCode,
    dueAt: new Date(now.getTime() + input.deadlineMs),
    createdAt: now,
  });
  return { taskId: task.id, dueAt: task.dueAt };
}

function audit(
  deps: Pick<ServiceDeps, 'db' | 'masterKey'>,
  request: HolderRequest,
  action: string,
  actor: { type: string; id: string | null; name: string },
  detail: Record<string, unknown>,
) {
  return appendAudit(
    deps.db,
    {
      category: 'operation',
      action,
      outcome: 'success',
      actor,
      department: request.department,
      object: { type: 'certificate', id: request.certificateNumber },
      holderHash: request.holderHash,
      detail: { requestId: request.id, kind: request.kind, ...detail },
    },
    deps.masterKey,
  );
}

export async function markRequestOverdue(deps: Pick<ServiceDeps, 'db' | 'masterKey'>, requestId: number) {
  const request = await getHolderRequest(deps.db, requestId);
  const task = await findRequestTask(deps.db, requestId);
  if (!request || !task || task.overdue) return;
  await markTaskOverdue(deps.db, task.id, true);
  const deadline = { type: 'system', id: 'deadline', name: 'deadline' };
  await audit(deps, request, 'holder-request.escalate', deadline, { taskId: task.id, dueAt: task.dueAt });
}

/** Records the decision on the task and the request, audited; idempotent (a retry finds it decided). */
export async function recordRequestDecision(
  deps: Pick<ServiceDeps, 'db' | 'masterKey'>,
  input: RequestDecisionInput & { requestId: number; cancelled: boolean | null },
): Promise<{ status: 'accepted' | 'rejected'; outcome: RequestOutcome }> {
  const request = await getHolderRequest(deps.db, input.requestId);
  if (!request) throw notFoundError(`no request ${input.requestId}`);
  const outcome: RequestOutcome =
    input.decision === 'reject'
      ? 'rejected'
      : request.kind === 'correct'
        ? 'will-correct'
        : input.cancelled
          ? 'cancelled'
          : 'already-ended';
  const status = input.decision === 'accept' ? 'accepted' : 'rejected';
  if (request.status !== 'open')
    return { status: request.status as typeof status, outcome: request.outcome as RequestOutcome };
  const task = await findRequestTask(deps.db, request.id);
  if (task)
    await decideTask(deps.db, task.id, {
      decision: input.decision,
      decidedBy: input.actor.name,
      comment: input.comment,
    });
  await decideHolderRequest(deps.db, request.id, {
    status,
    outcome,
    comment: input.comment,
    decidedBy: input.actor.name,
  });
  await audit(deps, request, `holder-request.${input.decision}`, input.actor, { outcome, comment: input.comment });
  return { status, outcome };
}
