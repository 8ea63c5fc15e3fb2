import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { expirySweepWorkflow } from '../workflows/lifecycle';
import { expirySweepRunText } from '../domain/operations';

export const EXPIRY_SCHEDULE_ID = 'certflow-expiry-sweep';

/**
 * The Temporal Schedule that runs the expiry sweep. Created once (the first worker to start
 * wins); operators pause, trigger or change it in the Web UI's Schedules page.
 */
export async function ensureExpirySchedule(
  client: Client,
  opts: { taskQueue: string; everyMinutes: number; reminderDays: number },
): Promise<void> {
  try {
    await client.schedule.create({
      scheduleId: EXPIRY_SCHEDULE_ID,
      spec: { intervals: [{ every: `${opts.everyMinutes} minutes` }] },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
      action: {
        type: 'startWorkflow',
        workflowType: expirySweepWorkflow,
        workflowId: 'expiry-sweep',
        taskQueue: opts.taskQueue,
        args: [{ reminderDays: opts.reminderDays }],
        ...expirySweepRunText({ ...opts, scheduleId: EXPIRY_SCHEDULE_ID }),
      },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
}
