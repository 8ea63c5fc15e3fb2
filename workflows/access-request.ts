import {
  condition,
  defineSignal,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  startChild,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { grantWorkflow } from './grant';

/**
 * One access request between departments (docs/sharing.md), workflow id `access-request-<id>`.
 * A rule of the issuing department approves it at once; otherwise it waits for a handler's
 * decision (the API writes it, then signals), and past the deadline marks it overdue and
 * escalated to the department admin, then waits on — until the requested period ends
 * undecided, when the request expires. An approved request's grants each get the ordinary
 * grant workflow (workflows/grant.ts) as an abandoned child: its durable timer ends the access.
 * Then the requester is told. Activities are thin: services/sharing/access-requests.ts.
 */

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 20 },
});

/** The requester's callback may be down for a while: retried for a day, backing off. */
const { notifyAccessRequester } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '2 hours', maximumAttempts: 30 },
});

export interface AccessRequestInput {
  requestId: string;
  /** Until overdue and escalated; null when a rule approves it. */
  deadlineMs: number | null;
  /** ISO end of the requested period: undecided by then, the request expires. */
  validUntil: string;
  ruleId: number | null;
}

export const decidedSignal = defineSignal('decided');

export async function accessRequestWorkflow(input: AccessRequestInput): Promise<string> {
  let decided = false;
  setHandler(decidedSignal, () => {
    decided = true;
  });
  if (input.ruleId !== null) {
    await acts.approveAccessRequestByRule({ requestId: input.requestId, ruleId: input.ruleId });
  } else {
    const deadline = { summary: 'deadline for the access request' };
    if (input.deadlineMs !== null && !(await condition(() => decided, input.deadlineMs, deadline))) {
      await acts.markAccessRequestOverdue({ requestId: input.requestId });
    }
    // Workflow time: Date.now() is deterministic here.
    const remaining = Math.max(1, Date.parse(input.validUntil) - Date.now());
    if (!(await condition(() => decided, remaining))) await acts.expireAccessRequest({ requestId: input.requestId });
  }
  const outcome = await acts.settleAccessRequest({ requestId: input.requestId });
  for (const g of outcome.grants) {
    await startChild(grantWorkflow, {
      workflowId: `grant-${g.id}`,
      args: [{ grantId: g.id, validUntil: g.validUntil }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
  }
  await notifyAccessRequester({ requestId: input.requestId });
  return outcome.status;
}
