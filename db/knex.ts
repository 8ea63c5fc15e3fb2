import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import type { Config } from '../platform/config';
import { migrationSource } from './migrations';
import { migrationContext } from './migrations/context';

export type Db = Knex;

export function knexConfig(database: Config['database']): Knex.Config {
  if (database.client === 'mysql') {
    return {
      client: 'mysql2',
      connection: {
        uri: database.url,
        // Certificates are Chinese text: utf8mb4 everywhere, times in UTC.
        charset: 'utf8mb4',
        timezone: 'Z',
        dateStrings: false,
        supportBigNumbers: true,
      } as Knex.MySql2ConnectionConfig & { uri: string },
      pool: { min: 0, max: 10 },
      migrations: { migrationSource },
    };
  }
  fs.mkdirSync(path.dirname(database.filename), { recursive: true });
  return {
    client: 'better-sqlite3',
    connection: { filename: database.filename },
    useNullAsDefault: true,
    pool: {
      min: 1,
      max: 1,
      // WAL lets the API read while the worker writes; foreign keys are off by default in SQLite.
      afterCreate(conn: { pragma(s: string): unknown }, done: (err: Error | null, conn: unknown) => void) {
        conn.pragma('journal_mode = WAL');
        conn.pragma('foreign_keys = ON');
        conn.pragma('busy_timeout = 5000');
        done(null, conn);
      },
    },
    migrations: { migrationSource },
  };
}

export function openDb(database: Config['database']): Db {
  return knexFactory(knexConfig(database));
}

/**
 * Applies what is missing. Several processes may migrate at once (two `certflow migrate` of a
 * rollout, api and workers starting together): knex lets one hold its lock row and fails the
 * others, and two first runs race to create its tables. Those wait and try again, then find
 * nothing left to apply. A lock held for lockWaitMs is a migrator that died: say how to clear it.
 * Data migrations that rewrite encrypted columns (010) need the master key; schema-only ones do not.
 */
export async function migrate(db: Db, options: { masterKey?: Buffer; lockWaitMs?: number } = {}): Promise<string[]> {
  const deadline = Date.now() + (options.lockWaitMs ?? 120_000);
  migrationContext.masterKey = options.masterKey;
  try {
    for (;;) {
      try {
        const [, applied] = (await db.migrate.latest()) as [number, string[]];
        return applied;
      } catch (err) {
        const e = err as { name?: string; code?: string; message?: string };
        const locked = e.name === 'MigrationLocked';
        const racedOnCreate =
          e.code === 'ER_TABLE_EXISTS_ERROR' ||
          e.code === 'ER_DUP_ENTRY' ||
          /already exists|UNIQUE constraint failed|SQLITE_BUSY/.test(e.message ?? '');
        if (!locked && !racedOnCreate) throw err;
        if (Date.now() > deadline) {
          throw new Error(
            'DATABASE_URL: the migrations are locked by another migrator for too long; if none is running, ' +
              'clear the lock with: UPDATE knex_migrations_lock SET is_locked = 0',
            { cause: err },
          );
        }
        await new Promise((r) => setTimeout(r, 250 + Math.random() * 250));
      }
    }
  } finally {
    migrationContext.masterKey = undefined;
  }
}

export async function pingDb(db: Db): Promise<void> {
  await db.raw('select 1');
}

export function isMysql(db: Db): boolean {
  return db.client.config.client === 'mysql2';
}

/** A timestamp column as ISO text: mysql2 returns Date, better-sqlite3 the stored number. */
export function toIso(v: unknown): string {
  return (v instanceof Date ? v : new Date(v as string | number)).toISOString();
}

/** MySQL/MariaDB may pick a transaction as a deadlock victim; the whole transaction is then safe to run again. */
export async function withDeadlockRetry<T>(fn: () => Promise<T>, attempts = 6): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (i >= attempts || (code !== 'ER_LOCK_DEADLOCK' && code !== 'ER_LOCK_WAIT_TIMEOUT')) throw err;
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * i));
    }
  }
}

/** SELECT … FOR UPDATE where it exists; SQLite has one writer at a time anyway. */
export const locked = <T extends Knex.QueryBuilder>(db: Db, q: T): T => (isMysql(db) ? (q.forUpdate() as T) : q);

/** A timestamp column as stored: mysql2 gives a Date, better-sqlite3 the number written. */
export type DbTime = Date | string | number;
