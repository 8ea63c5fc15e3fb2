/**
 * What a data migration may need besides the database: the master key, which the database
 * never holds (platform/master-key.ts). db/knex.ts `migrate` sets it for the run and clears it
 * afterwards; a migration that needs it and finds none refuses rather than half-migrates.
 */
export const migrationContext: { masterKey?: Buffer } = {};
