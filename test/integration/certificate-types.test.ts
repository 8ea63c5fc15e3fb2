import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import PizZip from 'pizzip';
import { forEachDatabase } from '../support/databases';
import { temporalEnv } from '../support/temporal';
import { startTestApp, testDeps, type TestApp } from '../support/app';
import { seedDemo, seedDemoTypes, DEMO_TYPES } from '../../db/seed-demo';
import { ensureDevelopmentTrust } from '../../services/trust/seals';
import { createDevelopmentRoot, decryptPrivateKey, issueDepartmentSigningCertificate } from '../../services/trust/pki';
import type { ActivityDeps } from '../../activities';

const TEMPLATES = path.resolve(__dirname, '../../templates');
const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
type Problem = { status: number; detail: string; errors?: { field: string; message: string }[] };

/** A copy of a shipped template with its document.xml edited. */
function editTemplate(file: string, edit: (xml: string) => string): Buffer {
  const zip = new PizZip(fs.readFileSync(path.join(TEMPLATES, file)));
  zip.file('word/document.xml', edit(zip.file('word/document.xml')!.asText()));
  return zip.generate({ type: 'nodebuffer' }) as Buffer;
}

const licenceType = (code: string) => ({ ...structuredClone(DEMO_TYPES[0]!.definition), code, department: 'market' });

