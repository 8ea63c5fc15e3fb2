import type { Knex } from 'knex';

/**
 * Sharing between departments (docs/sharing.md): each certificate type's sharing condition
 * (unconditional · conditional · not-shared), and the annotated copies (加注件) handed out by
 * fetch — what each one says, so verification can report it and its validity — with the
 * platform's own seal that signs them.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('certificate_types', (t) => {
    /** unconditional · conditional · not-shared; conditional until the department's admin decides. */
    t.string('sharing', 16).notNullable().defaultTo('conditional');
  });

  /** The platform's own seal (电子证照共享平台), which signs annotated copies; like the TSA's credential. */
  await knex.schema.createTable('platform_seals', (t) => {
    t.increments('id').primary();
    t.text('certificate_pem').notNullable();
    t.text('chain_pem').notNullable();
    t.text('encrypted_private_key').notNullable();
    t.boolean('active').notNullable().defaultTo(true);
    t.timestamp('created_at', { precision: 3 }).notNullable();
  });

  await knex.schema.createTable('annotated_copies', (t) => {
    t.string('id', 36).primary();
    t.string('certificate_number', 40).notNullable();
    /** The original signed PDF: the copy's first `original_length` bytes are exactly it. */
    t.string('original_sha256', 64).notNullable();
    t.integer('original_length').unsigned().notNullable();
    t.string('copy_sha256', 64).notNullable();
    /** The fetching department, and its business system when one fetched. */
    t.string('department', 40).notNullable();
    t.string('api_client_id', 64).nullable();
    t.string('fetched_by', 200).notNullable();
    /** unconditional · grant */
    t.string('basis', 16).notNullable();
    t.string('grant_id', 36).nullable();
    t.string('matter', 200).notNullable();
    t.string('reason', 200).notNullable();
    t.timestamp('valid_until', { precision: 3 }).notNullable();
    t.timestamp('created_at', { precision: 3 }).notNullable();
    t.index(['certificate_number', 'created_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('annotated_copies');
  await knex.schema.dropTableIfExists('platform_seals');
  await knex.schema.alterTable('certificate_types', (t) => {
    t.dropColumn('sharing');
  });
}
