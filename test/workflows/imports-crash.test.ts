import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { issuanceHarness, json, type IssuanceHarness } from '../support/issuance';
import { spawnCrashingWorker } from '../support/crashing-worker';
import { expectedRejection, licenceCsv, validRows } from '../support/import-files';
import { reportRows, upload, waitForImport, type ImportView } from '../support/imports';

const ROWS = 20_000;
/** The batch whose work is committed when the worker dies (batches are 500 rows). */
const CRASH_ON_BATCH = 15;

/**
 * Issue 16's bar for bulk import, on MariaDB: a 20 000-row file, the worker SIGKILLed right after
 * a batch committed and before Temporal heard of it, a new worker started — every valid row is
 * imported exactly once, every bad one reported with its column, and the progress moved.
 */
describe('bulk import of 20 000 rows on MariaDB with the worker SIGKILLed mid-way', function () {
  this.timeout(600_000);
  let h: IssuanceHarness;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'certflow-import-crash-'));

  before(async () => {
    h = await issuanceHarness('mysql');
  });
  after(() => h?.close());

  it('imports every valid row exactly once and reports the rest', async () => {
    const admin = await h.app.login('market-admin');
    await h.worker.stop(); // the child process below is the only worker on the queue
    const marker = path.join(tmp, 'crashed');
    const { child, output, exited } = await spawnCrashingWorker(h, {
      activity: 'importBatch',
      marker,
      onCall: CRASH_ON_BATCH,
    });
    const deadline = Date.now() + 120_000;
    while (!output().includes('worker ready')) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`worker did not start:\n${output()}`);
      await new Promise((r) => setTimeout(r, 200));
    }

    const file = licenceCsv(ROWS);
    const t0 = Date.now();
    const started = await json<ImportView>(await upload(h.app, admin, file), 202);
    // Progress moves through the API while the first worker runs.
    const seen: number[] = [];
    let crashed = false;
    void exited.then(() => (crashed = true));
    while (!crashed) {
      if (Date.now() - t0 > 300_000) throw new Error(`worker never crashed:\n${output()}`);
      const v = await json<ImportView>(
        await h.app.fetch(`/api/v1/certificate-imports/${started.id}`, { token: admin }),
        200,
      );
      if (seen[seen.length - 1] !== v.progress.done) seen.push(v.progress.done);
      await new Promise((r) => setTimeout(r, 250));
    }
    const crashedAt = Date.now();
    assert.equal(await exited, 'SIGKILL', output());
    const committed = Number(
      (await h.t.db('certificate_import_rows').where({ import_id: started.id }).count({ n: '*' }))[0]!.n,
    );
    assert.equal(committed, CRASH_ON_BATCH * 500, 'the batch the worker died in had committed');
    assert.ok(seen.filter((n) => n > 0 && n < ROWS).length >= 3, `progress moved: ${seen.join(', ')}`);

    await h.restartWorker();
    const done = await waitForImport(h.app, admin, started.id, 300_000, seen);
    const seconds = (Date.now() - t0) / 1000;
    assert.equal(done.status, 'completed');
    assert.equal(done.imported, validRows(ROWS));
    assert.equal(done.rejected, ROWS - validRows(ROWS));
    assert.equal(done.progress.done, ROWS);

    const count = async (q: ReturnType<IssuanceHarness['t']['db']>) =>
      Number(((await q.count({ n: '*' })) as unknown as { n: string }[])[0]!.n);
    assert.equal(
      await count(h.t.db('certificate_import_rows').where({ import_id: started.id })),
      ROWS,
      'one result per row',
    );
    assert.equal(
      await count(h.t.db('certificates').where({ origin: 'imported' })),
      validRows(ROWS),
      'each valid row once',
    );
    assert.equal(await count(h.t.db('applications').where({ mode: 'import' })), validRows(ROWS));
    const twice = await h.t
      .db('certificates')
      .select('holder_id_hash')
      .groupBy('holder_id_hash')
      .havingRaw('count(*) > 1');
    assert.deepEqual(twice, [], 'no holder (one per row) has two certificates');
    const serials = (await h.t
      .db('certificate_numbers')
      .where({ type_code: 'BL' })
      .sum({ n: 'last_serial' })) as unknown as {
      n: string;
    }[];
    // Every imported row took one serial of the BL counter: for its number, or (a kept ZJ number)
    // for its identifier. Exactly as many as rows imported: none twice, none lost to the crash.
    assert.equal(Number(serials[0]!.n), validRows(ROWS), 'no serial was taken twice or wasted by the crash');

    const report = reportRows(
      await (await h.app.fetch(`/api/v1/certificate-imports/${started.id}/report`, { token: admin })).text(),
    );
    assert.equal(report.length, ROWS);
    for (const [row, outcome, , field] of report) {
      const bad = expectedRejection(Number(row));
      assert.equal(outcome, bad ? 'rejected' : 'imported', `row ${row}`);
      if (bad) assert.equal(field, bad);
    }
    const before = (crashedAt - t0) / 1000;
    process.stdout.write(
      `      20 000 rows on MariaDB: ${seconds.toFixed(1)} s in all, crash and restart included ` +
        `(${(ROWS / seconds).toFixed(0)} rows/s); before the kill ${CRASH_ON_BATCH * 500} rows in ${before.toFixed(1)} s ` +
        `(${((CRASH_ON_BATCH * 500) / before).toFixed(0)} rows/s)\n`,
    );
  });
});
