import fs from 'node:fs';
import path from 'node:path';
import type { ServiceDeps } from './deps';
import { ServiceError } from './errors';
import { BlobNotFoundError, sha256, type BlobStore } from '../platform/blobs';
import { masterKeyFingerprint } from '../platform/keys';
import type { Config } from '../platform/config';
import { openDb, migrate, isMysql, type Db } from '../db/knex';
import {
  dumpMysql,
  isEmptyDatabase,
  loadMysql,
  appliedMigrations,
  snapshotSqlite,
  type DatabaseSnapshot,
} from '../db/backup';
import { publicTrustMaterial } from '../db/trust';
import { verifyAuditChain, type ChainReport } from '../db/audit';

/**
 * `certflow backup <dir>` and `certflow restore <dir>` (docs/operations.md, "Backup and restore").
 * A snapshot is a directory: the database (database.sqlite, or database/<table>.jsonl for
 * MySQL), the blobs the database names (blobs/aa/bb/<sha256>, each checked on the way out and
 * on the way in), the audit checkpoints (audit-anchors/), keys.json (the master key's
 * fingerprint and the public trust material — never the master key, which stays with the
 * operator) and manifest.json (counts and the SHA-256 of every other file).
 */

export const BACKUP_FORMAT = 'certflow-backup';
export const BACKUP_VERSION = 1;

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  version: number;
  createdAt: string;
  database: { client: 'sqlite' | 'mysql'; tables: Record<string, number>; migrations: string[] };
  blobs: { count: number; missingOptional: string[] };
  auditAnchors: number;
  /** Relative path → SHA-256 of every file in the snapshot but this one. */
  files: Record<string, string>;
}

export interface KeysManifest {
  /** HKDF of the master key for this purpose only (platform/keys.ts): names the key, reveals nothing. */
  masterKeyFingerprint: string;
  trustRoots: { id: number; name: string; active: boolean; certificatePem: string }[];
  seals: { id: number; department: string; name: string; serial: string; active: boolean; certificatePem: string }[];
}

const invalid = (message: string) => new ServiceError('invalid', message);

function blobPath(hash: string) {
  return path.join('blobs', hash.slice(0, 2), hash.slice(2, 4), hash);
}

async function sha256File(file: string): Promise<string> {
  return sha256(await fs.promises.readFile(file));
}

async function listFiles(root: string, under = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.promises.readdir(path.join(root, under), { withFileTypes: true })) {
    const rel = path.join(under, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(root, rel)));
    else out.push(rel);
  }
  return out.sort();
}

function emptyOrAbsent(dir: string): boolean {
  return !fs.existsSync(dir) || fs.readdirSync(dir).length === 0;
}

export type BackupDeps = Pick<ServiceDeps, 'config' | 'db' | 'blobs' | 'masterKey' | 'logger'>;

export async function backup(deps: BackupDeps, dir: string): Promise<BackupManifest> {
  const { config, db, blobs } = deps;
  if (!emptyOrAbsent(dir)) throw invalid(`${dir} is not empty; give a new directory`);
  await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });

  const client = isMysql(db) ? 'mysql' : 'sqlite';
  const snapshot: DatabaseSnapshot =
    client === 'mysql'
      ? await dumpMysql(db, path.join(dir, 'database'))
      : await snapshotSqlite(db, path.join(dir, 'database.sqlite'));

  const missingOptional: string[] = [];
  let copied = 0;
  for (const { sha256: hash, required } of snapshot.blobs) {
    let data: Buffer;
    try {
      data = await blobs.get(hash); // checks the bytes against the name
    } catch (err) {
      if (err instanceof BlobNotFoundError && !required) {
        missingOptional.push(hash);
        continue;
      }
      throw err;
    }
    const file = path.join(dir, blobPath(hash));
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    await fs.promises.writeFile(file, data);
    copied++;
  }

  // The checkpoints are copied after the database: each then covers a head the snapshot contains.
  let anchors = 0;
  if (fs.existsSync(config.audit.anchorsDir)) {
    await fs.promises.mkdir(path.join(dir, 'audit-anchors'));
    for (const f of await fs.promises.readdir(config.audit.anchorsDir)) {
      const text = await fs.promises.readFile(path.join(config.audit.anchorsDir, f), 'utf8');
      // Only checkpoints the snapshot contains; a later one would claim entries the backup lacks.
      const head = snapshot.tables['audit_log'] ?? 0;
      const kept = text.split('\n').filter((l) => l.trim() && (JSON.parse(l) as { seq: number }).seq <= head);
      anchors += kept.length;
      await fs.promises.writeFile(path.join(dir, 'audit-anchors', f), kept.map((l) => l + '\n').join(''));
    }
  }

  const keys: KeysManifest = {
    masterKeyFingerprint: masterKeyFingerprint(deps.masterKey),
    ...(await publicTrustMaterial(db)),
  };
  await fs.promises.writeFile(path.join(dir, 'keys.json'), JSON.stringify(keys, null, 2) + '\n');

  const files: Record<string, string> = {};
  for (const rel of await listFiles(dir)) files[rel] = await sha256File(path.join(dir, rel));
  const manifest: BackupManifest = {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    createdAt: new Date().toISOString(),
    database: { client, tables: snapshot.tables, migrations: snapshot.migrations },
    blobs: { count: copied, missingOptional },
    auditAnchors: anchors,
    files,
  };
  await fs.promises.writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