forEachDatabase('certificate types', (get) => {
  let app: TestApp;
  let deps: ActivityDeps;
  let admin: string;

  before(async () => {
    const { db } = get();
    deps = testDeps(db);
    await seedDemo(db, 'certflow-demo');
    await ensureDevelopmentTrust(deps);
    assert.deepEqual(await seedDemoTypes(db, deps.blobs), ['BL', 'FBP']);
    app = await startTestApp({ db, temporal: (await temporalEnv()).client, deps });
    admin = await app.login('market-admin');
  });
  after(() => app?.close());

  it("seeds the demo types published, and a type's detail lists its face fields", async () => {
    const list = (await (await app.fetch('/api/v1/certificate-types?status=published', { token: admin })).json()) as {
      items: { code: string }[];
    };
    assert.deepEqual(
      list.items.map((t) => t.code),
      ['BL', 'FBP'],
    );
    const bl = (await (await app.fetch('/api/v1/certificate-types/BL', { token: admin })).json()) as {
      name: string;
      status: string;
      faceFields: { key: string; label: string; type: string; required: boolean }[];
      template: { problems: unknown[] };
    };
    assert.equal(bl.name, '营业执照');
    assert.equal(bl.status, 'published');
    assert.deepEqual(bl.faceFields[1], {
      key: 'creditCode',
      label: '统一社会信用代码',
      type: 'creditCode',
      required: true,
    });
    assert.deepEqual(bl.template.problems, []);
  });

  it("validates a new type's definition, naming each bad field", async () => {
    const bad = licenceType('BAD1');
    (bad.faceFields[2] as { options?: string[] }).options = undefined;
    bad.faceFields.push({ key: 'certificateNumber', label: '编号', type: 'text', required: true });
    (bad as { validity: unknown }).validity = { kind: 'term', months: 0 };
    const r = await app.fetch('/api/v1/certificate-types', { token: admin, json: bad });
    assert.equal(r.status, 422);
    const fields = ((await r.json()) as Problem).errors!.map((e) => e.field).sort();
    assert.deepEqual(fields, ['faceFields.2.options', 'faceFields.8.key', 'validity.months']);
    assert.equal(await get().db('certificate_types').where({ code: 'BAD1' }).first(), undefined);
  });

  it("a department admin of health cannot create, change, upload, publish or preview market's types", async () => {
    const health = await app.login('health-admin');
    const template = fs.readFileSync(path.join(TEMPLATES, 'business-licence.docx'));
    const attempts: [string, string, RequestInit & { json?: unknown }][] = [
      ['POST', '/api/v1/certificate-types', { json: licenceType('HX') }],
      ['PUT', '/api/v1/certificate-types/BL', { json: DEMO_TYPES[0]!.definition }],
      ['POST', '/api/v1/certificate-types/BL/template', { body: template, headers: { 'content-type': DOCX } }],
      ['POST', '/api/v1/certificate-types/BL/publish', {}],
      ['POST', '/api/v1/certificate-types/BL/retire', {}],
      ['POST', '/api/v1/certificate-types/BL/preview', { json: {} }],
    ];
    for (const [method, url, init] of attempts)
      assert.equal((await app.fetch(url, { method, token: health, ...init })).status, 403, `${method} ${url}`);
    const bl = await get().db('certificate_types').where({ code: 'BL' }).first();
    assert.equal(bl.latest_version, 1);
    assert.equal(bl.status, 'published');
  });

  it("checks an uploaded template's tags against the face fields, naming each bad tag", async () => {
    assert.equal(
      (await app.fetch('/api/v1/certificate-types', { token: admin, json: licenceType('TPL') })).status,
      201,
    );
    const upload = (body: Buffer, contentType = DOCX) =>
      app.fetch('/api/v1/certificate-types/TPL/template', {
        method: 'POST',
        token: admin,
        body,
        headers: { 'content-type': contentType },
      });

    const unknownTag = await upload(
      editTemplate('business-licence.docx', (x) => x.replace('{entityName}', '{companyName}')),
    );
    assert.equal(unknownTag.status, 422);
    const errors = ((await unknownTag.json()) as Problem).errors!;
    assert.deepEqual(errors.map((e) => e.field).sort(), ['companyName', 'entityName']);
    assert.match(
      errors.find((e) => e.field === 'entityName')!.message,
      /required face field entityName \(名称\) is missing/,
    );

    const unclosed = await upload(editTemplate('business-licence.docx', (x) => x.replace('{address}', '{address')));
    assert.equal(unclosed.status, 422);
    assert.match(JSON.stringify(await unclosed.json()), /address/);

    const noSeal = await upload(editTemplate('business-licence.docx', (x) => x.replace('{%seal}', '')));
    assert.equal(noSeal.status, 422);
    assert.deepEqual(
      ((await noSeal.json()) as Problem).errors!.map((e) => e.field),
      ['seal'],
    );

    const notDocx = await upload(Buffer.from('%PDF-1.7 not a docx'));
    assert.equal(notDocx.status, 422);
    assert.match(((await notDocx.json()) as Problem).detail, /not a DOCX/i);
    assert.equal((await upload(Buffer.from('x'), 'text/plain')).status, 415);

    assert.equal(
      (await get().db('certificate_types').where({ code: 'TPL' }).first()).latest_version,
      1,
      'nothing saved by bad uploads',
    );
    const good = await upload(fs.readFileSync(path.join(TEMPLATES, 'business-licence.docx')));
    assert.equal(good.status, 200);
    assert.equal(((await good.json()) as { version: number }).version, 2);
  });

  it('publishes only a type whose template fits; retires it; a retired type cannot change', async () => {
    assert.equal(
      (await app.fetch('/api/v1/certificate-types', { token: admin, json: licenceType('PUB') })).status,
      201,
    );
    const early = await app.fetch('/api/v1/certificate-types/PUB/publish', { method: 'POST', token: admin });
    assert.equal(early.status, 422);
    assert.match(((await early.json()) as Problem).detail, /template/);
    await app.fetch('/api/v1/certificate-types/PUB/template', {
      method: 'POST',
      token: admin,
      body: fs.readFileSync(path.join(TEMPLATES, 'business-licence.docx')),
      headers: { 'content-type': DOCX },
    });
    const published = (await (
      await app.fetch('/api/v1/certificate-types/PUB/publish', { method: 'POST', token: admin })
    ).json()) as { status: string; publishedVersion: number };
    assert.deepEqual([published.status, published.publishedVersion], ['published', 2]);
    assert.equal(
      (
        (await (await app.fetch('/api/v1/certificate-types/PUB/retire', { method: 'POST', token: admin })).json()) as {
          status: string;
        }
      ).status,
      'retired',
    );
    assert.equal(
      (
        await app.fetch('/api/v1/certificate-types/PUB', {
          method: 'PUT',
          token: admin,
          json: DEMO_TYPES[0]!.definition,
        })
      ).status,
      409,
    );
    const audit = await get()
      .db('audit_log')
      .where({ object_type: 'certificate-type', object_id: 'PUB' })
      .orderBy('seq')
      .select('action', 'outcome');
    assert.deepEqual(
      audit.map((a) => `${a.action}:${a.outcome}`),
      [
        'certificate-type.create:success',
        'certificate-type.publish:failure',
        'certificate-type.template:success',
        'certificate-type.publish:success',
        'certificate-type.retire:success',
        'certificate-type.update:failure',
      ],
    );
  });

  it('editing makes a new version; old versions stay as they were and still render', async () => {
    assert.equal(
      (await app.fetch('/api/v1/certificate-types', { token: admin, json: licenceType('VER') })).status,
      201,
    );
    await app.fetch('/api/v1/certificate-types/VER/template', {
      method: 'POST',
      token: admin,
      body: fs.readFileSync(path.join(TEMPLATES, 'business-licence.docx')),
      headers: { 'content-type': DOCX },
    });
    // Version 3: 注册资本 becomes optional and is renamed; the template still fits.
    const v3 = structuredClone(DEMO_TYPES[0]!.definition);
    v3.faceFields[5] = { ...v3.faceFields[5]!, label: '注册资本（万元）', required: false };
    const saved = await app.fetch('/api/v1/certificate-types/VER', {
      method: 'PUT',
      token: admin,
      json: { ...v3, expectedVersion: 2 },
    });
    assert.equal(saved.status, 200);
    assert.equal(((await saved.json()) as { version: number }).version, 3);
    const stale = await app.fetch('/api/v1/certificate-types/VER', {
      method: 'PUT',
      token: admin,
      json: { ...v3, expectedVersion: 2 },
    });
    assert.equal(stale.status, 409, 'a save based on an old version is refused');

    const old = (await (await app.fetch('/api/v1/certificate-types/VER?version=2', { token: admin })).json()) as {
      version: number;
      faceFields: { label: string; required: boolean }[];
    };
    assert.equal(old.version, 2);
    assert.deepEqual([old.faceFields[5]!.label, old.faceFields[5]!.required], ['注册资本', true]);

    const render = async (version: number) => {
      const r = await app.fetch(`/api/v1/certificate-types/VER/preview?format=docx&version=${version}`, {
        token: admin,
        json: { faceData: { registeredCapital: version === 2 ? '壹佰万元' : undefined } },
      });
      assert.equal(r.status, 200, await r.clone().text());
      return new PizZip(Buffer.from(await r.arrayBuffer())).file('word/document.xml')!.asText();
    };
    assert.match(await render(2), /壹佰万元/);
  });

  it('refuses a preview of face data that could not be sealed, naming each field', async () => {
    const faceData = { establishedOn: '2026-02-30', nickname: 'x' };
    const r = await app.fetch('/api/v1/certificate-types/BL/preview?format=docx', { token: admin, json: { faceData } });
    assert.equal(r.status, 422);
    const fields = ((await r.json()) as Problem).errors!.map((e) => e.field).sort();
    assert.deepEqual(fields, ['faceData.establishedOn', 'faceData.nickname']);
    const when = await app.fetch('/api/v1/certificate-types/BL/preview?format=docx', {
      token: admin,
      json: { issuedAt: 'tomorrow' },
    });
    assert.equal(when.status, 422);
    assert.deepEqual(
      ((await when.json()) as Problem).errors!.map((e) => e.field),
      ['issuedAt'],
    );
  });

  it('previews a template as a PDF that shows the Chinese sample text', async () => {
    if (get().kind === 'mysql') return; // LibreOffice does not care which database; once is enough
    const r = await app.fetch('/api/v1/certificate-types/FBP/preview', {
      token: admin,
      json: {
        faceData: { operatorName: '西湖区示例餐饮有限公司', businessItems: ['热食类食品制售', '冷食类食品制售'] },
      },
    });
    assert.equal(r.status, 200, await r.clone().text());
    assert.equal(r.headers.get('content-type'), 'application/pdf');
    const pdf = Buffer.from(await r.arrayBuffer());
    const text = execFileSync('pdftotext', ['-', '-'], { input: pdf }).toString();
    assert.match(text, /西湖区示例餐饮有限公司/);
    assert.match(text, /冷食类食品制售/);
    assert.match(text, /食品经营许可证/);
  });

  describe('seals', () => {
    it('keeps private keys encrypted at rest and out of every response', async () => {
      const { db } = get();
      const rows = [
        ...(await db('seals').select('encrypted_private_key as k')),
        ...(await db('trust_roots').select('encrypted_private_key as k')),
      ];
      assert.ok(rows.length >= 3);
      for (const { k } of rows) {
        assert.match(k, /^v1:/);
        const pem = await decryptPrivateKey(k, deps.masterKey);
        assert.match(pem, /BEGIN PRIVATE KEY/);
        // The key's own base64 DER (not just any "MII", which random ciphertext contains now and then).
        const der = pem.replace(/-----[^-]+-----|\s/g, '');
        assert.ok(!k.includes('PRIVATE KEY') && !k.includes(der.slice(0, 48)), 'no PEM or DER key in the column');
        await assert.rejects(
          decryptPrivateKey(k, Buffer.from('another-master-key-of-enough-length')),
          /wrong master key/,
        );
      }
      const listed = await (await app.fetch('/api/v1/seals', { token: admin })).text();
      assert.ok(!/PRIVATE|encrypted|v1:/.test(listed), listed.slice(0, 200));
      const seals = JSON.parse(listed).items as { department: string }[];
      assert.ok(seals.length > 0 && seals.every((s) => s.department === 'market'));
    });

    it('imports a seal from the platform CA, and refuses one from a foreign CA naming why', async () => {
      const { db } = get();
      const root = await db('trust_roots').first();
      const rootCa = {
        certificatePem: root.certificate_pem,
        privateKeyPem: await decryptPrivateKey(root.encrypted_private_key, deps.masterKey),
      };
      const image = fs.readFileSync(path.join(TEMPLATES, 'seals', 'market.png')).toString('base64');
      const department = { code: 'market', name: '市场监督管理局', regionCode: '330100' };
      const issued = await issueDepartmentSigningCertificate({ root: rootCa, department, validityDays: 30 });
      const ok = await app.fetch('/api/v1/seals', {
        token: admin,
        json: {
          department: 'market',
          name: '市场监管局合同专用章',
          image,
          isDefault: false,
          certificatePem: issued.certificatePem,
          privateKeyPem: issued.privateKeyPem,
        },
      });
      assert.equal(ok.status, 201, await ok.clone().text());

      const foreign = await issueDepartmentSigningCertificate({
        root: await createDevelopmentRoot({ commonName: 'Some Other CA' }),
        department,
        validityDays: 30,
      });
      const bad = await app.fetch('/api/v1/seals', {
        token: admin,
        json: {
          department: 'market',
          name: '伪造章',
          image,
          certificatePem: foreign.certificatePem,
          privateKeyPem: foreign.privateKeyPem,
        },
      });
      assert.equal(bad.status, 422);
      assert.match(((await bad.json()) as Problem).detail, /Cannot use this seal/);
      const health = await app.login('health-admin');
      assert.equal(
        (await app.fetch('/api/v1/seals', { token: health, json: { department: 'market', name: '越权', image } }))
          .status,
        403,
      );
    });

    it('publishes the trust anchors for relying parties', async () => {
      const root = await app.fetch('/api/v1/trust/root.pem');
      assert.equal(root.status, 200);
      assert.match(await root.text(), /BEGIN CERTIFICATE/);
      const market = await (await app.fetch('/api/v1/trust/departments/market.pem')).text();
      const subject = execFileSync('openssl', ['x509', '-noout', '-subject', '-nameopt', 'utf8'], {
        input: market,
      }).toString();
      assert.match(subject, /市场监督管理局/);
      assert.equal((await app.fetch('/api/v1/trust/departments/nowhere.pem')).status, 404);
    });
  });
});
