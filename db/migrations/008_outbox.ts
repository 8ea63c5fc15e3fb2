import type { Knex } from 'knex';

/**
 * One outbox for every message certflow sends to a business system (the issuance callback,
 * revocation/cancellation/withdrawal notices, expiry reminders): one row per message, unique
 * by dedupe key, holding the exact body that is signed, and one row per delivery attempt.
 *
 * `callback_deliveries` (005) and `status_notices` (007) stay as they are: old delivery
 * attempts remain readable there, and `status_notices` still records which certificates were
 * reminded of their expiry. Nothing is copied over: a message that was still undelivered is
 * enqueued here by its activity's next retry, which rebuilds the same body.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('outbox', (t) => {
    t.bigIncrements('id').primary();
    /** certificate.issued · .revoked · .cancelled · .withdrawn · .expiring */
    t.string('event', 40).notNullable();
    /** `<event>:<application id or certificate number>`: the same message is never enqueued twice. */
    t.string('dedupe_key', 120).notNullable().unique();
    /** The certificate number or application id the message is about. */
    t.string('subject', 40).notNullable();
    t.string('target_url', 500).notNullable();
    /** Whose callback key signs it: `api-client:<id>` or `department:<code>`. */
    t.string('signing_owner', 100).notNullable();
    /** The exact JSON bytes that are sent and signed. */
    t.text('body').notNullable();
    t.string('body_sha256', 64).notNullable();
    /** pending · delivered · failed (refused for good) */
    t.string('status', 16).notNullable();
    t.integer('attempts').notNullable().defaultTo(0);
    t.string('last_error', 1000).nullable();
    t.integer('last_status_code').nullable();
    /** When a relay (the expiry sweep) may try a pending message again. */
    t.timestamp('next_attempt_at', { precision: 3 }).nullable();
    t.timestamp('created_at', { precision: 3 }).notNullable();
    t.timestamp('updated_at', { precision: 3 }).notNullable();
    t.timestamp('delivered_at', { precision: 3 }).nullable();
    t.index(['event', 'status', 'next_attempt_at']);
    t.index(['subject', 'event']);
  });

  /** Every POST of an outbox message, with its outcome. */
  await knex.schema.createTable('outbox_attempts', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('outbox_id').unsigned().notNullable().references('id').inTable('outbox');
    /** delivered · failed */
    t.string('outcome', 16).notNullable();
    t.integer('status_code').nullable();
    t.string('error', 1000).nullable();
    t.integer('duration_ms').notNullable();
    t.timestamp('at', { precision: 3 }).notNullable();
    t.index(['outbox_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('outbox_attempts');
  await knex.schema.dropTable('outbox');
}
