import type { Knex } from 'knex';

/**
 * Indexes for the gauges of GET /metrics (platform/metrics.ts), which count on every scrape:
 * applications by status, and open / overdue tasks. 004's indexes lead with the department,
 * so without these a scrape would read the whole table; with them each count reads only the
 * index (a GROUP BY over applications_status, a range of tasks_status_overdue).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('applications', (t) => {
    t.index(['status'], 'applications_status');
  });
  await knex.schema.alterTable('tasks', (t) => {
    t.index(['status', 'overdue'], 'tasks_status_overdue');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('applications', (t) => t.dropIndex([], 'applications_status'));
  await knex.schema.alterTable('tasks', (t) => t.dropIndex([], 'tasks_status_overdue'));
}
