import type { ActivityDeps } from './index';
import { mappingFailures } from './failures';
import type { RequestDecisionInput } from '../domain/holder-request';
import { markRequestOverdue, openTaskForRequest, recordRequestDecision } from '../services/holder/requests';
import { notifyRequestDecided } from '../services/holder/notify';

/** The holder request workflow's steps (workflows/holder-request.ts). Names are part of its histories: keep them. */
export function holderRequestActivities(deps: ActivityDeps) {
  return mappingFailures({
    async openRequestTask(input: { requestId: number; deadlineMs: number }) {
      return openTaskForRequest(deps, input);
    },
    async markRequestOverdue(input: { requestId: number }): Promise<void> {
      await markRequestOverdue(deps, input.requestId);
    },
    async recordRequestDecision(input: RequestDecisionInput & { requestId: number; cancelled: boolean | null }) {
      return recordRequestDecision(deps, input);
    },
    /** Throws (and is retried) until the notification gateway answers 2xx. */
    async notifyHolderOfRequest(input: { requestId: number }) {
      return notifyRequestDecided(deps, input.requestId);
    },
  });
}
