import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import PizZip from 'pizzip';
import { issuanceHarness, json, LICENCE, waitForStatus, waitForTask, type IssuanceHarness } from '../support/issuance';
import { spawnCrashingWorker } from '../support/crashing-worker';
import { blobFiles, referencedBlobs } from '../integration/sealing/helpers';
import { nssDatabase, pdfsig, run, writeFile } from '../integration/trust/tools';

const ROOT = path.resolve(__dirname, '../..');

/**
 * Issue 6, end to end: a real Temporal server, a worker that dies mid-pipeline, LibreOffice,
 * and tools nobody here wrote.
 */
describe('sealing pipeline in the issuance workflow', function () {
  this.timeout(180_000);
  let h: IssuanceHarness;
  let apiKey = '';
  let number = '';
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'certflow-sealing-e2e-'));

  before(async () => {
    h = await issuanceHarness('sqlite');
    const admin = await h.app.login('market-admin');
    apiKey = (
      await json<{ apiKey: string }>(
        await h.app.fetch('/api/v1/api-clients', {
          token: admin,
          json: { name: '审批系统', department: 'market', scopes: ['applications:write', 'applications:read'] },
        }),
        201,
      )
    ).apiKey;
  });
  after(() => h?.close());

  it('survives a worker killed in the middle of signing: one number, one certificate, no orphan blob', async () => {
    await h.worker.stop(); // the child process below is the only worker on the main queue
    const marker = path.join(tmp, 'crashed');
    const { output, exited } = await spawnCrashingWorker(h, { activity: 'signCertificate', marker });

    const { id } = await json<{ id: string }>(
      await h.app.fetch('/api/v1/applications', {
        apiKey,
        json: { ...LICENCE, mode: 'auto-seal', externalRef: 'KILL-1' },
      }),
      201,
    );
    const signal = await Promise.race([
      exited,
      new Promise((_, reject) => setTimeout(() => reject(new Error(`worker never crashed:\n${output()}`)), 90_000)),
    ]);
    assert.equal(signal, 'SIGKILL', output());
    assert.equal(fs.readFileSync(marker, 'utf8'), 'signCertificate');
    assert.equal((await h.t.db('certificates').where({ application_id: id })).length, 0, 'killed before storing');

    await h.restartWorker(); // a fresh worker picks the run up where it was
    const done = await waitForStatus(h.app, await h.app.login('market-handler'), id, 'issued', 90_000);
    const certs = await h.t.db('certificates').where({ application_id: id });
    assert.equal(certs.length, 1);
    number = certs[0].number;
    assert.match(number, /^BL-330100-\d{4}-0000001-[0-9A-Z]$/);
    assert.equal((done as unknown as { certificateNumber: string }).certificateNumber, number);
    assert.equal((await h.t.db('certificate_allocations').where({ application_id: id })).length, 1);
    assert.equal((await h.t.db('certificate_numbers').first()).last_serial, 1, 'no second number was taken');
    assert.deepEqual(
      blobFiles(h.blobDir),
      await referencedBlobs(h.t.db),
      'every blob is referenced; no orphan, no temp file',
    );
  });

  it('issues a PDF that pdfsig trusts, pdftotext reads in Chinese, and a record openssl verifies up to the root', async () => {
    assert.ok(number, 'needs the certificate of the previous test');
    const handler = await h.app.login('market-handler');
    const pdf = Buffer.from(
      await (await h.app.fetch(`/api/v1/certificates/${number}/pdf`, { token: handler })).arrayBuffer(),
    );
    const root = await (await h.app.fetch('/api/v1/trust/root.pem')).text();

    const sig = pdfsig(tmp, pdf, nssDatabase(tmp, [root]));
    assert.match(sig, /Signature Validation: Signature is Valid\./);
    assert.match(sig, /Certificate Validation: Certificate is Trusted\./);
    assert.match(sig, /Signer Certificate Common Name: 市场监督管理局/);

    const text = run('pdftotext', ['-layout', writeFile(tmp, 'cert.pdf', pdf), '-']).stdout;
    assert.match(text, /杭州西湖示例科技有限公司/);
    assert.ok(text.includes(number), `the number ${number} is printed`);

    const rec = await json<{
      canonical: string;
      signature: string;
      signerCertificate: string;
      record: { number: string; document: { sha256: string } };
    }>(await h.app.fetch(`/api/v1/certificates/${number}/record`, { token: handler }), 200);
    assert.equal(rec.record.number, number);
    const verified = run('openssl', [
      'cms',
      '-verify',
      '-binary',
      '-inform',
      'DER',
      '-in',
      writeFile(tmp, 'record.sig', Buffer.from(rec.signature, 'base64')),
      '-content',
      writeFile(tmp, 'record.json', rec.canonical),
      '-CAfile',
      writeFile(tmp, 'root.pem', root),
      '-certfile',
      writeFile(tmp, 'dept.pem', rec.signerCertificate),
      '-purpose',
      'any',
      '-out',
      '/dev/null',
    ]);
    assert.match(verified.stdout + verified.stderr, /Verification successful/);
    assert.equal(
      rec.record.document.sha256,
      (await import('node:crypto')).createHash('sha256').update(pdf).digest('hex'),
      'the record names this very PDF',
    );
  });

  it('seals an application with the type version it was made under, even after the type changed', async () => {
    const filler = await h.app.login('market-filler');
    const reviewer = await h.app.login('market-reviewer');
    const sealer = await h.app.login('market-sealer');
    const admin = await h.app.login('market-admin');
    const issueWith = async (before?: () => Promise<void>) => {
      const { id } = await json<{ id: string }>(
        await h.app.fetch('/api/v1/applications', { token: filler, json: LICENCE }),
        201,
      );
      await before?.();
      const review = await waitForTask(h.app, filler, id);
      const next = await json<{ currentStep: { taskId: number } }>(
        await h.app.fetch(`/api/v1/tasks/${review}/decision`, { token: reviewer, json: { decision: 'approve' } }),
        200,
      );
      await json(
        await h.app.fetch(`/api/v1/tasks/${next.currentStep.taskId}/decision`, {
          token: sealer,
          json: { decision: 'approve' },
        }),
        200,
      );
      const done = (await waitForStatus(h.app, filler, id, 'issued', 60_000)) as unknown as {
        certificateNumber: string;
        typeVersion: number;
      };
      const pdf = Buffer.from(
        await (
          await h.app.fetch(`/api/v1/certificates/${done.certificateNumber}/pdf`, {
            token: await h.app.login('market-handler'),
          })
        ).arrayBuffer(),
      );
      return { version: done.typeVersion, text: run('pdftotext', [writeFile(tmp, `v-${id}.pdf`, pdf), '-']).stdout };
    };
    // Submitted under version 1; while it waits for review, the admin publishes a new template.
    const old = await issueWith(async () => {
      const zip = new PizZip(fs.readFileSync(path.join(ROOT, 'templates/business-licence.docx')));
      zip.file('word/document.xml', zip.file('word/document.xml')!.asText().replace('营业执照', '营业执照（新版）'));
      await json(
        await h.app.fetch('/api/v1/certificate-types/BL/template', {
          method: 'POST',
          token: admin,
          body: zip.generate({ type: 'nodebuffer' }) as Buffer,
          headers: { 'content-type': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' },
        }),
        200,
      );
      await json(await h.app.fetch('/api/v1/certificate-types/BL/publish', { method: 'POST', token: admin }), 200);
    });
    assert.equal(old.version, 1);
    assert.match(old.text, /营业执照/);
    assert.doesNotMatch(old.text, /新版/);
    const fresh = await issueWith();
    assert.equal(fresh.version, 2);
    assert.match(fresh.text, /营业执照（新版）/);
  });

  it('calls the business system back with an HMAC signature it can check', async () => {
    const http = await import('node:http');
    const received: { body: string; signature: string }[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ body, signature: String(req.headers['x-certflow-signature']) });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const url = `${origin}/hook`;
      const clientId = apiKey.split('.')[0];
      const admin = await h.app.login('market-admin');
      const put = { method: 'PUT', token: admin, json: { callbackOrigins: [origin] } };
      await json(await h.app.fetch(`/api/v1/api-clients/${clientId}/callback-origins`, put), 200);
      const { id } = await json<{ id: string }>(
        await h.app.fetch('/api/v1/applications', {
          apiKey,
          json: { ...LICENCE, mode: 'auto-seal', callbackUrl: url },
        }),
        201,
      );
      for (let i = 0; i < 200 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(received.length, 1);
      const body = JSON.parse(received[0]!.body) as {
        applicationId: string;
        certificateNumber: string;
        downloadUrl: string;
      };
      assert.equal(body.applicationId, id);
      assert.match(body.certificateNumber, /^BL-/);
      const key = await json<{ key: string }>(await h.app.fetch('/api/v1/callbacks/signing-key', { apiKey }), 200);
      const expected = (await import('node:crypto'))
        .createHmac('sha256', Buffer.from(key.key, 'base64'))
        .update(received[0]!.body)
        .digest('hex');
      assert.equal(received[0]!.signature, `sha256=${expected}`);
    } finally {
      server.close();
    }
  });
});
