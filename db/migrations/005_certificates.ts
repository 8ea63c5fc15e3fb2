import type { Knex } from 'knex';

/**
 * Issued certificates: the number counters, each application's number allocation, the
 * certificates themselves with the catalog metadata (docs/standards.md, "Catalog metadata"), the
 * DOCX → PDF renditions and the callback deliveries.
 *
 * Sized for tens of millions of certificates: an auto-increment primary key (InnoDB
 * clusters rows by it, so inserts append instead of splitting pages the way a random UUID
 * key would), narrow secondary indexes that lead with the equality columns of the queries
 * they serve, and no index on free text. InnoDB appends the primary key to every secondary
 * index, so `(…, issued_at)` indexes also give a stable keyset-pagination order `(issued_at, id)`.
 */
export async function up(knex: Knex): Promise<void> {
  /** The last serial taken per (type, region, year); a number's serial is counted here. */
  await knex.schema.createTable('certificate_numbers', (t) => {
    t.string('type_code', 8).notNullable();
    t.string('region_code', 6).notNullable();
    t.integer('year').notNullable();
    t.integer('last_serial').notNullable();
    t.primary(['type_code', 'region_code', 'year']);
  });

  /**
   * One row per application that has a number: written in the same transaction as the serial
   * and applications.certificate_number, so a retried allocation finds it and returns the same
   * number. It also fixes what must not change between retries of later steps: the issue time
   * (which becomes the signing time), the issue date and the seal.
   */
  await knex.schema.createTable('certificate_allocations', (t) => {
    t.string('application_id', 36).primary().references('id').inTable('applications');
    t.string('number', 40).notNullable().unique();
    t.string('identifier', 100).notNullable().unique();
    t.string('type_code', 8).notNullable();
    t.string('region_code', 6).notNullable();
    t.integer('year').notNullable();
    t.integer('serial').notNullable();
    /** The department's name now: a rename later must not change what a retried step prints or signs. */
    t.string('issuer_name', 100).notNullable();
    t.string('issuer_code', 18).notNullable();
    /** True when the department had no credit code and a development placeholder was used. */
    t.boolean('issuer_code_placeholder').notNullable();
    t.integer('seal_id').unsigned().notNullable().references('id').inTable('seals');
    /** Whole seconds: it is the PDF and record signing time, and those carry seconds. */
    t.timestamp('allocated_at', { precision: 3 }).notNullable();
    /** YYYY-MM-DD in China Standard Time: the issue date printed and the start of validity. */
    t.string('issued_on', 10).notNullable();
  });

  await knex.schema.createTable('certificates', (t) => {
    t.bigIncrements('id').primary();
    t.string('number', 40).notNullable().unique();
    t.string('identifier', 100).notNullable().unique();
    /** One certificate per application: the store step is insert-or-return on this key. */
    t.string('application_id', 36).notNullable().unique().references('id').inTable('applications');
    t.string('type_code', 8).notNullable();
    t.integer('type_version').notNullable();
    t.string('type_name', 100).notNullable();
    /** Issuer: the department's code and name at issue time, its credit code, its region. */
    t.string('department', 32).notNullable();
    t.string('issuer_name', 100).notNullable();
    t.string('issuer_code', 18).notNullable();
    t.string('region_code', 6).notNullable();
    t.string('holder_kind', 8).notNullable();
    /** 111 resident ID, 001 unified social credit code. */
    t.string('holder_code_type', 3).notNullable();
    t.string('holder_name', 200).notNullable();
    t.string('holder_id_hash', 64).notNullable();
    t.text('holder_id_encrypted').notNullable();
    t.text('face_data', 'mediumtext').notNullable();
    t.timestamp('issued_at', { precision: 3 }).notNullable();
    t.date('valid_from').notNullable();
    /** Null: permanent. */
    t.date('valid_until').nullable();
    /** valid · suspended · withdrawn · cancelled · expired · revoked (codes 01–05, 07: docs/standards.md). */
    t.string('status', 16).notNullable();
    t.timestamp('status_changed_at', { precision: 3 }).notNullable();
    t.string('status_reason', 500).nullable();
    /** The certificate this one renews or replaces (docs/standards.md); null for a first issue. */
    t.string('replaces_number', 40).nullable();
    t.string('pdf_sha256', 64).notNullable();
    t.string('docx_sha256', 64).notNullable();
    t.string('record_sha256', 64).notNullable();
    /** The canonical JSON bytes that were signed, as text. */
    t.text('record', 'mediumtext').notNullable();
    /** Base64 DER CMS SignedData, detached, over `record`. */
    t.text('record_signature').notNullable();
    t.string('signer_serial', 64).notNullable();
    t.integer('seal_id').unsigned().notNullable().references('id').inTable('seals');
    t.string('seal_name', 100).notNullable();
    t.string('sealed_by', 100).notNullable();
    t.timestamp('sealed_at', { precision: 3 }).notNullable();
    /** Null until the catalog accepted it; with attempts > 0 it is listed under /catalog/failed. */
    t.timestamp('catalog_registered_at', { precision: 3 }).nullable();
    t.integer('catalog_attempts').notNullable().defaultTo(0);
    t.string('catalog_last_error', 1000).nullable();
    t.timestamp('catalog_last_attempt_at', { precision: 3 }).nullable();
    t.timestamp('created_at', { precision: 3 }).notNullable();

    // "One number, many certificates": a holder's certificates, optionally of one type.
    t.index(['holder_id_hash', 'type_code'], 'certificates_holder');
    // Catalog searches by type (+ department) over time, and a department's by status over time.
    t.index(['type_code', 'department', 'issued_at'], 'certificates_type_dept_issued');
    t.index(['department', 'status', 'issued_at'], 'certificates_dept_status_issued');
    t.index(['region_code', 'status', 'issued_at'], 'certificates_region_status_issued');
    // Expiry sweep: status = 'valid' AND valid_until < today, equality column first.
    t.index(['status', 'valid_until'], 'certificates_expiry');
    // Failed catalog pushes are few among millions: NULL-first index on the registration time.
    t.index(['catalog_registered_at', 'department'], 'certificates_catalog_pending');
  });

  /**
   * DOCX → PDF results. LibreOffice's output differs between runs (dates, document ID, font
   * program bytes), so the conversion step is made idempotent by remembering its result: the
   * row is written before the PDF blob, so no PDF blob exists that no row names.
   */
  await knex.schema.createTable('pdf_renditions', (t) => {
    t.string('docx_sha256', 64).primary();
    t.string('pdf_sha256', 64).notNullable();
    t.integer('convert_ms').notNullable();
    t.timestamp('created_at', { precision: 3 }).notNullable();
  });

  /** Every attempt to call an application's callback URL, with its outcome. */
  await knex.schema.createTable('callback_deliveries', (t) => {
    t.bigIncrements('id').primary();
    t.string('application_id', 36).notNullable().references('id').inTable('applications');
    t.string('url', 500).notNullable();
    /** delivered · failed */
    t.string('outcome', 16).notNullable();
    t.integer('status_code').nullable();
    t.string('error', 1000).nullable();
    t.integer('duration_ms').notNullable();
    t.string('body_sha256', 64).notNullable();
    t.timestamp('at', { precision: 3 }).notNullable();
    t.index(['application_id', 'outcome']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const t of [
    'callback_deliveries',
    'pdf_renditions',
    'certificates',
    'certificate_allocations',
    'certificate_numbers',
  ]) {
    await knex.schema.dropTable(t);
  }
}
