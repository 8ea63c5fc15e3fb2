import type { Knex } from 'knex';

/**
 * Departments, staff, role assignments, API clients (business systems), sessions and the
 * hash-chained audit log. Times the audit chain hashes are ISO strings, so MySQL and SQLite
 * hash the very same bytes.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('departments', (t) => {
    t.increments('id').primary();
    t.string('code', 32).notNullable().unique();
    t.string('name', 100).notNullable();
    /** Six-digit administrative region code (GB/T 2260 style). */
    t.string('region_code', 6).notNullable();
    /** The department's unified social credit code: the issuer code of GB/T 36904 identifiers. */
    t.string('credit_code', 18).nullable();
    t.integer('parent_id').unsigned().nullable().references('id').inTable('departments');
    t.timestamp('created_at', { precision: 3 }).notNullable();
    t.index(['region_code']);
  });

  await knex.schema.createTable('users', (t) => {
    t.increments('id').primary();
    t.string('username', 64).notNullable().unique();
    t.string('display_name', 100).notNullable();
    t.string('password_hash', 255).notNullable();
    t.boolean('active').notNullable().defaultTo(true);
    t.timestamp('created_at', { precision: 3 }).notNullable();
    t.timestamp('updated_at', { precision: 3 }).notNullable();
  });

  await knex.schema.createTable('role_assignments', (t) => {
    t.increments('id').primary();
    t.integer('user_id').unsigned().notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.string('role', 32).notNullable();
    /** Null for platform-wide roles. */
    t.integer('department_id').unsigned().nullable().references('id').inTable('departments');
    /** Unique even where department_id is null (NULLs never collide in a unique index). */
    t.string('scope_key', 80).notNullable();
    t.timestamp('created_at', { precision: 3 }).notNullable();
    t.unique(['scope_key']);
    t.index(['department_id', 'role']);
  });

  await knex.schema.createTable('api_clients', (t) => {
    t.string('id', 40).primary();
    t.string('name', 100).notNullable();
    t.integer('department_id').unsigned().notNullable().references('id').inTable('departments');
    /** SHA-256 of the secret: secrets are 256 random bits, so a slow KDF adds nothing. */
    t.string('secret_hash', 64).notNullable();
    t.text('scopes').notNullable();
    t.boolean('active').notNullable().defaultTo(true);
    t.timestamp('created_at', { precision: 3 }).notNullable();
    t.timestamp('last_used_at', { precision: 3 }).nullable();
  });

  await knex.schema.createTable('sessions', (t) => {
    /** SHA-256 of the bearer token; the token itself is never stored. */
    t.string('token_hash', 64).primary();
    t.integer('user_id').unsigned().notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.timestamp('created_at', { precision: 3 }).notNullable();
    t.timestamp('expires_at', { precision: 3 }).notNullable();
    t.timestamp('revoked_at', { precision: 3 }).nullable();
    t.index(['user_id']);
  });

  await knex.schema.createTable('audit_log', (t) => {
    /** Position in the hash chain: 1, 2, 3, … without gaps. */
    t.bigInteger('seq').unsigned().primary();
    t.string('at', 24).notNullable();
    t.string('category', 24).notNullable();
    t.string('action', 64).notNullable();
    t.string('outcome', 16).notNullable();
    t.string('actor_type', 16).notNullable();
    t.string('actor_id', 64).nullable();
    t.string('actor_name', 100).nullable();
    t.string('department', 32).nullable();
    t.string('object_type', 40).nullable();
    t.string('object_id', 128).nullable();
    t.string('request_id', 128).nullable();
    t.string('ip', 64).nullable();
    t.text('detail').nullable();
    t.string('prev_hash', 64).notNullable();
    t.string('hash', 64).notNullable();
    t.index(['category', 'seq']);
    t.index(['actor_id', 'seq']);
    t.index(['object_type', 'object_id']);
    t.index(['department', 'seq']);
    t.index(['at']);
  });

  /** One row: the chain's head. Writers lock it, so concurrent appends form one chain. */
  await knex.schema.createTable('audit_head', (t) => {
    t.integer('id').primary();
    t.bigInteger('seq').unsigned().notNullable();
    t.string('hash', 64).notNullable();
  });
  await knex('audit_head').insert({ id: 1, seq: 0, hash: '0'.repeat(64) });
}

export async function down(knex: Knex): Promise<void> {
  for (const t of ['audit_head', 'audit_log', 'sessions', 'api_clients', 'role_assignments', 'users', 'departments']) {
    await knex.schema.dropTable(t);
  }
}
