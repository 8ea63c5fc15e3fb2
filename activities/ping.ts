import { recordPing as insertPing } from '../db/pings';
import type { ActivityDeps } from './index';

export function pingActivities({ db }: ActivityDeps) {
  return {
    async recordPing(input: { pingId: string; message: string; workflowId: string }) {
      const ping = await insertPing(db, {
        id: input.pingId,
        message: input.message,
        workflowId: input.workflowId,
        recordedAt: new Date(),
      });
      return { id: ping.id, recordedAt: ping.recordedAt.toISOString() };
    },
  };
}
