import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { snapshotSqlite } from '../../db/backup';
import { issuanceHarness, json, type IssuanceHarness } from '../support/issuance';
import { temporalEnv } from '../support/temporal';
import { CSV, XLSX, reportRows, upload, waitForImport, type ImportView } from '../support/imports';
import { expectedRejection, keptNumber, licenceCsv, licenceRow, licenceXlsx, validRows } from '../support/import-files';
import { parseIdentifier } from '../../domain/identifier';
import { parseCertificateNumber } from '../../domain/certificate-number';
import { verifyAuditChain } from '../../db/audit';

describe('bulk import of existing certificates (issue 16, docs/import.md)', function () {
  this.timeout(180_000);
  let h: IssuanceHarness;
  let admin = '';

  before(async () => {
    h = await issuanceHarness('sqlite');
    admin = await h.app.login('market-admin');
  });
  after(() => h?.close());

  it('imports a CSV: valid rows become imported certificates, bad rows are reported with their column', async () => {
    const rows = 400;
    const started = await json<ImportView>(await upload(h.app, admin, licenceCsv(rows)), 202);
    assert.equal(started.status, 'pending');
    const done = await waitForImport(h.app, admin, started.id, 120_000);
    assert.equal(done.status, 'completed');
    assert.equal(done.imported, validRows(rows));
    assert.equal(done.rejected, rows - validRows(rows));
    assert.deepEqual(
      { ...done.progress, rowsPerSecond: null },
      {
        total: rows,
        done: rows,
        percent: 100,
        rowsPerSecond: null,
        etaSeconds: 0,
      },
    );

    const certs = await h.t.db('certificates').where({ origin: 'imported' });
    assert.equal(certs.length, validRows(rows));
    const legacy = certs.filter((c) => c.original_number);
    assert.ok(legacy.length > 100, 'legacy numbers are kept as the original number');
    for (const c of legacy) assert.match(c.original_number, /^浙市监-\d+$/);
    const kept = certs.filter((c) => String(c.number).startsWith('ZJ-'));
    assert.ok(kept.length > 50, 'numbers in certflow format are kept');
    for (const c of certs) {
      assert.ok(parseIdentifier(c.identifier).ok, `${c.identifier} is a GB/T 36904 identifier`);
      assert.ok(parseCertificateNumber(c.number).ok, `${c.number} is a certflow number`);
      assert.equal(c.seal_id, null);
    }
    const row4 = certs.find((c) => c.number === keptNumber(4))!;
    assert.equal(row4.holder_name, licenceRow(4).holderName);
    const row21 = certs.find((c) => c.original_number === '浙市监-21')!; // 21 % 7 = 0 → status 04
    assert.equal(row21.status, 'cancelled');
    // A kept ZJ-…-2015 serial raised its counter: a number allocated later cannot repeat it.
    const zj = await h.t.db('certificate_numbers').where({ type_code: 'ZJ', year: 2015 }).first();
    assert.equal(Number(zj.last_serial), Math.max(...kept.map((c) => Number(String(c.number).split('-')[3]))));
    const handler = await h.app.login('market-handler');
    for (const part of ['pdf', 'record'])
      await json(await h.app.fetch(`/api/v1/certificates/${row4.number}/${part}`, { token: handler }), 404);
    const shown = await json<{ origin: string; status: string }>(
      await h.app.fetch(`/api/v1/certificates/${row4.number}`, { token: handler }),
      200,
    );
    assert.deepEqual([shown.origin, shown.status], ['imported', 'valid']);
    const issued = (await h.t.db('applications').where({ mode: 'import' }).count({ n: '*' }))[0]!.n;
    assert.equal(Number(issued), certs.length, 'one application row per imported certificate');

    const report = await h.app.fetch(`/api/v1/certificate-imports/${started.id}/report`, { token: admin });
    assert.equal(report.status, 200);
    assert.match(report.headers.get('content-type')!, /text\/csv/);
    const lines = reportRows(await report.text());
    assert.equal(lines.length, rows);
    for (const [row, outcome, number, field] of lines) {
      const bad = expectedRejection(Number(row));
      assert.equal(outcome, bad ? 'rejected' : 'imported', `row ${row}`);
      if (bad) assert.equal(field, bad, `row ${row} names its column`);
      else assert.ok(number, `row ${row} has its number`);
    }
    assert.equal((await verifyAuditChain(h.t.db, h.deps.masterKey)).ok, true);
  });

  it('reads the same rows from an XLSX and rejects a kept number that is already registered', async () => {
    // Offset 0 again: the ZJ numbers of rows 4, 8, … are taken by the first import.
    const started = await json<ImportView>(await upload(h.app, admin, await licenceXlsx(30), XLSX), 202);
    const done = await waitForImport(h.app, admin, started.id, 120_000);
    assert.equal(done.status, 'completed');
    const lines = reportRows(
      await (await h.app.fetch(`/api/v1/certificate-imports/${started.id}/report`, { token: admin })).text(),
    );
    for (const [row, outcome, , field, reason] of lines) {
      const n = Number(row);
      if (keptNumber(n)) {
        assert.deepEqual([outcome, field], ['rejected', 'number'], `row ${row}`);
        assert.match(reason!, /already registered/);
      } else if (expectedRejection(n)) assert.equal(outcome, 'rejected', `row ${row}`);
      else assert.equal(outcome, 'imported', `row ${row}: ${reason}`);
    }
    const row1 = licenceRow(1);
    const cert = await h.t
      .db('certificates')
      .where({ holder_name: row1.holderName, origin: 'imported' })
      .orderBy('id', 'desc')
      .first();
    const day = (v: unknown) => (v instanceof Date ? v.toISOString().slice(0, 10) : String(v));
    assert.equal(day(cert.valid_from), row1.issueDate, 'a spreadsheet date cell reads as its day');
  });

  it('answers an Idempotency-Key retry with the first import, and refuses bad files and callers before storing anything', async () => {
    const key = { 'idempotency-key': 'upload-1' };
    const first = await json<ImportView>(await upload(h.app, admin, licenceCsv(5, 90_000), CSV, key), 202);
    const again = await json<ImportView>(await upload(h.app, admin, licenceCsv(5, 90_000), CSV, key), 200);
    assert.equal(again.id, first.id);
    await waitForImport(h.app, admin, first.id, 60_000);

    const before = (await h.t.db('certificate_imports').count({ n: '*' }))[0]!.n;
    const badHeader = Buffer.from('holderName,holderId,issueDate,colour\nx,y,2020-01-01,red\n');
    const problem = await json<{ errors: { field: string }[] }>(await upload(h.app, admin, badHeader), 422);
    const fields = problem.errors.map((e) => e.field);
    assert.ok(fields.includes('colour'), 'the unknown column is named');
    assert.ok(fields.includes('entityName'), 'a missing required face field is named');
    await json(await upload(h.app, admin, Buffer.from([0xff, 0xfe, 0x41, 0x00])), 422);
    await json(await upload(h.app, admin, licenceCsv(2), 'application/pdf'), 415);
    await json(await upload(h.app, await h.app.login('market-filler'), licenceCsv(2)), 403);
    await json(await upload(h.app, await h.app.login('health-admin'), licenceCsv(2)), 403);
    assert.equal((await h.t.db('certificate_imports').count({ n: '*' }))[0]!.n, before, 'nothing stored');
  });

  it('is backed up with its files: the uploads are blobs to copy, the rows without a document name none', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'certflow-import-backup-')), 'db.sqlite');
    const snapshot = await snapshotSqlite(h.t.db, file);
    const uploads = (await h.t.db('certificate_imports').select('file_sha256')).map((r) => r.file_sha256 as string);
    const named = new Set(snapshot.blobs.map((b) => b.sha256));
    for (const sha of uploads) assert.ok(named.has(sha), `upload ${sha} is copied`);
    assert.ok(!named.has(''), 'no empty blob name');
    assert.ok(Object.keys(snapshot.tables).includes('certificate_import_rows'));
  });

  it('shows the run in the Temporal Web UI terms: ImportStatus, department and type, progress in the memo', async () => {
    const started = await json<ImportView>(await upload(h.app, admin, licenceCsv(20, 95_000)), 202);
    await waitForImport(h.app, admin, started.id, 60_000);
    const handle = (await temporalEnv()).client.workflow.getHandle(started.workflowId);
    await handle.result();
    const d = await handle.describe();
    const attrs = d.typedSearchAttributes;
    assert.equal(attrs.get({ name: 'ImportStatus', type: 'KEYWORD' } as never), 'completed');
    assert.equal(attrs.get({ name: 'Department', type: 'KEYWORD' } as never), 'market');
    const memo = d.memo as { progress: { done: number; total: number; percent: number } };
    assert.deepEqual([memo.progress.done, memo.progress.total, memo.progress.percent], [20, 20, 100]);
  });
});
