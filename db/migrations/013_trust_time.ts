import type { Knex } from 'knex';

/**
 * Trust that outlives keys (docs/trust.md): certflow's own time-stamping authority's
 * credential, seal revocations (which the root's CRL lists and verification checks against
 * the signature's timestamp), and the signed result per application — a timestamp makes
 * every signing attempt differ, so the sealing step remembers its first result and a retry
 * returns it instead of signing again.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('tsa_credentials', (t) => {
    t.increments('id').primary();
    t.text('certificate_pem').notNullable();
    t.text('chain_pem').notNullable();
    t.text('encrypted_private_key').notNullable();
    t.boolean('active').notNullable().defaultTo(true);
    t.timestamp('created_at', { precision: 3 }).notNullable();
  });
  await knex.schema.createTable('seal_revocations', (t) => {
    t.increments('id').primary();
    t.integer('seal_id').unsigned().notNullable().unique().references('id').inTable('seals');
    /** Hex serial of the seal's certificate, as the CRL lists it. */
    t.string('serial', 64).notNullable();
    /** keyCompromise | superseded (RFC 5280 CRLReason names). */
    t.string('reason', 20).notNullable();
    /** keyCompromise: from when the key is no longer trusted (the CRL's invalidity date). */
    t.timestamp('compromised_at', { precision: 3 }).nullable();
    t.timestamp('revoked_at', { precision: 3 }).notNullable();
    t.string('revoked_by', 100).notNullable();
    t.string('comment', 500).nullable();
  });
  await knex.schema.createTable('signed_certificates', (t) => {
    t.string('application_id', 36).primary().references('id').inTable('applications');
    t.string('signed_pdf_sha256', 64).notNullable();
    t.string('record_sha256', 64).notNullable();
    t.text('record_signature').notNullable();
    t.timestamp('created_at', { precision: 3 }).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('signed_certificates');
  await knex.schema.dropTable('seal_revocations');
  await knex.schema.dropTable('tsa_credentials');
}
