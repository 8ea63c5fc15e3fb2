import { defineQuery, proxyActivities, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';

/** The smallest real workflow: proves API → Temporal → worker → activity → database. */

const { recordPing } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 5 },
});

export interface PingInput {
  pingId: string;
  message: string;
}

export interface PingState {
  pingId: string;
  message: string;
  status: 'recording' | 'recorded';
  recordedAt?: string;
}

export const pingStateQuery = defineQuery<PingState>('pingState');

export async function pingWorkflow(input: PingInput): Promise<PingState> {
  const state: PingState = { pingId: input.pingId, message: input.message, status: 'recording' };
  setHandler(pingStateQuery, () => state);
  setCurrentDetails('recording the ping row');
  const ping = await recordPing.executeWithOptions({ summary: 'record ping row' }, [
    { ...input, workflowId: workflowInfo().workflowId },
  ]);
  state.status = 'recorded';
  setCurrentDetails(`recorded at ${ping.recordedAt}`);
  state.recordedAt = ping.recordedAt;
  return state;
}
