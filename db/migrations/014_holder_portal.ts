import type { Knex } from 'knex';

/**
 * The holder portal (docs/holders.md): holders sign in through OpenID Connect, see their
 * certificates and who used them, grant departments use of one certificate, and show one
 * with a short code.
 *
 * `audit_log.holder_hash` is the holder lookup hash (platform/holder-crypto.ts) of the
 * certificate an entry is about, so a holder's usage log is one index range, not a scan.
 * It is an index beside the entry, not part of what the entry's hash covers (db/audit.ts):
 * the chain format stays as it is, and the column can be rebuilt from object_id.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('audit_log', (t) => {
    t.string('holder_hash', 64).nullable();
    t.index(['holder_hash', 'seq'], 'audit_log_holder');
  });

  /** One row per sign-in in flight: PKCE verifier, state and nonce, until the provider redirects back. */
  await knex.schema.createTable('holder_logins', (t) => {
    t.string('state_hash', 64).primary();
    t.string('code_verifier', 128).notNullable();
    t.string('nonce', 128).notNullable();
    t.string('return_to', 200).nullable();
    t.timestamp('expires_at', { precision: 3 }).notNullable();
  });

  await knex.schema.createTable('holder_sessions', (t) => {
    t.string('token_hash', 64).primary();
    /** person · entity: whose certificates this session sees. */
    t.string('holder_kind', 8).notNullable();
    t.string('holder_hash', 64).notNullable();
    t.text('holder_id_encrypted').notNullable();
    t.string('holder_name', 200).notNullable();
    /** For an entity: the person acting for it (name and the lookup hash of their ID). */
    t.string('agent_name', 200).nullable();
    t.string('agent_hash', 64).nullable();
    t.string('issuer', 300).notNullable();
    t.string('subject', 255).notNullable();
    t.timestamp('created_at', { precision: 3 }).notNullable();
    t.timestamp('expires_at', { precision: 3 }).notNullable();
    t.index(['holder_hash']);
  });

  /** Consent grants (用证授权): one department may use one certificate for one matter until a time. */
  await knex.schema.createTable('holder_grants', (t) => {
    t.string('id', 36).primary();
    t.string('certificate_number', 40).notNullable();
    t.string('holder_hash', 64).notNullable();
    t.string('department', 40).notNullable();
    /** Optionally only this business system of the department. */
    t.string('api_client_id', 64).nullable();
    t.string('matter', 200).notNullable();
    t.timestamp('valid_until', { precision: 3 }).notNullable();
    /** active · revoked · expired */
    t.string('status', 16).notNullable();
    t.string('granted_by', 200).notNullable();
    t.timestamp('created_at', { precision: 3 }).notNullable();
    t.timestamp('ended_at', { precision: 3 }).nullable();
    t.index(['holder_hash', 'created_at']);
    t.index(['certificate_number', 'department', 'status']);
  });

  /** Show-codes (亮证): single use, short lived; only the keyed hash of the code is kept. */
  await knex.schema.createTable('show_codes', (t) => {
    t.string('code_hash', 64).primary();
    t.string('certificate_number', 40).notNullable();
    t.string('holder_hash', 64).notNullable();
    t.string('matter', 200).nullable();
    t.timestamp('created_at', { precision: 3 }).notNullable();
    t.timestamp('expires_at', { precision: 3 }).notNullable();
    t.timestamp('redeemed_at', { precision: 3 }).nullable();
    t.string('redeemed_by', 200).nullable();
    t.index(['holder_hash', 'created_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['show_codes', 'holder_grants', 'holder_sessions', 'holder_logins']) {
    await knex.schema.dropTableIfExists(table);
  }
  await knex.schema.alterTable('audit_log', (t) => {
    t.dropIndex(['holder_hash', 'seq'], 'audit_log_holder');
    t.dropColumn('holder_hash');
  });
}
