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

  /**
   * Access requests (用证申请): a handler or business system of one department asks the issuing
   * department for a certificate, or for all of one holder's certificates of a type. The row is
   * the inbox item of its own kind (tasks rows belong to applications); the workflow
   * `access-request-<id>` keeps deadline, escalation, grants and notification.
   */
  await knex.schema.createTable('access_requests', (t) => {
    t.string('id', 36).primary();
    /** The issuing department asked (A) and the asking one (B). */
    t.string('department', 40).notNullable();
    t.string('requester_department', 40).notNullable();
    t.string('requester_type', 16).notNullable();
    t.string('requester_id', 64).notNullable();
    t.string('requester_name', 200).notNullable();
    t.string('api_client_id', 64).nullable();
    /** certificate: one number · holder-type: every valid certificate of the holder of the type. */
    t.string('scope', 16).notNullable();
    t.string('certificate_number', 40).nullable();
    t.string('holder_hash', 64).nullable();
    t.string('holder_kind', 8).nullable();
    t.string('type_code', 8).notNullable();
    t.string('matter', 200).notNullable();
    t.string('reason', 200).notNullable();
    t.timestamp('valid_until', { precision: 3 }).notNullable();
    t.string('callback_url', 500).nullable();
    /** open · approved · rejected · expired */
    t.string('status', 16).notNullable();
    t.timestamp('due_at', { precision: 3 }).nullable();
    t.boolean('overdue').notNullable().defaultTo(false);
    t.boolean('escalated').notNullable().defaultTo(false);
    t.string('decided_by', 200).nullable();
    t.string('comment', 500).nullable();
    t.integer('rule_id').nullable();
    /** JSON array of the grant ids approval made. */
    t.text('grant_ids').nullable();
    t.timestamp('notified_at', { precision: 3 }).nullable();
    t.timestamp('created_at', { precision: 3 }).notNullable();
    t.timestamp('decided_at', { precision: 3 }).nullable();
    t.index(['department', 'status', 'created_at']);
    t.index(['requester_department', 'created_at']);
  });

  /** Auto-approval rules (自动审批规则) of an issuing department: type + requesting department + matter. */
  await knex.schema.createTable('sharing_rules', (t) => {
    t.increments('id').primary();
    t.string('department', 40).notNullable();
    t.string('type_code', 8).notNullable();
    t.string('requester_department', 40).notNullable();
    t.string('matter', 200).notNullable();
    t.boolean('active').notNullable().defaultTo(true);
    t.string('created_by', 200).notNullable();
    t.timestamp('created_at', { precision: 3 }).notNullable();
    t.index(['department', 'type_code', 'requester_department']);
  });

  /**
   * Status changes to push to the external catalog (CATALOG_URL): revocation, expiry, and the
   * lifecycle issue's suspension and supersession — so the central catalog never keeps saying
   * "valid". pushed_at null with attempts > 0 is a failure a sealing officer sees and re-pushes.
   */
  await knex.schema.createTable('catalog_status_pushes', (t) => {
    t.increments('id').primary();
    t.string('certificate_number', 40).notNullable();
    t.string('department', 40).notNullable();
    t.string('status', 16).notNullable();
    t.integer('attempts').notNullable().defaultTo(0);
    t.string('last_error', 500).nullable();
    t.timestamp('last_attempt_at', { precision: 3 }).nullable();
    t.timestamp('pushed_at', { precision: 3 }).nullable();
    t.timestamp('created_at', { precision: 3 }).notNullable();
    t.unique(['certificate_number', 'status']);
    t.index(['pushed_at', 'department']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('catalog_status_pushes');
  await knex.schema.dropTableIfExists('sharing_rules');
  await knex.schema.dropTableIfExists('access_requests');
  await knex.schema.dropTableIfExists('annotated_copies');
  await knex.schema.dropTableIfExists('platform_seals');
  await knex.schema.alterTable('certificate_types', (t) => {
    t.dropColumn('sharing');
  });
}
