import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { grantPermits, type Actor } from '../../domain/access';
import { appendAudit } from '../../db/audit';
import { getCertificate } from '../../db/certificates';
import {
  activeGrantsFor,
  endGrant,
  getGrant,
  insertGrant,
  listGrantsOfHolder,
  type HolderGrant,
} from '../../db/holders';
import { findApiClient, getDepartment } from '../../db/org';
import type { ServiceDeps } from '../deps';
import { invalidError, notFoundError } from '../errors';
import { grantWorkflow, revokeGrantSignal } from '../../workflows/grant';

/**
 * Consent grants (用证授权, docs/holders.md): the holder lets one department (optionally one of
 * its business systems) use one certificate for a stated matter until a time. Each grant runs a
 * workflow `grant-<id>` whose durable timer marks it expired (workflows/grant.ts).
 */

export type GrantDeps = Pick<ServiceDeps, 'db' | 'config' | 'masterKey'> & { temporal: Client };
type HolderActor = Extract<Actor, { kind: 'holder' }>;

/** A grant lasts at most a year: a standing permission is what the department's own access is for. */
const MAX_GRANT_MS = 366 * 86_400_000;

export interface NewGrant {
  number: string;
  department: string;
  apiClientId?: string;
  matter: string;
  validUntil: Date;
}

export async function createGrant(deps: GrantDeps, holder: HolderActor, g: NewGrant): Promise<HolderGrant> {
  const cert = await getCertificate(deps.db, g.number);
  // Someone else's certificate is "not found": the holder learns nothing about it.
  if (!cert || cert.holderIdHash !== holder.holderHash) throw notFoundError(`No certificate ${g.number} of yours`);
  if (!(await getDepartment(deps.db, g.department))) {
    throw invalidError('Unknown department', [{ field: 'department', message: `no department ${g.department}` }]);
  }
  if (g.apiClientId) {
    const client = await findApiClient(deps.db, g.apiClientId);
    if (!client || client.department !== g.department || !client.active) {
      const message = `no active business system ${g.apiClientId} in ${g.department}`;
      throw invalidError('Unknown business system', [{ field: 'apiClientId', message }]);
    }
  }
  const ms = g.validUntil.getTime() - Date.now();
  if (ms <= 0)
    throw invalidError('The grant must end in the future', [{ field: 'validUntil', message: 'is in the past' }]);
  if (ms > MAX_GRANT_MS)
    throw invalidError('A grant lasts at most a year', [{ field: 'validUntil', message: 'more than a year ahead' }]);
  const grant = await insertGrant(deps.db, {
    id: randomUUID(),
    certificateNumber: cert.number,
    holderHash: holder.holderHash,
    department: g.department,
    apiClientId: g.apiClientId ?? null,
    matter: g.matter,
    validUntil: g.validUntil.toISOString(),
    grantedBy: holder.agentName ?? holder.name,
  });
  await deps.temporal.workflow.start(grantWorkflow, {
    taskQueue: deps.config.temporal.taskQueue,
    workflowId: `grant-${grant.id}`,
    args: [{ grantId: grant.id, validUntil: grant.validUntil }],
  });
  return grant;
}

export async function revokeGrant(deps: GrantDeps, holder: HolderActor, id: string): Promise<HolderGrant> {
  const grant = await getGrant(deps.db, id);
  if (!grant || grant.holderHash !== holder.holderHash) throw notFoundError(`No grant ${id} of yours`);
  if (grant.status !== 'active') return grant;
  await endGrant(deps.db, id, 'revoked');
  try {
    await deps.temporal.workflow.getHandle(`grant-${id}`).signal(revokeGrantSignal);
  } catch (err) {
    // The timer may have fired a moment ago: the grant is ended in the database either way.
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  return (await getGrant(deps.db, id))!;
}

export function listGrants(deps: Pick<ServiceDeps, 'db'>, holder: HolderActor): Promise<HolderGrant[]> {
  return listGrantsOfHolder(deps.db, holder.holderHash);
}

/** The timer's end (workflows/grant.ts): marks the grant expired and audits it; false if it had ended. */
export async function expireGrant(deps: Pick<ServiceDeps, 'db' | 'masterKey'>, id: string): Promise<boolean> {
  const ended = await endGrant(deps.db, id, 'expired');
  const grant = await getGrant(deps.db, id);
  if (ended && grant) {
    await appendAudit(
      deps.db,
      {
        category: 'operation',
        action: 'grant.expire',
        outcome: 'success',
        actor: { type: 'system', id: null, name: 'grant-timer' },
        department: grant.department,
        object: { type: 'certificate', id: grant.certificateNumber },
        holderHash: grant.holderHash,
        detail: { grantId: id, matter: grant.matter },
      },
      deps.masterKey,
    );
  }
  return ended;
}

/**
 * The live grant, if any, under which this actor may read this certificate: a handler of the
 * granted department, or its business system (domain/access.ts grantPermits).
 */
export async function usableGrant(
  deps: Pick<ServiceDeps, 'db'>,
  actor: Actor,
  number: string,
): Promise<HolderGrant | undefined> {
  const departments =
    actor.kind === 'user'
      ? [...new Set(actor.roles.filter((r) => r.role === 'handler' && r.department).map((r) => r.department!))]
      : actor.kind === 'api-client'
        ? [actor.department]
        : [];
  const now = new Date();
  for (const department of departments) {
    for (const grant of await activeGrantsFor(deps.db, number, department)) {
      if (grantPermits(actor, grant, now).allowed) return grant;
    }
  }
  return undefined;
}
