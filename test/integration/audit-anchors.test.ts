import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { forEachDatabase } from '../support/databases';
import { appendAudit, entryHash, verifyAuditChain } from '../../db/audit';
import { anchorAuditHead, ANCHOR_FILE, readAuditAnchors } from '../../db/audit-anchors';
import type { Db } from '../../db/knex';

/**
 * The downgrade attack on the keyed chain (db/audit.ts), by someone who can write the database
 * but has no master key: move keyed_from past the head, drop the head MAC, and re-hash every
 * row with the old unkeyed scheme. The chain alone accepts that; the checkpoints in
 * DATA_DIR/audit-anchors (db/audit-anchors.ts) must not.
 */
async function downgrade(db: Db) {
  const rows = await db('audit_log').orderBy('seq');
  let prev = '0'.repeat(64);
  for (const r of rows) {
    const { prev_hash: _p, hash: _h, hash_version: _v, ...content } = r;
    // Tampering is the point: the attacker also edits what entry 2 says.
    if (Number(r.seq) === 2) content.actor_name = 'someone-else';
    const hash = entryHash(prev, content);
    await db('audit_log')
      .where({ seq: r.seq })
      .update({ actor_name: content.actor_name, prev_hash: prev, hash, hash_version: 1 });
    prev = hash;
  }
  await db('audit_head')
    .where({ id: 1 })
    .update({ hash: prev, keyed_from: rows.length + 1, mac: null });
}

forEachDatabase('audit checkpoints outside the database', (get) => {
  const masterKey = randomBytes(32);
  let dir: string;
  const actor = (n: number) => ({ type: 'user', id: String(n), name: `user-${n}` });
  const append = (db: Db, n: number) =>
    appendAudit(db, { category: 'login', action: 'login', outcome: 'success', actor: actor(n) }, masterKey);

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'certflow-anchors-'));
    const { db } = get();
    await db('audit_log').del();
    await db('audit_head')
      .where({ id: 1 })
      .update({ seq: 0, hash: '0'.repeat(64), keyed_from: null, mac: null });
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes one signed line per new head, and entries after the last checkpoint still verify', async () => {
    const { db } = get();
    for (let i = 1; i <= 3; i++) await append(db, i);
    const first = await anchorAuditHead(db, masterKey, dir);
    assert.equal(first?.seq, 3);
    assert.equal(await anchorAuditHead(db, masterKey, dir), undefined, 'nothing new: no second line');
    await append(db, 4);
    assert.equal((await anchorAuditHead(db, masterKey, dir))?.seq, 4);
    await append(db, 5);
    const lines = fs.readFileSync(path.join(dir, ANCHOR_FILE), 'utf8').trim().split('\n');
    assert.equal(lines.length, 2);
    const report = await verifyAuditChain(db, masterKey, 2000, dir);
    assert.ok(report.ok, JSON.stringify(report));
    assert.equal(report.entries, 5);
  });

  it('the downgrade to unkeyed hashes passes the chain alone but fails against a checkpoint, naming it', async () => {
    const { db } = get();
    for (let i = 1; i <= 4; i++) await append(db, i);
    await anchorAuditHead(db, masterKey, dir);
    await downgrade(db);
    // Without the checkpoints the rewrite is invisible: this is the attack the anchors exist for.
    assert.equal((await verifyAuditChain(db, masterKey)).ok, true);
    const report = await verifyAuditChain(db, masterKey, 2000, dir);
    assert.equal(report.ok, false);
    assert.ok(!report.ok);
    assert.match(report.firstBroken.reason, /checkpoint of entry 4 .*downgraded/);
  });

  it('a rewrite that leaves keyed_from alone fails too (its rows are not keyed)', async () => {
    const { db } = get();
    for (let i = 1; i <= 4; i++) await append(db, i);
    await anchorAuditHead(db, masterKey, dir);
    // keyed_from back at 1, as the checkpoint saw it: now the unkeyed rows themselves give it away.
    await downgrade(db);
    await db('audit_head').where({ id: 1 }).update({ keyed_from: 1 });
    const report = await verifyAuditChain(db, masterKey, 2000, dir);
    assert.equal(report.ok, false);
  });

  it('entries removed after a checkpoint, and a forged checkpoint line, are refused', async () => {
    const { db } = get();
    for (let i = 1; i <= 3; i++) await append(db, i);
    await anchorAuditHead(db, masterKey, dir);
    // Truncate to 2 entries and give the head a plausible (unkeyed) look.
    const second = await db('audit_log').where({ seq: 2 }).first();
    await db('audit_log').where('seq', '>', 2).del();
    await db('audit_head').where({ id: 1 }).update({ seq: 2, hash: second.hash });
    const truncated = await verifyAuditChain(db, masterKey, 2000, dir);
    assert.ok(
      !truncated.ok && /beyond the chain head \(2\)/.test(truncated.firstBroken.reason),
      JSON.stringify(truncated),
    );

    const forged = { seq: 2, hash: second.hash, keyedFrom: 1, at: new Date().toISOString(), mac: 'f'.repeat(64) };
    fs.appendFileSync(path.join(dir, ANCHOR_FILE), JSON.stringify(forged) + '\n');
    const reading = readAuditAnchors(dir, masterKey);
    assert.ok(!reading.ok && /line 2 .* not signed with this master key/.test(reading.reason));
    // Another master key cannot read the file as its own either.
    assert.equal(readAuditAnchors(dir, randomBytes(32)).ok, false);
  });
});
