import {
  ApplicationFailure,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  defineQuery,
  defineUpdate,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ActorRef } from '../domain/issuance';
import { statusNoticeRunText } from '../domain/operations';
import { notifyStatusChangeWorkflow } from './lifecycle';

/**
 * One suspension of a certificate (暂停, docs/lifecycle.md), from the status change to its
 * reinstatement (恢复): by the `reinstate` Update, or by a durable timer at the end date, which
 * survives worker restarts. The business system is told of both in child runs, like revocation.
 */

const steps = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute' },
});

export interface SuspensionInput {
  number: string;
  reason: string;
  /** The last day of the suspension (China date); null: until reinstated by hand. */
  until: string | null;
  /** When the timer reinstates (ISO instant; the start of the day after `until`); null: no timer. */
  reinstateAt: string | null;
  actor: ActorRef;
}

export type Suspended =
  | { changed: true; suspensionId: number; suspendedAt: string; until: string | null }
  | { changed: false; previous: string }
  | null;
export type Reinstated = { changed: boolean; status: string; reinstatedAt: string } | null;

export interface SuspensionState {
  number: string;
  suspended: Suspended | undefined;
  reinstateAt: string | null;
  reinstated: Reinstated | undefined;
}

export const suspensionStateQuery = defineQuery<SuspensionState>('suspensionState');
/** Answers once the status change is committed: the API waits on it. */
export const suspendedUpdate = defineUpdate<Suspended>('suspended');
export const reinstateUpdate = defineUpdate<Reinstated, [{ reason: string; actor: ActorRef }]>('reinstate');

const TIMER: ActorRef = { type: 'system', id: 'suspension-timer', name: 'suspension-timer' };

export async function suspensionWorkflow(input: SuspensionInput): Promise<SuspensionState> {
  const state: SuspensionState = {
    number: input.number,
    suspended: undefined,
    reinstateAt: input.reinstateAt,
    reinstated: undefined,
  };
  let request: { reason: string; actor: ActorRef } | undefined;
  setHandler(suspensionStateQuery, () => state);
  setHandler(suspendedUpdate, async () => {
    await condition(() => state.suspended !== undefined);
    return state.suspended!;
  });
  setHandler(
    reinstateUpdate,
    async (r) => {
      request = r;
      await condition(() => state.reinstated !== undefined);
      return state.reinstated!;
    },
    {
      validator: (r): void => {
        const refuse = (message: string) => {
          throw ApplicationFailure.create({ type: 'conflict', message, nonRetryable: true });
        };
        if (!r?.reason?.trim())
          throw ApplicationFailure.create({ type: 'invalid', message: 'a reason is required', nonRetryable: true });
        if (request || state.reinstated !== undefined) refuse(`${input.number} is being reinstated already`);
        if (!state.suspended?.changed) refuse(`${input.number} is not suspended by this run`);
      },
    },
  );

  setCurrentDetails(`suspending ${input.number}`);
  const key = `${workflowInfo().workflowId}:${workflowInfo().firstExecutionRunId}`;
  state.suspended = await steps.suspendCertificate.executeWithOptions({ summary: `suspend ${input.number}` }, [
    { number: input.number, reason: input.reason, until: input.until, actor: input.actor, key },
  ]);
  if (!state.suspended?.changed) {
    await condition(allHandlersFinished);
    return state;
  }
  const suspensionId = state.suspended.suspensionId;
  await notify('suspended', suspensionId);

  setCurrentDetails(
    `${input.number} suspended; ${input.reinstateAt ? `reinstated at ${input.reinstateAt}` : 'until reinstated by hand'}`,
  );
  const asked = () => request !== undefined;
  if (input.reinstateAt === null) await condition(asked);
  else await condition(asked, Math.max(1, Date.parse(input.reinstateAt) - Date.now()));
  const by = request ?? { reason: `suspension ended (last day ${input.until ?? '?'})`, actor: TIMER };
  state.reinstated = await steps.reinstateCertificate.executeWithOptions(
    { summary: `reinstate ${input.number} (${request ? 'by hand' : 'timer'})` },
    [{ suspensionId, number: input.number, reason: by.reason, actor: by.actor }],
  );
  if (state.reinstated?.changed) await notify('reinstated', suspensionId);
  setCurrentDetails(
    `${input.number}: ${state.reinstated?.changed ? 'reinstated' : `left ${state.reinstated?.status}`}`,
  );
  await condition(allHandlersFinished);
  return state;

  async function notify(event: 'suspended' | 'reinstated', id: number) {
    const notice = { number: input.number, event, suspensionId: id };
    await startChild(notifyStatusChangeWorkflow, {
      ...statusNoticeRunText(notice),
      workflowId: `notify-${event}-${input.number}-${id}`,
      args: [notice],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      taskQueue: workflowInfo().taskQueue,
    });
  }
}
