import type { Db } from '../db/knex';
import { countApplicationsByStatus } from '../db/applications';
import { countOpenTasks } from '../db/tasks';
import { APPLICATION_STATUSES } from '../domain/issuance';
import { applicationsByStatus, openTasks, overdueTasks } from '../platform/metrics';

/**
 * Sets the gauges that describe the database rather than this process (applications by
 * status, open and overdue tasks), right before a scrape. Every status is reported, zeros
 * included, so a rate or an alert on `certflow_applications{status="failed"}` has a series.
 */
export async function refreshDatabaseGauges(db: Db): Promise<void> {
  const [byStatus, tasks] = await Promise.all([countApplicationsByStatus(db), countOpenTasks(db)]);
  for (const status of APPLICATION_STATUSES) applicationsByStatus.set({ status }, byStatus[status] ?? 0);
  openTasks.set(tasks.open);
  overdueTasks.set(tasks.overdue);
}
