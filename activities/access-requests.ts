import {
  approveByRule,
  expireRequest,
  markOverdue,
  notifyRequester,
  settleRequest,
} from '../services/sharing/access-requests';
import { mappingFailures } from './failures';
import type { ActivityDeps } from './index';

/** The access-request workflow's steps (workflows/access-request.ts), over services/sharing/access-requests.ts. */
export function accessRequestActivities(deps: ActivityDeps) {
  return mappingFailures({
    approveAccessRequestByRule: (i: { requestId: string; ruleId: number }) =>
      approveByRule(deps, i.requestId, i.ruleId),
    markAccessRequestOverdue: (i: { requestId: string }) => markOverdue(deps, i.requestId),
    expireAccessRequest: (i: { requestId: string }) => expireRequest(deps, i.requestId),
    settleAccessRequest: (i: { requestId: string }) => settleRequest(deps, i.requestId),
    notifyAccessRequester: (i: { requestId: string }) => notifyRequester(deps, i.requestId),
  });
}
