import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type { Knex } from 'knex';
import type { Db } from './knex';
import { isMysql } from './knex';

/**
 * The database half of `certflow backup` / `certflow restore` (services/backup.ts,
 * docs/operations.md "Backup and restore"). SQLite: one consistent file made with VACUUM INTO
 * (it reads inside one transaction, so writers carry on). MySQL/MariaDB: every table as JSON
 * lines, all read in ONE repeatable-read transaction, so the tables agree with each other
 * (a certificate and its application, the audit log and its head) — no mysqldump needed.
 */

/** knex's own bookkeeping; a restore migrates the target itself and checks the lists agree. */
const KNEX_TABLES = ['knex_migrations', 'knex_migrations_lock'];

/**
 * Columns naming a blob by its SHA-256: what a backup must copy from the blob store. Renditions
 * are a cache of conversions, and their row is written before their PDF (db/migrations/005):
 * one may name a blob that never got written, and it is simply made again.
 */
export const BLOB_COLUMNS: [table: string, column: string, required: boolean][] = [
  ['certificate_type_versions', 'template_sha256', true],
  ['seals', 'image_sha256', true],
  ['certificates', 'pdf_sha256', true],
  ['certificates', 'docx_sha256', true],
  ['certificates', 'record_sha256', true],
  ['pdf_renditions', 'docx_sha256', false],
  ['pdf_renditions', 'pdf_sha256', false],
  // Imports (docs/import.md): the uploaded files and the originals of certificates imported singly.
  ['certificate_imports', 'file_sha256', true],
  ['certificate_attachments', 'blob_sha256', true],
];

export async function tableNames(db: Db | Knex.Transaction): Promise<string[]> {
  const client = (db as Db).client.config.client;
  const names =
    client === 'mysql2'
      ? (
          (await db.raw(
            'select table_name as name from information_schema.tables where table_schema = database()',
          )) as [{ name: string }[]]
        )[0].map((r) => r.name)
      : (
          (await db.raw("select name from sqlite_master where type = 'table' and name not like 'sqlite_%'")) as {
            name: string;
          }[]
        ).map((r) => r.name);
  return names.filter((n) => !KNEX_TABLES.includes(n)).sort();
}

export async function appliedMigrations(db: Db | Knex.Transaction): Promise<string[]> {
  const rows = (await db('knex_migrations').orderBy('id').select('name')) as { name: string }[];
  return rows.map((r) => r.name);
}

export interface DatabaseSnapshot {
  /** Rows per table. */
  tables: Record<string, number>;
  migrations: string[];
  /** Every blob the rows name, deduplicated; `optional` ones may be missing from the store. */
  blobs: { sha256: string; required: boolean }[];
}

async function describe(q: Db | Knex.Transaction): Promise<DatabaseSnapshot> {
  const tables: Record<string, number> = {};
  for (const name of await tableNames(q)) {
    const [row] = (await q(name).count({ n: '*' })) as { n: number | string }[];
    tables[name] = Number(row!.n);
  }
  const blobs = new Map<string, boolean>();
  for (const [table, column, required] of BLOB_COLUMNS) {
    // '' where a certificate imported from a file has no document of its own (docs/import.md).
    const rows = (await q(table).whereNotNull(column).where(column, '!=', '').distinct(column)) as Record<
      string,
      string
    >[];
    for (const r of rows) blobs.set(r[column]!, required || (blobs.get(r[column]!) ?? false));
  }
  const list = [...blobs].sort(([a], [b]) => a.localeCompare(b)).map(([sha256, required]) => ({ sha256, required }));
  return { tables, migrations: await appliedMigrations(q), blobs: list };
}

/** SQLite: the whole database as one file at `file`, consistent as of one read transaction. */
export async function snapshotSqlite(db: Db, file: string): Promise<DatabaseSnapshot> {
  await db.raw('VACUUM INTO ?', [file]);
  // Counted and listed from the copy itself, so the manifest describes exactly what was written.
  const knexFactory = (await import('knex')).default;
  const copy = knexFactory({
    client: 'better-sqlite3',
    connection: { filename: file, readonly: true } as never,
    useNullAsDefault: true,
  });
  try {
    return await describe(copy);
  } finally {
    await copy.destroy();
  }
}

/** JSON has no dates or bytes: they are written as {"$date": iso} and {"$base64": …}. */
function encode(row: Record<string, unknown>): string {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    out[k] =
      v instanceof Date ? { $date: v.toISOString() } : Buffer.isBuffer(v) ? { $base64: v.toString('base64') } : v;
  }
  return JSON.stringify(out);
}

function decode(line: string): Record<string, unknown> {
  const row = JSON.parse(line) as Record<string, unknown>;
  for (const [k, v] of Object.entries(row)) {
    if (v && typeof v === 'object' && '$date' in v) row[k] = new Date((v as { $date: string }).$date);
    else if (v && typeof v === 'object' && '$base64' in v)
      row[k] = Buffer.from((v as { $base64: string }).$base64, 'base64');
  }
  return row;
}

/** MySQL/MariaDB: each table to `<dir>/<table>.jsonl`, all in one repeatable-read snapshot. */
export async function dumpMysql(db: Db, dir: string): Promise<DatabaseSnapshot> {
  if (!isMysql(db)) throw new Error('dumpMysql: not a MySQL database');
  await fs.promises.mkdir(dir, { recursive: true });
  return db.transaction(
    async (trx) => {
      // InnoDB fixes the snapshot at the first read; everything below sees that one moment.
      const snapshot = await describe(trx);
      for (const table of Object.keys(snapshot.tables)) {
        const out = fs.createWriteStream(path.join(dir, `${table}.jsonl`));
        for await (const row of trx(table).select('*').stream() as AsyncIterable<Record<string, unknown>>) {
          if (!out.write(encode(row) + '\n')) await new Promise<void>((r) => out.once('drain', () => r()));
        }
        await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
      }
      return snapshot;
    },
    { isolationLevel: 'repeatable read' },
  );
}

/** Loads a dump into a migrated, otherwise empty MySQL database (foreign keys checked after, by the data itself). */
export async function loadMysql(db: Db, dir: string, tables: Record<string, number>): Promise<void> {
  await db.transaction(async (trx) => {
    await trx.raw('SET FOREIGN_KEY_CHECKS = 0');
    try {
      for (const table of Object.keys(tables)) {
        // Migrations seed a few rows (the audit head); the backup's rows replace them.
        await trx(table).del();
        const lines = readline.createInterface({ input: fs.createReadStream(path.join(dir, `${table}.jsonl`)) });
        let batch: Record<string, unknown>[] = [];
        let n = 0;
        for await (const line of lines) {
          if (!line) continue;
          batch.push(decode(line));
          if (batch.length === 200) {
            await trx(table).insert(batch);
            n += batch.length;
            batch = [];
          }
        }
        if (batch.length) await trx(table).insert(batch);
        n += batch.length;
        if (n !== tables[table])
          throw new Error(`restore: ${table}.jsonl holds ${n} rows, the manifest says ${tables[table]}`);
      }
    } finally {
      await trx.raw('SET FOREIGN_KEY_CHECKS = 1');
    }
  });
}

/** True when the database has no certflow tables yet, or only the empty ones a fresh migration makes. */
export async function isEmptyDatabase(db: Db): Promise<boolean> {
  const names = await tableNames(db);
  if (!names.includes('applications')) return true;
  for (const t of ['applications', 'certificates', 'users', 'audit_log']) {
    if (names.includes(t) && Number(((await db(t).count({ n: '*' })) as { n: number }[])[0]!.n) > 0) return false;
  }
  return true;
}
