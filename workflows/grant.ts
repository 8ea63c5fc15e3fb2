import { condition, defineQuery, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';

/**
 * One consent grant (用证授权, docs/holders.md), workflow id `grant-<id>`: a durable timer to the
 * grant's end, then the grant is marked expired. Revoking signals it and it ends at once. No
 * sweeper: the timer survives worker and server restarts. Access checks also compare the end
 * time themselves (domain/access.ts grantPermits), so access stops on time even if the timer
 * fires late.
 */

const { expireGrant } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 20 },
});

export interface GrantInput {
  grantId: string;
  /** ISO time the grant ends. */
  validUntil: string;
}

export const revokeGrantSignal = defineSignal('revoke');
export const grantStateQuery = defineQuery<'active' | 'revoked' | 'expired'>('grantState');

export async function grantWorkflow(input: GrantInput): Promise<'revoked' | 'expired'> {
  let state: 'active' | 'revoked' | 'expired' = 'active';
  setHandler(revokeGrantSignal, () => {
    if (state === 'active') state = 'revoked';
  });
  setHandler(grantStateQuery, () => state);
  // Workflow time: Date.now() is deterministic here (the time of the current workflow task).
  const remaining = Math.max(1, Date.parse(input.validUntil) - Date.now());
  if (await condition(() => state === 'revoked', remaining)) return 'revoked';
  await expireGrant({ grantId: input.grantId });
  state = 'expired';
  return 'expired';
}
