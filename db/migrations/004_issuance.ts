import type { Knex } from 'knex';

/**
 * Applications (one issuance workflow each), their face-data revisions, the inbox tasks the
 * workflow opens for each approval step, and the history of what happened to each application.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('applications', (t) => {
    t.string('id', 36).primary();
    t.string('type_code', 8).notNullable();
    t.integer('type_version').notNullable();
    t.string('department', 32).notNullable();
    t.string('mode', 16).notNullable();
    t.string('status', 16).notNullable();
    t.string('holder_kind', 8).notNullable();
    t.string('holder_name', 200).notNullable();
    /** HMAC of the holder's ID number: lookups without storing it in clear. */
    t.string('holder_id_hash', 64).notNullable();
    t.text('holder_id_encrypted').notNullable();
    t.integer('revision').notNullable();
    t.string('submitter_type', 16).notNullable();
    t.string('submitter_id', 64).notNullable();
    t.string('submitter_name', 100).nullable();
    /** Unique per submitter: the Idempotency-Key, or the external reference. */
    t.string('dedupe_key', 200).nullable().unique();
    t.string('external_ref', 128).nullable();
    t.string('callback_url', 500).nullable();
    t.string('workflow_id', 64).notNullable();
    t.string('certificate_number', 40).nullable();
    t.timestamp('created_at', { precision: 3 }).notNullable();
    t.timestamp('updated_at', { precision: 3 }).notNullable();
    t.index(['department', 'status', 'created_at']);
    t.index(['submitter_type', 'submitter_id', 'created_at']);
    t.index(['holder_id_hash']);
  });

  await knex.schema.createTable('application_revisions', (t) => {
    t.string('application_id', 36).notNullable().references('id').inTable('applications');
    t.integer('revision').notNullable();
    t.text('face_data', 'mediumtext').notNullable();
    t.string('created_by', 100).notNullable();
    t.timestamp('created_at', { precision: 3 }).notNullable();
    t.primary(['application_id', 'revision']);
  });

  await knex.schema.createTable('tasks', (t) => {
    t.increments('id').primary();
    t.string('application_id', 36).notNullable().references('id').inTable('applications');
    /** Each return for correction starts a new round of the chain. */
    t.integer('round').notNullable();
    t.integer('step_index').notNullable();
    t.string('step_key', 32).notNullable();
    t.string('step_name', 50).notNullable();
    t.string('role', 32).notNullable();
    t.string('department', 32).notNullable();
    t.string('type_code', 8).notNullable();
    /** open → done | cancelled. */
    t.string('status', 16).notNullable();
    t.integer('assignee_id').unsigned().nullable();
    t.string('assignee_name', 64).nullable();
    t.timestamp('due_at', { precision: 3 }).nullable();
    t.boolean('overdue').notNullable().defaultTo(false);
    t.boolean('escalated').notNullable().defaultTo(false);
    t.string('decision', 16).nullable();
    t.string('decided_by', 64).nullable();
    t.text('comment').nullable();
    t.timestamp('created_at', { precision: 3 }).notNullable();
    t.timestamp('decided_at', { precision: 3 }).nullable();
    t.unique(['application_id', 'round', 'step_index']);
    t.index(['department', 'role', 'status', 'due_at']);
    t.index(['assignee_id', 'status']);
  });

  await knex.schema.createTable('application_events', (t) => {
    t.increments('id').primary();
    t.string('application_id', 36).notNullable().references('id').inTable('applications');
    /** Makes a retried activity write its event once. */
    t.string('event_key', 120).notNullable().unique();
    t.string('kind', 24).notNullable();
    t.string('actor', 100).nullable();
    t.string('step', 50).nullable();
    t.text('comment').nullable();
    t.timestamp('at', { precision: 3 }).notNullable();
    t.index(['application_id', 'id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const t of ['application_events', 'tasks', 'application_revisions', 'applications'])
    await knex.schema.dropTable(t);
}
