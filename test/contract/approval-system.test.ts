import assert from 'node:assert/strict';
import { issuanceHarness, json, LICENCE, type IssuanceHarness } from '../support/issuance';
import * as approval from '../../examples/approval-system/approval-system';
import { queryAudit } from '../../db/audit';

/** examples/approval-system run against a live instance: what its README promises, end to end. */
describe('examples/approval-system against a live certflow', function () {
  this.timeout(120_000);
  let h: IssuanceHarness;
  let cf: approval.Certflow;
  let admin: string;
  let clientId: string;

  before(async () => {
    h = await issuanceHarness('sqlite');
    admin = await h.app.login('market-admin');
    const scopes = ['applications:write', 'applications:read', 'certificates:read'];
    const { apiKey, id } = await json<{ apiKey: string; id: string }>(
      await h.app.fetch('/api/v1/api-clients', {
        token: admin,
        json: { name: '一网通办审批系统', department: 'market', scopes },
      }),
      201,
    );
    cf = { baseUrl: h.app.url, apiKey };
    clientId = id;
  });
  after(() => h?.close());

  it('submits, retries, receives the signed callback, downloads with its reason and verifies the PDF', async () => {
    const key = await approval.signingKey(cf);
    assert.equal(key.length, 32, 'the key is base64 of 32 bytes');
    const received: approval.Callback[] = [];
    const receiver = await approval.startReceiver(key, (c) => received.push(c));
    try {
      // Callbacks go only to origins the department admin registered for the client (docs/security.md).
      await json(
        await h.app.fetch(`/api/v1/api-clients/${clientId}/callback-origins`, {
          token: admin,
          method: 'PUT',
          json: { callbackOrigins: [new URL(receiver.url).origin] },
        }),
        200,
      );
      const application = { typeCode: LICENCE.typeCode, holder: LICENCE.holder, faceData: LICENCE.faceData };
      const first = await approval.submit(cf, 'QY-2026-000777', {
        ...application,
        mode: 'auto-seal',
        callbackUrl: receiver.url,
      });
      assert.equal(first.httpStatus, 201);
      assert.equal(first.status, 'sealing', 'auto-seal reviews nothing');
      assert.equal(first.location, `/api/v1/applications/${first.id}`);
      const retry = await approval.submit(cf, 'QY-2026-000777', {
        ...application,
        mode: 'auto-seal',
        callbackUrl: receiver.url,
      });
      assert.deepEqual([retry.httpStatus, retry.id], [200, first.id], 'a retry gets the same application');

      const deadline = Date.now() + 90_000;
      while (!received.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      const [callback] = received;
      assert.ok(callback, 'no callback within 90 s');
      assert.equal(callback.event, 'certificate.issued');
      assert.equal(callback.body.applicationId, first.id);
      assert.equal(callback.body.externalRef, 'QY-2026-000777');
      assert.match(callback.body.downloadUrl!, /\/pdf\?reason=/);

      // The link is on PUBLIC_URL; this instance listens on a free port instead.
      const link = new URL(callback.body.downloadUrl!);
      assert.equal(link.origin, new URL(h.deps.config.http.publicUrl).origin);
      const { pdf, sha256Header } = await approval.download(cf, `${h.app.url}${link.pathname}${link.search}`);
      assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
      assert.match(sha256Header ?? '', /^[0-9a-f]{64}$/);
      const report = await approval.verifyPdf(cf, pdf);
      assert.equal(report.verdict, 'valid');
      assert.equal(report.certificate?.number, callback.body.certificateNumber);

      // The download is audited with the reason the link carries.
      const rows = await queryAudit(h.t.db, {
        objectType: 'certificate',
        objectId: callback.body.certificateNumber,
        limit: 20,
      });
      const entry = rows.entries.find((r) => r.action === 'certificate.download');
      assert.match(JSON.stringify(entry?.detail), /certificate\.issued callback/);
    } finally {
      await receiver.close();
    }
  });

  it('a receiver refuses a callback whose signature does not match', () => {
    const key = Buffer.alloc(32, 7);
    const body = Buffer.from('{"status":"issued"}');
    assert.ok(!approval.verifySignature(key, body, 'sha256=' + '0'.repeat(64)));
    assert.ok(!approval.verifySignature(key, body, undefined));
  });
});
