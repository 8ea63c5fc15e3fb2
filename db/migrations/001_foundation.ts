import type { Knex } from 'knex';

/** Pings prove the wiring: API → Temporal → worker → activity → database. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('pings', (t) => {
    t.string('id', 64).primary();
    t.string('message', 200).notNullable();
    t.string('workflow_id', 128).notNullable();
    t.timestamp('recorded_at', { precision: 3 }).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('pings');
}
