import type { Knex } from 'knex';

/**
 * Staff at scale (docs/issuance.md, "Assignment and delegation"):
 *
 * - `delegations`: a staff member (the principal) names a colleague who works their tasks for
 *   a period, e.g. during leave. Revoked ones stay, for the audit trail.
 * - `tasks.acting_for`: set when a delegate decided; `decided_by` names the delegate, this the
 *   principal ("X acting for Y").
 * - `tasks.follow_up_at`: the date the person working the task wants to look at it again.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('delegations', (t) => {
    t.increments('id').primary();
    t.integer('user_id').unsigned().notNullable();
    t.integer('delegate_id').unsigned().notNullable();
    t.timestamp('starts_at', { precision: 3 }).notNullable();
    t.timestamp('ends_at', { precision: 3 }).notNullable();
    t.string('reason', 200).nullable();
    t.timestamp('created_at', { precision: 3 }).notNullable();
    t.timestamp('revoked_at', { precision: 3 }).nullable();
    t.index(['delegate_id', 'ends_at']);
    t.index(['user_id', 'ends_at']);
  });
  await knex.schema.alterTable('tasks', (t) => {
    t.string('acting_for', 100).nullable();
    t.timestamp('follow_up_at', { precision: 3 }).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tasks', (t) => {
    t.dropColumn('follow_up_at');
    t.dropColumn('acting_for');
  });
  await knex.schema.dropTable('delegations');
}
