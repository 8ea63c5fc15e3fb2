import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createTestDatabase, forEachDatabase, type TestDatabase } from '../support/databases';
import { silentLogger, testConfig } from '../support/app';
import { seedDemo, seedDemoTypes } from '../../db/seed-demo';
import { ensureDevelopmentTrust } from '../../services/trust/seals';
import { appendAudit, verifyAuditChain } from '../../db/audit';
import { anchorAuditHead } from '../../db/audit-anchors';
import { tableNames } from '../../db/backup';
import { openDb, type Db } from '../../db/knex';
import { createFileBlobStore } from '../../platform/blobs';
import { backup, restore } from '../../services/backup';
import type { Config } from '../../platform/config';

/**
 * `certflow backup` / `restore` at the service level (services/backup.ts) on SQLite and MariaDB:
 * what comes back is row for row what went in, the blobs are all there and checked, the audit
 * chain verifies against its checkpoints, and a damaged snapshot or another master key is refused.
 * The end-to-end drill with Temporal is test/e2e/backup.test.ts.
 */

async function allRows(db: Db): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const t of await tableNames(db)) {
    const rows = (await db(t).select('*')) as Record<string, unknown>[];
    // Sorted by their JSON: tables have different keys, and the order of a select is not guaranteed.
    out[t] = rows.map((r) => JSON.stringify(r)).sort();
  }
  return out;
}

forEachDatabase('backup and restore', (get) => {
  const masterKey = randomBytes(32);
  let work: string;
  let config: Config;
  let target: TestDatabase | undefined;
  const blobsDir = () => path.join(work, 'blobs-a');

  before(async function () {
    this.timeout(60_000);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'certflow-backup-'));
    const { db } = get();
    const blobs = createFileBlobStore(blobsDir());
    await seedDemo(db, 'certflow-demo');
    await ensureDevelopmentTrust({ db, blobs, masterKey, logger: silentLogger });
    await seedDemoTypes(db, blobs);
    const actor = { type: 'user', id: '1', name: '张三' };
    for (let i = 0; i < 5; i++) {
      await appendAudit(
        db,
        { category: 'operation', action: `test.${i}`, outcome: 'success', actor, detail: { i, 名称: '测试' } },
        masterKey,
      );
    }
    const base = testConfig();
    config = {
      ...base,
      dataDir: path.join(work, 'data-a'),
      audit: { ...base.audit, anchorsDir: path.join(work, 'anchors-a') },
    };
    await anchorAuditHead(db, masterKey, config.audit.anchorsDir);
  });
  after(async () => {
    await target?.drop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('restores row for row, with every blob and the audit chain verified against its checkpoints', async function () {
    this.timeout(120_000);
    const { db, kind } = get();
    const snapshot = path.join(work, 'snapshot');
    const deps = { config, db, blobs: createFileBlobStore(blobsDir()), masterKey, logger: silentLogger };
    const manifest = await backup(deps, snapshot);
    assert.equal(manifest.database.client, kind);
    assert.equal(manifest.database.tables['audit_log'], 5);
    assert.ok(manifest.blobs.count >= 3, `templates and seal images: ${manifest.blobs.count}`);
    assert.equal(manifest.auditAnchors, 1);
    await assert.rejects(backup(deps, snapshot), /is not empty/);

    let database: Config['database'];
    if (kind === 'sqlite') {
      database = { client: 'sqlite', filename: path.join(work, 'data-b', 'certflow.sqlite') };
    } else {
      target = await createTestDatabase('mysql'); // migrated and empty
      database = target.config;
    }
    const restoredConfig: Config = {
      ...config,
      database,
      dataDir: path.join(work, 'data-b'),
      audit: { ...config.audit, anchorsDir: path.join(work, 'data-b', 'audit-anchors') },
    };
    const blobsB = createFileBlobStore(path.join(work, 'blobs-b'));

    await assert.rejects(
      restore({ config: restoredConfig, blobs: blobsB, masterKey: randomBytes(32) }, snapshot),
      /CERTFLOW_MASTER_KEY: this is not/,
    );
    await assert.rejects(
      restore({ config: restoredConfig, blobs: blobsB, masterKey: undefined }, snapshot),
      /CERTFLOW_MASTER_KEY: not set/,
    );

    const { audit } = await restore({ config: restoredConfig, blobs: blobsB, masterKey }, snapshot);
    assert.ok(audit.ok, JSON.stringify(audit));
    assert.equal(audit.entries, 5);

    const restored = kind === 'sqlite' ? openDb(database) : target!.db;
    try {
      assert.deepEqual(await allRows(restored), await allRows(db));
      assert.equal((await verifyAuditChain(restored, masterKey, 2000, restoredConfig.audit.anchorsDir)).ok, true);
      for (const rel of Object.keys(manifest.files).filter((f) => f.startsWith('blobs'))) {
        assert.equal((await blobsB.get(path.basename(rel))).length > 0, true);
      }
      await assert.rejects(
        restore({ config: restoredConfig, blobs: blobsB, masterKey }, snapshot),
        /not empty|already holds data/,
      );
    } finally {
      if (kind === 'sqlite') await restored.destroy();
    }
  });

  it('refuses a snapshot whose files do not match the manifest', async () => {
    const snapshot = path.join(work, 'snapshot');
    const keys = path.join(snapshot, 'keys.json');
    const original = fs.readFileSync(keys, 'utf8');
    fs.writeFileSync(keys, original.replace('"seals"', '"seals" '));
    try {
      const elsewhere = { ...config, audit: { ...config.audit, anchorsDir: path.join(work, 'nowhere') } };
      await assert.rejects(
        restore({ config: elsewhere, blobs: createFileBlobStore(path.join(work, 'blobs-c')), masterKey }, snapshot),
        /keys\.json does not match its SHA-256/,
      );
    } finally {
      fs.writeFileSync(keys, original);
    }
  });
});
