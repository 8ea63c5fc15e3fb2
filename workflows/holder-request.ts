import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  ApplicationFailure,
  condition,
  defineQuery,
  defineUpdate,
  executeChild,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { RequestDecisionInput, RequestKind, RequestState } from '../domain/holder-request';
import { revocationWorkflow } from './lifecycle';

/**
 * One holder request (docs/holders.md, "Requests"), workflow id `holder-request-<id>-<filed at>`:
 * opens a task in the issuing department's inbox, waits for the decision with a durable deadline
 * (past it the task is marked overdue and handed to the department admin too), records the outcome —
 * an accepted cancellation ends the certificate through the revocation workflow — and tells
 * the holder through the notification gateway. Holds no personal data: the request's text
 * stays in the database.
 */

const steps = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});
/** The gateway is another system: retried with backoff for about a day, like business systems' callbacks. */
const notify = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '2 hours', maximumAttempts: 16 },
});

export interface HolderRequestInput {
  requestId: number;
  kind: RequestKind;
  certificateNumber: string;
  deadlineMs: number;
}

export const decideRequestUpdate = defineUpdate<RequestState, [RequestDecisionInput]>('decideRequest');
export const requestStateQuery = defineQuery<RequestState>('requestState');

export async function holderRequestWorkflow(input: HolderRequestInput): Promise<RequestState> {
  const state: RequestState = { requestId: input.requestId, status: 'open', outcome: null, overdue: false };
  let decision: RequestDecisionInput | undefined;
  let settled = false;
  setHandler(requestStateQuery, () => state);
  setHandler(
    decideRequestUpdate,
    async (d) => {
      decision = d;
      await condition(() => settled);
      return state;
    },
    {
      validator: (_d: RequestDecisionInput) => {
        if (decision) {
          throw ApplicationFailure.create({ type: 'conflict', message: 'already decided', nonRetryable: true });
        }
      },
    },
  );

  setCurrentDetails(`request ${input.requestId} (${input.kind}) on ${input.certificateNumber}: opening the task`);
  await steps.openRequestTask({ requestId: input.requestId, deadlineMs: input.deadlineMs });
  setCurrentDetails(`request ${input.requestId}: waiting for the department's decision`);
  if (!(await condition(() => decision !== undefined, input.deadlineMs))) {
    await steps.markRequestOverdue({ requestId: input.requestId });
    state.overdue = true;
    setCurrentDetails(`request ${input.requestId}: past its deadline, handed to the department admin too`);
    await condition(() => decision !== undefined);
  }
  const d = decision!;
  let cancelled: boolean | null = null;
  if (d.decision === 'accept' && input.kind === 'cancel') {
    cancelled = await cancelCertificate(input, d);
  }
  const result = await steps.recordRequestDecision({
    requestId: input.requestId,
    decision: d.decision,
    comment: d.comment,
    actor: d.actor,
    cancelled,
  });
  state.status = result.status;
  state.outcome = result.outcome;
  settled = true;
  setCurrentDetails(`request ${input.requestId}: ${state.status} (${state.outcome}); telling the holder`);
  try {
    await notify.notifyHolderOfRequest({ requestId: input.requestId });
  } catch {
    // Every attempt is in the outbox (outbox, outbox_attempts) for operators; the portal shows the outcome anyway.
  }
  return state;
}

/** 注销 through the revocation workflow (status, cache, audit, the business system told); false if it had ended. */
async function cancelCertificate(input: HolderRequestInput, d: RequestDecisionInput): Promise<boolean> {
  const args = {
    number: input.certificateNumber,
    status: 'cancelled' as const,
    reason: `应持证人申请注销（申请 ${input.requestId}）`,
    actor: d.actor,
  };
  for (let attempt = 0; ; attempt++) {
    try {
      const result = await executeChild(revocationWorkflow, {
        workflowId: `revocation-${input.certificateNumber}`,
        args: [args],
      });
      return Boolean(result?.changed);
    } catch (err) {
      // A revocation of the same certificate is running right now: its outcome is ours once it ends.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError) || attempt >= 5) throw err;
      await sleep('2 seconds');
    }
  }
}
