import type { Knex } from 'knex';

/**
 * Change, renewal, reissue, suspension (docs/lifecycle.md):
 * - an application may be a change (变更), renewal (延续) or reissue (补发/换发) of an existing
 *   certificate: its kind, the number it replaces and why;
 * - a certificate says which one superseded it (`superseded_by`, written in the same transaction
 *   that stores its successor, whose `replaces_number` points back), and until when it is suspended;
 * - every suspension (暂停) and its reinstatement (恢复) is a row of `certificate_suspensions`.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('applications', (t) => {
    t.string('kind', 8).notNullable().defaultTo('new');
    t.string('replaces_number', 40).nullable();
    t.string('kind_reason', 500).nullable();
    t.index(['replaces_number'], 'applications_replaces');
  });
  await knex.schema.alterTable('certificates', (t) => {
    t.string('superseded_by', 40).nullable();
    t.date('suspended_until').nullable();
    t.index(['replaces_number'], 'certificates_replaces');
  });
  await knex.schema.createTable('certificate_suspensions', (t) => {
    t.bigIncrements('id').primary();
    t.string('number', 40).notNullable();
    /** The request that made it (the workflow run): a retried activity finds its row. */
    t.string('request_key', 100).notNullable();
    t.string('reason', 500).notNullable();
    /** The last day of the suspension (China date); null: until reinstated by hand. */
    t.date('until').nullable();
    t.string('suspended_by', 200).notNullable();
    t.timestamp('suspended_at', { precision: 3 }).notNullable();
    t.timestamp('reinstated_at', { precision: 3 }).nullable();
    t.string('reinstated_by', 200).nullable();
    t.string('reinstate_reason', 500).nullable();
    t.unique(['number', 'request_key'], { indexName: 'certificate_suspensions_request' });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('certificate_suspensions');
  await knex.schema.alterTable('certificates', (t) => {
    t.dropIndex([], 'certificates_replaces');
    t.dropColumn('superseded_by');
    t.dropColumn('suspended_until');
  });
  await knex.schema.alterTable('applications', (t) => {
    t.dropIndex([], 'applications_replaces');
    t.dropColumn('kind');
    t.dropColumn('replaces_number');
    t.dropColumn('kind_reason');
  });
}
