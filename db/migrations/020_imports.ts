import type { Knex } from 'knex';

/**
 * Importing the certificates a city already has (docs/import.md).
 *
 * - `certificates.origin`: `issued` (sealed by certflow) or `imported` (registered as it was:
 *   no certflow PDF, record or seal, so `seal_id` may now be null); `original_number`: an
 *   imported certificate's own number when it was not in certflow's format and one was allocated.
 * - `certificate_imports`: one bulk upload (a CSV or XLSX blob) and its progress counters.
 * - `certificate_import_rows`: one row per processed file row. Its key (import id, row number) is
 *   what makes a batch idempotent: it is written in the same transaction as the certificate, so a
 *   batch retried after a crash skips the rows already done and never imports one twice.
 * - `certificate_attachments`: the original file (and its signature) of an imported certificate.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('certificates', (t) => {
    t.string('origin', 16).notNullable().defaultTo('issued');
    /** The number an imported certificate had when it was not a certflow number (it got one): findable by it. */
    t.string('original_number', 100).nullable();
    t.index(['original_number'], 'certificates_original_number');
  });
  // knex's setNullable looks the column up by the connection's database name, which a URI
  // connection does not give it on MySQL: say it directly there (SQLite rebuilds the table).
  if (knex.client.config.client === 'mysql2') {
    await knex.raw('ALTER TABLE certificates MODIFY seal_id INT UNSIGNED NULL');
  } else {
    await knex.schema.alterTable('certificates', (t) => {
      t.setNullable('seal_id');
    });
  }

  await knex.schema.createTable('certificate_imports', (t) => {
    t.string('id', 36).primary();
    t.string('department', 32).notNullable();
    t.string('type_code', 8).notNullable();
    t.integer('type_version').notNullable();
    /** csv · xlsx */
    t.string('format', 8).notNullable();
    t.string('file_name', 200).notNullable();
    t.string('file_sha256', 64).notNullable();
    /** pending · running · completed · failed */
    t.string('status', 16).notNullable();
    t.string('error', 1000).nullable();
    t.integer('total_rows').nullable();
    t.integer('rows_done').notNullable().defaultTo(0);
    t.integer('imported').notNullable().defaultTo(0);
    t.integer('rejected').notNullable().defaultTo(0);
    t.string('workflow_id', 64).notNullable();
    t.string('created_by', 100).notNullable();
    t.string('dedupe_key', 200).nullable().unique();
    t.timestamp('created_at', { precision: 3 }).notNullable();
    t.timestamp('started_at', { precision: 3 }).nullable();
    t.timestamp('finished_at', { precision: 3 }).nullable();
    t.index(['department', 'created_at']);
  });

  await knex.schema.createTable('certificate_import_rows', (t) => {
    t.string('import_id', 36).notNullable().references('id').inTable('certificate_imports');
    /** 1-based, the first data row after the header being 1 (a spreadsheet shows it as line 2). */
    t.integer('row_number').notNullable();
    /** imported · rejected */
    t.string('outcome', 16).notNullable();
    t.string('certificate_number', 40).nullable();
    t.string('field', 64).nullable();
    t.string('reason', 500).nullable();
    t.primary(['import_id', 'row_number']);
  });

  /** Keyed by application: a resealed import's number is known only once the pipeline allocated it. */
  await knex.schema.createTable('certificate_attachments', (t) => {
    t.string('application_id', 36).notNullable().references('id').inTable('applications');
    /** original-pdf · original-signature */
    t.string('kind', 24).notNullable();
    t.string('blob_sha256', 64).notNullable();
    t.string('content_type', 100).notNullable();
    t.timestamp('created_at', { precision: 3 }).notNullable();
    t.primary(['application_id', 'kind']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['certificate_attachments', 'certificate_import_rows', 'certificate_imports']) {
    await knex.schema.dropTableIfExists(table);
  }
  await knex.schema.alterTable('certificates', (t) => {
    t.dropIndex(['original_number'], 'certificates_original_number');
    t.dropColumn('original_number');
    t.dropColumn('origin');
  });
}
