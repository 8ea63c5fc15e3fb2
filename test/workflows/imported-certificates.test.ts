import assert from 'node:assert/strict';
import { issuanceHarness, json, LICENCE, type IssuanceHarness } from '../support/issuance';
import { createType, setTypeStatus } from '../../db/certificate-types';
import { getDepartment } from '../../db/org';
import { DEMO_TYPES } from '../../db/seed-demo';
import { formatCertificateNumber, parseCertificateNumber } from '../../domain/certificate-number';

/** A PDF as another system made it: certflow only stores it (register) or keeps it beside its own (reseal). */
const ORIGINAL = Buffer.from(
  '%PDF-1.4\n% made by the old licensing system\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n',
);
const SIGNATURE = Buffer.from('detached signature bytes of the old system');

interface Imported {
  applicationId: string;
  number: string | null;
  identifier: string | null;
  origin: string;
  status: string;
  attachments: { kind: string; sha256: string }[];
}

/**
 * Issue 16 item 3, one at a time (mode 3): a business system posts a certificate made elsewhere,
 * with its PDF and signature; certflow registers it as it was, or reseals it (the type's importMode).
 */
describe('importing one certificate made elsewhere (docs/import.md)', function () {
  this.timeout(180_000);
  let h: IssuanceHarness;
  let apiKey = '';
  const body = (over: Record<string, unknown> = {}) => ({
    ...LICENCE,
    issueDate: '2018-06-01',
    validUntil: '2038-05-31',
    document: { pdf: ORIGINAL.toString('base64'), signature: SIGNATURE.toString('base64') },
    ...over,
  });
  const post = (b: unknown, headers: Record<string, string> = {}) =>
    h.app.fetch('/api/v1/imported-certificates', { apiKey, json: b, headers });

  before(async () => {
    h = await issuanceHarness('sqlite');
    const admin = await h.app.login('market-admin');
    apiKey = (
      await json<{ apiKey: string }>(
        await h.app.fetch('/api/v1/api-clients', {
          token: admin,
          json: { name: '旧证照系统', department: 'market', scopes: ['certificates:import', 'applications:read'] },
        }),
        201,
      )
    ).apiKey;
  });
  after(() => h?.close());

  it('registers it as it was: origin imported, its own number kept beside an allocated one, its PDF served', async () => {
    const key = { 'idempotency-key': 'old-1' };
    const made = await json<Imported>(await post(body({ number: '浙工商-2018-77' }), key), 201);
    assert.equal(made.origin, 'imported');
    assert.equal(made.status, 'valid');
    assert.ok(parseCertificateNumber(made.number).ok, `${made.number} is a certflow number`);
    assert.deepEqual(made.attachments.map((a) => a.kind).sort(), ['original-pdf', 'original-signature']);
    const again = await json<Imported>(await post(body({ number: '浙工商-2018-77' }), key), 200);
    assert.equal(again.number, made.number, 'a retry returns the first one');
    assert.equal((await h.t.db('certificates').where({ original_number: '浙工商-2018-77' })).length, 1);

    const handler = await h.app.login('market-handler');
    const cert = await json<{ origin: string; originalNumber: string; validUntil: string; issuedAt: string }>(
      await h.app.fetch(`/api/v1/certificates/${made.number}`, { token: handler }),
      200,
    );
    assert.deepEqual([cert.origin, cert.originalNumber, cert.validUntil], ['imported', '浙工商-2018-77', '2038-05-31']);
    const pdf = await h.app.fetch(`/api/v1/certificates/${made.number}/pdf`, { token: handler });
    assert.deepEqual(Buffer.from(await pdf.arrayBuffer()), ORIGINAL);
    const verified = await json<{ checks: { id: string; outcome: string; reason: string }[] }>(
      await h.app.fetch(`/api/v1/verify/${made.number}`),
      200,
    );
    const signature = verified.checks.find((c) => c.id === 'recordSignature')!;
    assert.match(signature.reason, /imported as it was/);
    const app = await json<{ mode: string; status: string; certificateNumber: string }>(
      await h.app.fetch(`/api/v1/applications/${made.applicationId}`, { apiKey }),
      200,
    );
    assert.deepEqual([app.mode, app.status, app.certificateNumber], ['import', 'issued', made.number]);
    const audit = await h.t.db('audit_log').where({ action: 'certificate.import', object_id: made.number });
    assert.equal(audit.length, 1);
  });

  it('keeps a number in certflow format when free, refuses it when taken, and names bad fields', async () => {
    const number = formatCertificateNumber({ typeCode: 'BL', region: '330100', year: 2018, serial: 4242 });
    const holder = { kind: 'entity', id: '91330106MA2B3C4DB0', name: '杭州西湖示例科技有限公司' };
    const kept = await json<Imported>(await post(body({ number, holder, externalRef: 'OLD-2' })), 201);
    assert.equal(kept.number, number);
    const taken = await json<{ detail: string }>(await post(body({ number, externalRef: 'OLD-3' })), 409);
    assert.match(taken.detail, /already registered/);

    const bad = await json<{ errors: { field: string }[] }>(
      await post(body({ faceData: { ...LICENCE.faceData, entityType: '无限公司' }, externalRef: 'OLD-4' })),
      422,
    );
    assert.deepEqual(
      bad.errors.map((e) => e.field),
      ['faceData.entityType'],
    );
    const notPdf = await json<{ errors: { field: string }[] }>(
      await post(body({ document: { pdf: Buffer.from('hello').toString('base64') }, externalRef: 'OLD-5' })),
      422,
    );
    assert.deepEqual(
      notPdf.errors.map((e) => e.field),
      ['document.pdf'],
    );
    const future = await json<{ errors: { field: string }[] }>(
      await post(body({ issueDate: '2999-01-01', externalRef: 'OLD-6' })),
      422,
    );
    assert.deepEqual(
      future.errors.map((e) => e.field),
      ['issueDate'],
    );
    const filler = await h.app.login('market-filler');
    await json(await h.app.fetch('/api/v1/imported-certificates', { token: filler, json: body() }), 403);
    assert.equal((await h.t.db('applications').where('external_ref', 'like', 'OLD-%')).length, 1, 'only OLD-2');
  });

  it('reseals it when the type says so: a certflow rendition through the sealing pipeline, the original attached', async () => {
    const bl = DEMO_TYPES[0]!;
    const dept = (await getDepartment(h.t.db, 'market'))!;
    const template = await h.t
      .db('certificate_type_versions as v')
      .join('certificate_types as t', 't.id', 'v.type_id')
      .where('t.code', 'BL')
      .first('v.template_sha256');
    await createType(h.t.db, {
      code: 'BLR',
      departmentId: dept.id,
      definition: { ...bl.definition, importMode: 'reseal' },
      templateSha256: template.template_sha256,
      createdBy: 'test',
    });
    await setTypeStatus(h.t.db, 'BLR', 'published', 1);

    const number = formatCertificateNumber({ typeCode: 'BLR', region: '330100', year: 2018, serial: 7 });
    const made = await json<Imported>(await post(body({ typeCode: 'BLR', number, externalRef: 'RESEAL-1' })), 201);
    assert.equal(made.number, number, 'the number is fixed before sealing');
    assert.equal(made.status, 'sealing');
    const deadline = Date.now() + 120_000;
    for (;;) {
      const app = await json<{ status: string }>(
        await h.app.fetch(`/api/v1/applications/${made.applicationId}`, { apiKey }),
        200,
      );
      if (app.status === 'issued') break;
      assert.ok(Date.now() < deadline, `the resealed application is still ${app.status}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const cert = await h.t.db('certificates').where({ application_id: made.applicationId }).first();
    assert.equal(cert.number, number);
    assert.equal(cert.origin, 'issued', 'a certflow rendition');
    assert.notEqual(cert.pdf_sha256, made.attachments.find((a) => a.kind === 'original-pdf')!.sha256);
    const attachment = await h.t.db('certificate_attachments').where({ application_id: made.applicationId });
    assert.equal(attachment.length, 2);
    assert.deepEqual(await h.deps.blobs.get(attachment.find((a) => a.kind === 'original-pdf')!.blob_sha256), ORIGINAL);
  });
});
