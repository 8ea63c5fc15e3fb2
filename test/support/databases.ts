import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import knexFactory from 'knex';
import { migrate, openDb, type Db } from '../../db/knex';
import type { Config } from '../../platform/config';
import { requireService, TEST_MYSQL_URL, uniqueSuffix } from './services';

export type DbKind = 'sqlite' | 'mysql';

export interface TestDatabase {
  kind: DbKind;
  db: Db;
  config: Config['database'];
  drop(): Promise<void>;
}

/** A fresh, migrated database: a temp SQLite file, or a new MariaDB database of its own. */
export async function createTestDatabase(kind: DbKind): Promise<TestDatabase> {
  if (kind === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'certflow-test-'));
    const config: Config['database'] = { client: 'sqlite', filename: path.join(dir, 'certflow.sqlite') };
    const db = openDb(config);
    await migrate(db);
    return {
      kind,
      db,
      config,
      async drop() {
        await db.destroy();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const name = `certflow_t_${uniqueSuffix()}`;
  const admin = knexFactory({
    client: 'mysql2',
    connection: { uri: TEST_MYSQL_URL } as never,
    pool: { min: 0, max: 1 },
  });
  try {
    await admin.raw(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  } finally {
    await admin.destroy();
  }
  const url = new URL(TEST_MYSQL_URL);
  url.pathname = `/${name}`;
  const config: Config['database'] = { client: 'mysql', url: url.toString() };
  const db = openDb(config);
  await migrate(db);
  return {
    kind,
    db,
    config,
    async drop() {
      await db.raw(`DROP DATABASE \`${name}\``);
      await db.destroy();
    },
  };
}

/**
 * Runs the same specs against SQLite and MariaDB, each in a database of its own.
 * `get()` inside a test returns the current one.
 */
export function forEachDatabase(
  title: string,
  specs: (get: () => TestDatabase) => void,
  opts: { timeoutMs?: number } = {},
) {
  for (const kind of ['sqlite', 'mysql'] as const) {
    describe(`${title} [${kind}]`, function () {
      if (opts.timeoutMs) this.timeout(opts.timeoutMs);
      let current: TestDatabase | undefined;
      before(async function () {
        try {
          current = await createTestDatabase(kind);
        } catch (err) {
          if (kind === 'mysql') requireService(this, `MariaDB at ${TEST_MYSQL_URL}`, err);
          throw err;
        }
      });
      after(async () => {
        await current?.drop();
      });
      specs(() => {
        if (!current) throw new Error('database not created');
        return current;
      });
    });
  }
}
