import { createHash, randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { hasRole, type Actor } from '../../domain/access';
import { fetchingDepartments } from '../../domain/sharing';
import { appendAudit } from '../../db/audit';
import { getType } from '../../db/certificate-types';
import { getCertificateCached } from '../../db/certificate-cache';
import { getGrant, insertGrant } from '../../db/holders';
import { searchCatalog } from '../../db/catalog';
import {
  decideAccessRequest,
  getAccessRequest,
  insertAccessRequest,
  listAccessRequests,
  markAccessRequestNotified,
  markAccessRequestOverdue,
  matchingRule,
  setAccessRequestGrants,
  type AccessRequest,
} from '../../db/access-requests';
import { createHolderCrypto } from '../../platform/holder-crypto';
import type { HolderId } from '../../domain/holder';
import type { ServiceDeps } from '../deps';
import { conflictError, forbiddenError, invalidError, notFoundError } from '../errors';
import { deliver, enqueue } from '../outbox';
import { checkCallbackUrl } from '../callback-target';
import { findApiClient } from '../../db/org';
import { accessRequestWorkflow, decidedSignal } from '../../workflows/access-request';

/**
 * Access requests (用证申请, docs/sharing.md): a handler or business system of department B
 * asks department A for one certificate, or all of one holder's certificates of a type, for a
 * matter, a reason and a period. Each runs the workflow `access-request-<id>`
 * (workflows/access-request.ts): A's handlers decide in their inbox before a deadline (then it is
 * escalated to A's admin), or a rule of A's admin approves it at once. Approval makes grants of
 * the holder-grant kind (db/holders.ts) with their own expiry workflows, so one access check
 * (services/sharing/policy.ts) serves both; the requester is told in the inbox and by callback.
 */

export type RequestDeps = ServiceDeps & { temporal: Client };

const MAX_PERIOD_MS = 366 * 86_400_000;

export type RequestTarget = { certificateNumber: string } | { holderId: HolderId; typeCode: string };

export interface NewRequest {
  target: RequestTarget;
  matter: string;
  reason: string;
  validUntil: Date;
  /** The asking department, when a handler handles in several; default the first. */
  department?: string;
  /** Business systems: where the decision is sent (the outbound delivery path, services/outbox.ts). */
  callbackUrl?: string;
}

const actorName = (a: Actor) => (a.kind === 'user' ? a.username : a.kind === 'api-client' ? a.name : a.kind);

export async function createAccessRequest(deps: RequestDeps, actor: Actor, input: NewRequest): Promise<AccessRequest> {
  const mine = fetchingDepartments(actor);
  if (mine.length === 0)
    throw forbiddenError('only handlers and business systems with certificates:fetch ask for access');
  const requesterDepartment = input.department ?? mine[0]!;
  if (!mine.includes(requesterDepartment))
    throw invalidError('Not your department', [
      { field: 'department', message: `you do not handle in ${requesterDepartment}` },
    ]);

  let typeCode: string;
  let certificateNumber: string | null = null;
  let holderHash: string;
  let holderKind: 'person' | 'entity' | null = null;
  if ('certificateNumber' in input.target) {
    const cert = await getCertificateCached(deps.db, deps.cache, input.target.certificateNumber);
    if (!cert) throw notFoundError(`No certificate ${input.target.certificateNumber}`);
    [typeCode, certificateNumber, holderHash, holderKind] = [
      cert.typeCode,
      cert.number,
      cert.holderIdHash,
      cert.holderKind,
    ];
  } else {
    typeCode = input.target.typeCode;
    holderHash = createHolderCrypto(deps.masterKey).lookupHash(input.target.holderId);
  }
  const type = await getType(deps.db, typeCode);
  if (!type) throw notFoundError(`No certificate type ${typeCode}`);
  if (type.department === requesterDepartment)
    throw conflictError(`${typeCode} is your own department's: read it there, no request needed`);
  if (type.sharing === 'not-shared') throw forbiddenError(`${typeCode} is not shared (不予共享)`);
  if (type.sharing === 'unconditional')
    throw conflictError(
      `${typeCode} is shared unconditionally (无条件共享): fetch it directly`,
      'SharedUnconditionally',
    );
  const ms = input.validUntil.getTime() - Date.now();
  if (ms <= 0)
    throw invalidError('The period must end in the future', [{ field: 'validUntil', message: 'is in the past' }]);
  if (ms > MAX_PERIOD_MS)
    throw invalidError('Access lasts at most a year', [{ field: 'validUntil', message: 'more than a year ahead' }]);

  if (input.callbackUrl && actor.kind === 'api-client') {
    // Only to an origin registered for the API client (SSRF, docs/security.md).
    const client = await findApiClient(deps.db, actor.id);
    checkCallbackUrl(input.callbackUrl, client ? client.callbackOrigins : null, deps.config.callbacks.allowPrivate);
  }
  const rule = await matchingRule(deps.db, {
    department: type.department,
    typeCode,
    requesterDepartment,
    matter: input.matter,
  });
  const deadlineMs = Math.round(deps.config.sharing.requestDeadlineHours * 3_600_000);
  const request = await insertAccessRequest(deps.db, {
    id: randomUUID(),
    department: type.department,
    requesterDepartment,
    requesterType: actor.kind === 'api-client' ? 'api-client' : 'user',
    requesterId: actor.kind === 'user' ? String(actor.id) : actor.kind === 'api-client' ? actor.id : actor.kind,
    requesterName: actorName(actor),
    apiClientId: actor.kind === 'api-client' ? actor.id : null,
    scope: certificateNumber ? 'certificate' : 'holder-type',
    certificateNumber,
    holderHash,
    holderKind,
    typeCode,
    matter: input.matter,
    reason: input.reason,
    validUntil: input.validUntil.toISOString(),
    callbackUrl: actor.kind === 'api-client' ? (input.callbackUrl ?? null) : null,
    dueAt: rule ? null : new Date(Date.now() + deadlineMs).toISOString(),
  });
  await deps.temporal.workflow.start(accessRequestWorkflow, {
    taskQueue: deps.config.temporal.taskQueue,
    workflowId: `access-request-${request.id}`,
    args: [
      {
        requestId: request.id,
        deadlineMs: rule ? null : deadlineMs,
        validUntil: request.validUntil,
        ruleId: rule?.id ?? null,
      },
    ],
  });
  return request;
}

/** Who decides: A's handlers; once escalated, A's department admin too. */
export function mayDecide(actor: Actor, r: AccessRequest): boolean {
  return hasRole(actor, 'handler', r.department) || (r.escalated && hasRole(actor, 'department-admin', r.department));
}

/** A request the actor may see: A's deciders, or B's requesters. Others get a 404. */
export async function readAccessRequest(
  deps: Pick<ServiceDeps, 'db'>,
  actor: Actor,
  id: string,
): Promise<AccessRequest> {
  const r = await getAccessRequest(deps.db, id);
  const requester = r && fetchingDepartments(actor).includes(r.requesterDepartment);
  if (!r || !(mayDecide(actor, r) || requester || hasRole(actor, 'department-admin', r.department)))
    throw notFoundError(`No access request ${id}`);
  return r;
}

export async function decideByStaff(
  deps: RequestDeps,
  actor: Actor,
  id: string,
  decision: 'approve' | 'reject',
  comment: string | null,
): Promise<AccessRequest> {
  const r = await readAccessRequest(deps, actor, id);
  if (!mayDecide(actor, r)) throw forbiddenError(`only handlers of ${r.department} decide this request`);
  if (decision === 'reject' && !comment)
    throw invalidError('Say why the request is rejected', [{ field: 'comment', message: 'required when rejecting' }]);
  const status = decision === 'approve' ? 'approved' : 'rejected';
  if (!(await decideAccessRequest(deps.db, id, { status, decidedBy: actorName(actor), comment })))
    throw conflictError(`Access request ${id} is already ${(await getAccessRequest(deps.db, id))!.status}`);
  try {
    await deps.temporal.workflow.getHandle(`access-request-${id}`).signal(decidedSignal);
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  return (await getAccessRequest(deps.db, id))!;
}

export function listForActor(
  deps: Pick<ServiceDeps, 'db'>,
  actor: Actor,
  f: { box: 'received' | 'sent'; status?: AccessRequest['status']; limit: number },
): Promise<AccessRequest[]> {
  if (f.box === 'sent')
    return listAccessRequests(deps.db, { sent: fetchingDepartments(actor), status: f.status, limit: f.limit });
  const handles = actor.kind === 'user' ? actor.roles.filter((r) => r.role === 'handler' && r.department) : [];
  const admins = actor.kind === 'user' ? actor.roles.filter((r) => r.role === 'department-admin' && r.department) : [];
  return listAccessRequests(deps.db, {
    received: handles.map((r) => r.department!),
    escalatedTo: admins.map((r) => r.department!),
    status: f.status,
    limit: f.limit,
  });
}

// ------------------------------------------------------------------ the workflow's steps

type StepDeps = Pick<ServiceDeps, 'db' | 'masterKey' | 'config' | 'cache'>;

function audit(
  deps: StepDeps,
  r: AccessRequest,
  action: string,
  detail: Record<string, unknown>,
  department = r.department,
) {
  return appendAudit(
    deps.db,
    {
      category: 'operation',
      action,
      outcome: 'success',
      actor: { type: 'system', id: null, name: 'access-request' },
      department,
      object: r.certificateNumber
        ? { type: 'certificate', id: r.certificateNumber }
        : { type: 'access-request', id: r.id },
      ...(r.certificateNumber ? {} : { holderHash: r.holderHash }),
      detail: { requestId: r.id, matter: r.matter, ...detail },
    },
    deps.masterKey,
  );
}

export async function approveByRule(deps: StepDeps, requestId: string, ruleId: number): Promise<void> {
  const r = (await getAccessRequest(deps.db, requestId))!;
  if (
    await decideAccessRequest(deps.db, requestId, {
      status: 'approved',
      decidedBy: `rule:${ruleId}`,
      comment: null,
      ruleId,
    })
  )
    await audit(deps, r, 'access-request.auto-approve', { ruleId });
}

export async function markOverdue(deps: StepDeps, requestId: string): Promise<void> {
  await markAccessRequestOverdue(deps.db, requestId);
  const r = (await getAccessRequest(deps.db, requestId))!;
  if (r.status === 'open') await audit(deps, r, 'access-request.escalate', { dueAt: r.dueAt });
}

export async function expireRequest(deps: StepDeps, requestId: string): Promise<void> {
  const r = (await getAccessRequest(deps.db, requestId))!;
  if (
    await decideAccessRequest(deps.db, requestId, {
      status: 'expired',
      decidedBy: 'system',
      comment: 'the period ended undecided',
    })
  )
    await audit(deps, r, 'access-request.expire', {});
}

/** A grant id made from the request and the certificate: a retried step makes the same grant once. */
const grantIdFor = (requestId: string, number: string) => {
  const h = createHash('sha256').update(`${requestId}:${number}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

/** After a decision: an approved request's grants (made once), for the workflow to start their timers. */
export async function settleRequest(
  deps: StepDeps,
  requestId: string,
): Promise<{ status: AccessRequest['status']; grants: { id: string; validUntil: string }[] }> {
  const r = (await getAccessRequest(deps.db, requestId))!;
  if (r.status !== 'approved') return { status: r.status, grants: [] };
  const numbers = r.certificateNumber
    ? [r.certificateNumber]
    : (
        await searchCatalog(deps.db, {
          holderIdHash: r.holderHash!,
          typeCode: r.typeCode,
          departments: [r.department],
          status: 'valid',
          limit: 200,
        })
      ).items.map((c) => c.number);
  const grants: { id: string; validUntil: string }[] = [];
  for (const number of numbers) {
    const id = grantIdFor(r.id, number);
    if (!(await getGrant(deps.db, id))) {
      const cert = (await getCertificateCached(deps.db, deps.cache, number))!;
      await insertGrant(deps.db, {
        id,
        certificateNumber: number,
        holderHash: cert.holderIdHash,
        department: r.requesterDepartment,
        apiClientId: r.apiClientId,
        matter: r.matter,
        validUntil: r.validUntil,
        grantedBy: `${r.decidedBy ?? 'system'}（用证申请 ${r.id}）`,
      });
    }
    grants.push({ id, validUntil: r.validUntil });
  }
  await setAccessRequestGrants(
    deps.db,
    r.id,
    grants.map((g) => g.id),
  );
  await audit(
    deps,
    r,
    'access-request.grant',
    { grants: grants.map((g) => g.id), decidedBy: r.decidedBy },
    r.requesterDepartment,
  );
  return { status: r.status, grants };
}

/** Tells the requester: the request's state in their inbox, and a signed callback to a business system. */
export async function notifyRequester(deps: StepDeps, requestId: string): Promise<void> {
  const r = (await getAccessRequest(deps.db, requestId))!;
  if (r.callbackUrl && r.apiClientId) {
    const msg = await enqueue(deps.db, {
      event: 'access-request.decided',
      subject: r.id,
      targetUrl: r.callbackUrl,
      owner: { kind: 'api-client', id: r.apiClientId },
      body: {
        event: 'access-request.decided',
        requestId: r.id,
        status: r.status,
        certificateNumber: r.certificateNumber,
        typeCode: r.typeCode,
        matter: r.matter,
        validUntil: r.validUntil,
        grants: r.grantIds,
        comment: r.comment,
      },
    });
    await deliver(deps, msg.id);
  }
  await markAccessRequestNotified(deps.db, r.id);
}