export interface RestoreDeps {
  config: Config;
  blobs: BlobStore;
  /** Undefined when the operator gave none: then the restore refuses, naming CERTFLOW_MASTER_KEY. */
  masterKey: Buffer | undefined;
}

export interface RestoreResult {
  manifest: BackupManifest;
  audit: ChainReport;
}

/** Reads and checks a snapshot: format, every file's hash, and that the master key is the one it was taken with. */
export async function checkBackup(dir: string, masterKey: Buffer | undefined): Promise<BackupManifest> {
  const file = path.join(dir, 'manifest.json');
  if (!fs.existsSync(file)) throw invalid(`${dir} holds no manifest.json; not a certflow backup`);
  const manifest = JSON.parse(await fs.promises.readFile(file, 'utf8')) as BackupManifest;
  if (manifest.format !== BACKUP_FORMAT || manifest.version !== BACKUP_VERSION) {
    throw invalid(`${file} is not a ${BACKUP_FORMAT} version ${BACKUP_VERSION} manifest`);
  }
  for (const [rel, hash] of Object.entries(manifest.files)) {
    const f = path.join(dir, rel);
    if (!fs.existsSync(f)) throw invalid(`${rel} is listed in the manifest but missing`);
    if ((await sha256File(f)) !== hash)
      throw invalid(`${rel} does not match its SHA-256 in the manifest; the backup is damaged`);
  }
  const keys = JSON.parse(await fs.promises.readFile(path.join(dir, 'keys.json'), 'utf8')) as KeysManifest;
  const taken = keys.masterKeyFingerprint;
  if (!masterKey) {
    throw invalid(
      `CERTFLOW_MASTER_KEY: not set; restore needs the master key this backup was taken with (fingerprint ${taken.slice(0, 16)}…)`,
    );
  }
  const given = masterKeyFingerprint(masterKey);
  if (given !== taken) {
    throw invalid(
      `CERTFLOW_MASTER_KEY: this is not the master key the backup was taken with (backup: fingerprint ${taken.slice(0, 16)}…, ` +
        `given: ${given.slice(0, 16)}…); the seals' private keys and the audit chain could not be opened with it`,
    );
  }
  return manifest;
}

/** Brings a snapshot up in an empty database, blob store and DATA_DIR; refuses to overwrite anything. */
export async function restore(deps: RestoreDeps, dir: string): Promise<RestoreResult> {
  const { config, blobs } = deps;
  const manifest = await checkBackup(dir, deps.masterKey);
  const masterKey = deps.masterKey!;
  if (manifest.database.client !== config.database.client) {
    throw invalid(
      `the backup holds a ${manifest.database.client} database; DATABASE_URL names ${config.database.client}`,
    );
  }
  if (!emptyOrAbsent(config.audit.anchorsDir))
    throw invalid(`${config.audit.anchorsDir} is not empty; restore into a fresh DATA_DIR`);

  let db: Db | undefined;
  try {
    if (config.database.client === 'sqlite') {
      const target = config.database.filename;
      if (fs.existsSync(target)) {
        const existing = openDb(config.database);
        const empty = await isEmptyDatabase(existing).finally(() => existing.destroy());
        if (!empty) throw invalid(`${target} already holds data; restore into an empty database`);
        for (const suffix of ['', '-wal', '-shm']) fs.rmSync(target + suffix, { force: true });
      }
      await fs.promises.mkdir(path.dirname(target), { recursive: true });
      const tmp = `${target}.restore-tmp`;
      await fs.promises.copyFile(path.join(dir, 'database.sqlite'), tmp);
      await fs.promises.rename(tmp, target);
      db = openDb(config.database);
      await migrate(db);
    } else {
      db = openDb(config.database);
      if (!(await isEmptyDatabase(db)))
        throw invalid('the database DATABASE_URL names already holds data; restore into an empty one');
      await migrate(db);
      const mine = await appliedMigrations(db);
      if (mine.join() !== manifest.database.migrations.join()) {
        throw invalid(
          `the backup's schema (${manifest.database.migrations.at(-1)}) differs from this certflow's (${mine.at(-1)}); use the same version`,
        );
      }
      await loadMysql(db, path.join(dir, 'database'), manifest.database.tables);
    }

    for (const rel of Object.keys(manifest.files).filter((f) => f.startsWith(`blobs${path.sep}`))) {
      const expected = path.basename(rel);
      const stored = await blobs.put(await fs.promises.readFile(path.join(dir, rel)));
      if (stored !== expected) throw invalid(`blob ${rel} hashes to ${stored}`);
    }

    const anchorsFrom = path.join(dir, 'audit-anchors');
    if (fs.existsSync(anchorsFrom)) {
      await fs.promises.mkdir(config.audit.anchorsDir, { recursive: true, mode: 0o700 });
      for (const f of await fs.promises.readdir(anchorsFrom)) {
        await fs.promises.copyFile(path.join(anchorsFrom, f), path.join(config.audit.anchorsDir, f));
      }
    }
    const audit = await verifyAuditChain(db, masterKey, 2000, config.audit.anchorsDir);
    return { manifest, audit };
  } finally {
    await db?.destroy();
  }
}
