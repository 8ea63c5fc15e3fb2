import type { Knex } from 'knex';

/**
 * Certificate types with immutable versions, the platform's trust roots, and department
 * seals (seal image + signing certificate + encrypted private key).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('certificate_types', (t) => {
    t.increments('id').primary();
    t.string('code', 8).notNullable().unique();
    t.integer('department_id').unsigned().notNullable().references('id').inTable('departments');
    t.string('name', 100).notNullable();
    /** draft → published → retired. New applications use the published version. */
    t.string('status', 16).notNullable();
    t.integer('latest_version').notNullable();
    t.integer('published_version').nullable();
    t.timestamp('created_at', { precision: 3 }).notNullable();
    t.timestamp('updated_at', { precision: 3 }).notNullable();
    t.index(['department_id', 'status']);
  });

  await knex.schema.createTable('certificate_type_versions', (t) => {
    t.increments('id').primary();
    t.integer('type_id').unsigned().notNullable().references('id').inTable('certificate_types');
    t.integer('version').notNullable();
    /** The whole definition as JSON; never updated once written. */
    t.text('definition', 'mediumtext').notNullable();
    t.string('template_sha256', 64).nullable();
    t.string('created_by', 64).notNullable();
    t.timestamp('created_at', { precision: 3 }).notNullable();
    t.unique(['type_id', 'version']);
  });

  await knex.schema.createTable('trust_roots', (t) => {
    t.increments('id').primary();
    t.string('name', 100).notNullable();
    t.text('certificate_pem').notNullable();
    /** Null for an imported root whose key lives with the real CA. */
    t.text('encrypted_private_key').nullable();
    t.boolean('active').notNullable().defaultTo(true);
    t.timestamp('created_at', { precision: 3 }).notNullable();
  });

  await knex.schema.createTable('seals', (t) => {
    t.increments('id').primary();
    t.integer('department_id').unsigned().notNullable().references('id').inTable('departments');
    t.string('name', 100).notNullable();
    t.string('image_sha256', 64).notNullable();
    t.text('certificate_pem').notNullable();
    t.text('chain_pem').notNullable();
    t.text('encrypted_private_key').notNullable();
    t.string('serial', 64).notNullable();
    t.timestamp('not_before', { precision: 3 }).notNullable();
    t.timestamp('not_after', { precision: 3 }).notNullable();
    t.boolean('active').notNullable().defaultTo(true);
    t.boolean('is_default').notNullable().defaultTo(false);
    t.timestamp('created_at', { precision: 3 }).notNullable();
    t.index(['department_id', 'active']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const t of ['seals', 'trust_roots', 'certificate_type_versions', 'certificate_types'])
    await knex.schema.dropTable(t);
}
