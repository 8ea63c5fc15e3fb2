import { expireGrant } from '../services/holder/grants';
import type { ActivityDeps } from './index';

/** The grant workflow's one step (workflows/grant.ts): mark the grant expired, audited. */
export function grantActivities(deps: ActivityDeps) {
  return {
    async expireGrant(input: { grantId: string }): Promise<boolean> {
      return expireGrant(deps, input.grantId);
    },
  };
}
