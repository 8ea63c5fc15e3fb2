import type { Knex } from 'knex';

/**
 * API clients name the origins their callbacks may go to (docs/security.md): a submitted
 * callbackUrl outside them is refused. Existing clients get none, so they must register their
 * origins before sending a callbackUrl again; a stored application's URL is still checked at
 * delivery (services/callback-target.ts).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('api_clients', (t) => {
    t.text('callback_origins').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('api_clients', (t) => {
    t.dropColumn('callback_origins');
  });
}
