import type { Knex } from 'knex';

/**
 * Reminders and requests of the holder portal (docs/holders.md):
 *
 * - `holder_requests`: a holder asks the issuing department to cancel a certificate (注销申请)
 *   or to correct wrong data (异议). Each runs the workflow `holder-request-<id>` and opens a
 *   task in the department's inbox: `tasks.request_id` names the request; the task's
 *   application is the certificate's, in round 0 (issuance rounds start at 1) with the
 *   request's id as step index, so the inbox's keys stay unique.
 * - `holder_contacts`: the identity provider's subject of the holder's last sign-in, which is
 *   how the notification gateway is told whom to reach — never the ID number or name.
 * - `status_notices.holder_read_at`: the holder has seen the reminder in the portal.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('holder_requests', (t) => {
    t.increments('id').primary();
    t.string('certificate_number', 40).notNullable();
    t.string('holder_hash', 64).notNullable();
    t.string('department', 32).notNullable();
    /** cancel · correct */
    t.string('kind', 16).notNullable();
    /** For a correction: the face field the holder says is wrong (its key and label). */
    t.string('field_key', 64).nullable();
    t.string('field_label', 100).nullable();
    /** The holder's own words: why cancel, or what is wrong and what is right. */
    t.text('statement').notNullable();
    /** open · accepted · rejected */
    t.string('status', 16).notNullable();
    /** What came of it, as the holder is told (e.g. the certificate was cancelled). */
    t.string('outcome', 500).nullable();
    t.text('comment').nullable();
    t.string('decided_by', 100).nullable();
    t.timestamp('decided_at', { precision: 3 }).nullable();
    t.string('requested_by', 200).notNullable();
    t.timestamp('created_at', { precision: 3 }).notNullable();
    t.index(['holder_hash', 'created_at']);
    t.index(['certificate_number', 'status']);
  });

  await knex.schema.alterTable('tasks', (t) => {
    t.integer('request_id').unsigned().nullable();
    t.index(['request_id']);
  });

  await knex.schema.createTable('holder_contacts', (t) => {
    t.string('holder_hash', 64).primary();
    t.string('holder_kind', 8).notNullable();
    t.string('issuer', 300).notNullable();
    t.string('subject', 255).notNullable();
    t.timestamp('updated_at', { precision: 3 }).notNullable();
  });

  await knex.schema.alterTable('status_notices', (t) => {
    t.timestamp('holder_read_at', { precision: 3 }).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('status_notices', (t) => t.dropColumn('holder_read_at'));
  await knex.schema.dropTable('holder_contacts');
  await knex.schema.alterTable('tasks', (t) => {
    t.dropIndex(['request_id']);
    t.dropColumn('request_id');
  });
  await knex.schema.dropTable('holder_requests');
}
