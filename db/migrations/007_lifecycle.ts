import type { Knex } from 'knex';

/**
 * Notices about a certificate's life after issue (expiring soon, expired, revoked): one row per
 * (certificate, event), so a sweep or a retried notification never sends the same notice twice.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('status_notices', (t) => {
    t.bigIncrements('id').primary();
    t.string('number', 40).notNullable();
    /** expiring · expired · revoked · cancelled · withdrawn */
    t.string('event', 16).notNullable();
    t.string('application_id', 36).nullable();
    t.string('callback_url', 500).nullable();
    t.date('due_on').nullable();
    t.integer('attempts').notNullable().defaultTo(0);
    t.string('last_error', 1000).nullable();
    t.timestamp('delivered_at', { precision: 3 }).nullable();
    t.timestamp('created_at', { precision: 3 }).notNullable();
    t.unique(['number', 'event']);
    t.index(['event', 'delivered_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('status_notices');
}
