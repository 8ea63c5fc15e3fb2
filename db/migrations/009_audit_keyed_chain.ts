import type { Knex } from 'knex';

/**
 * The audit chain becomes keyed (db/audit.ts): entries from now on are hashed with an HMAC
 * whose key derives from the master key, which the database never holds, so someone who can
 * write the tables can no longer re-hash a rewritten chain. Entries already written keep
 * their plain SHA-256 (hash_version 1) and still verify; `keyed_from` is the first seq that
 * must be keyed, and the head carries a MAC over (seq, hash, keyed_from) from the first
 * keyed append on.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('audit_log', (t) => {
    t.tinyint('hash_version').notNullable().defaultTo(1);
  });
  await knex.schema.alterTable('audit_head', (t) => {
    t.bigInteger('keyed_from').unsigned().nullable();
    t.string('mac', 64).nullable();
  });
  const head = (await knex('audit_head').where({ id: 1 }).first()) as { seq: number | string };
  await knex('audit_head')
    .where({ id: 1 })
    .update({ keyed_from: Number(head.seq) + 1 });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('audit_head', (t) => {
    t.dropColumn('mac');
    t.dropColumn('keyed_from');
  });
  await knex.schema.alterTable('audit_log', (t) => {
    t.dropColumn('hash_version');
  });
}
