import type { Knex } from 'knex';

/**
 * W3C credentials and the offline QR (docs/trust.md, "Verifiable credentials", "Offline QR").
 *
 * - `credential_status_lists`: one Bitstring Status List per department; `next_index` is the
 *   next free position (indexes are never reused), `version` grows with every change, so a
 *   signed list cached under (department, purpose, version) is never stale.
 * - `credential_status_entries`: a certificate's position in its department's list and its two
 *   bits (revocation, suspension).
 * - `offline_qr_signatures`: the compact signature printed in a certificate's QR code, written
 *   once: ECDSA is randomised, so a retried render must reuse it to give the same bytes.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('credential_status_lists', (t) => {
    t.string('department', 40).primary();
    t.integer('next_index').notNullable();
    t.integer('version').notNullable();
    t.timestamp('updated_at', { precision: 3 }).notNullable();
  });
  await knex.schema.createTable('credential_status_entries', (t) => {
    t.string('certificate_number', 40).primary();
    t.string('department', 40).notNullable();
    t.integer('status_index').notNullable();
    t.boolean('revoked').notNullable();
    t.boolean('suspended').notNullable();
    t.timestamp('updated_at', { precision: 3 }).notNullable();
    t.unique(['department', 'status_index']);
  });
  await knex.schema.createTable('offline_qr_signatures', (t) => {
    t.string('certificate_number', 40).primary();
    t.string('token', 400).notNullable();
    t.timestamp('created_at', { precision: 3 }).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['offline_qr_signatures', 'credential_status_entries', 'credential_status_lists']) {
    await knex.schema.dropTableIfExists(table);
  }
}
