import assert from 'node:assert/strict';
import { testWarmConverter } from '../../support/app';
import type { Client } from '@temporalio/client';
import { forEachDatabase } from '../../support/databases';
import { startTestApp, type TestApp } from '../../support/app';
import { rootCertificatePem } from '../../../services/trust/seals';
import { verifyRecordSignature } from '../../../services/trust/sign-record';
import { getCertificate } from '../../../db/certificates';
import { formatCertificateNumber } from '../../../domain/certificate-number';
import { createApplication, issue, setupSealing, type SealingSetup } from './helpers';

/** GET /certificates/:number, /pdf, /record: who may read, what they see, what is audited. */
/** The run's shared warm LibreOffice pool (closed by the root hook). */
const converter = testWarmConverter();

forEachDatabase('certificate routes', (get) => {
  let s: SealingSetup;
  let app: TestApp;
  let entity: string;
  let person: string;
  const tokens: Record<string, string> = {};

  before(async () => {
    const { db } = get();
    s = await setupSealing(db, converter);
    entity = (await issue(s, await createApplication(db, s.deps.masterKey))).number;
    person = (
      await issue(
        s,
        await createApplication(db, s.deps.masterKey, {
          typeCode: 'PQ',
          holder: { kind: 'person', id: '11010519491231002X', name: '张三' },
        }),
      )
    ).number;
    await s.acts.warmCache(entity);
    // These routes never touch Temporal.
    app = await startTestApp({ db, temporal: {} as Client, deps: s.deps });
    for (const u of [
      'market-handler',
      'market-reviewer',
      'health-handler',
      'health-admin',
      'platform-admin',
      'market-admin',
    ])
      tokens[u] = await app.login(u);
  });
  after(() => app?.close());

  const apiClient = async (department: string, scopes: string[]) => {
    const admin = department === 'market' ? tokens['market-admin'] : tokens['health-admin'];
    const r = await app.fetch('/api/v1/api-clients', {
      token: admin,
      json: { name: `${department} 业务系统`, department, scopes },
    });
    assert.equal(r.status, 201);
    return ((await r.json()) as { apiKey: string }).apiKey;
  };

  it('the issuing department reads it, holder ID masked; ?reveal=holderId shows it and is audited', async () => {
    const r = await app.fetch(`/api/v1/certificates/${entity.toLowerCase()}`, { token: tokens['market-handler'] });
    assert.equal(r.status, 200);
    const c = (await r.json()) as {
      number: string;
      holder: { id: string; idMasked: boolean; name: string };
      status: string;
      statusCode: string;
      type: { code: string };
      documents: { pdf: string };
    };
    assert.equal(c.number, entity, 'lower-case input is accepted and answered in canonical form');
    assert.deepEqual(c.holder, {
      kind: 'entity',
      codeType: '001',
      name: '杭州西湖数字科技有限公司',
      id: '913501********0Y43',
      idMasked: true,
    });
    assert.deepEqual([c.status, c.statusCode, c.type.code], ['valid', '01', 'BL']);

    const revealed = (await (
      await app.fetch(`/api/v1/certificates/${person}?reveal=holderId`, { token: tokens['market-handler'] })
    ).json()) as { holder: { id: string; idMasked: boolean } };
    assert.deepEqual([revealed.holder.id, revealed.holder.idMasked], ['11010519491231002X', false]);
    const masked = (await (
      await app.fetch(`/api/v1/certificates/${person}`, { token: tokens['market-reviewer'] })
    ).json()) as { holder: { id: string } };
    assert.equal(masked.holder.id, '110105********002X');

    const audit = await get()
      .db('audit_log')
      .where({ action: 'certificate.read', object_id: person })
      .orderBy('seq')
      .select('actor_name', 'detail', 'outcome');
    assert.deepEqual(
      audit.map((a) => [a.actor_name, a.outcome, Boolean(a.detail && JSON.parse(a.detail).holderIdRevealed === true)]),
      [
        ['market-handler', 'success', true],
        ['market-reviewer', 'success', false],
      ],
    );
  });

  it('a health handler cannot read a market certificate, nor its PDF or record; the refusal is audited', async () => {
    for (const suffix of ['', '/pdf', '/record']) {
      for (const who of ['health-handler', 'health-admin', 'platform-admin']) {
        const r = await app.fetch(`/api/v1/certificates/${entity}${suffix}`, { token: tokens[who] });
        assert.equal(r.status, 403, `${who} GET ${suffix || '/'}`);
      }
    }
    const denied = await get()
      .db('audit_log')
      .where({ category: 'authorization', actor_name: 'health-handler', action: 'certificate.read' })
      .select('outcome', 'department');
    assert.equal(denied.length, 3);
    assert.ok(denied.every((d) => d.outcome === 'denied' && d.department === 'market'));
  });

  it('business systems: certificates:read in the issuing department only', async () => {
    const reader = await apiClient('market', ['certificates:read']);
    const writerOnly = await apiClient('market', ['applications:write']);
    const otherDept = await apiClient('health', ['certificates:read']);
    const why = `?reason=${encodeURIComponent('办理企业变更登记核验营业执照')}`;
    assert.equal((await app.fetch(`/api/v1/certificates/${entity}${why}`, { apiKey: reader })).status, 200);
    const noReason = await app.fetch(`/api/v1/certificates/${entity}/pdf`, { apiKey: reader });
    assert.equal(noReason.status, 422, 'business systems state their reason for use');
    assert.equal(((await noReason.json()) as { errors: { field: string }[] }).errors[0]!.field, 'reason');
    const audited = await get()
      .db('audit_log')
      .where({ action: 'certificate.read', object_id: entity, outcome: 'success' })
      .orderBy('seq', 'desc')
      .first();
    assert.match(audited.detail, /办理企业变更登记核验营业执照/);
    assert.equal((await app.fetch(`/api/v1/certificates/${entity}${why}`, { apiKey: writerOnly })).status, 403);
    assert.equal((await app.fetch(`/api/v1/certificates/${entity}/pdf${why}`, { apiKey: otherDept })).status, 403);
    assert.equal((await app.fetch(`/api/v1/certificates/${entity}`)).status, 401);
  });

  it('unknown numbers are 404, malformed ones 400 naming the parameter', async () => {
    const unknown = formatCertificateNumber({ typeCode: 'BL', region: '330100', year: 2020, serial: 1 });
    const r404 = await app.fetch(`/api/v1/certificates/${unknown}`, { token: tokens['market-handler'] });
    assert.equal(r404.status, 404);
    const bad = await app.fetch('/api/v1/certificates/BL-330100-2020-0000001-Z', { token: tokens['market-handler'] });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { errors: { field: string }[] }).errors[0]!.field, 'path.number');
  });

  it('/pdf is the signed PDF; /record is the signed canonical record with the signer chain', async () => {
    const cert = (await getCertificate(get().db, entity))!;
    const pdf = await app.fetch(`/api/v1/certificates/${entity}/pdf`, { token: tokens['market-handler'] });
    assert.equal(pdf.headers.get('content-type'), 'application/pdf');
    assert.deepEqual(Buffer.from(await pdf.arrayBuffer()), await s.deps.blobs.get(cert.pdfSha256));

    const rec = (await (
      await app.fetch(`/api/v1/certificates/${entity}/record`, { token: tokens['market-handler'] })
    ).json()) as {
      record: { number: string; document: { sha256: string } };
      canonical: string;
      signature: string;
      signerCertificate: string;
      chain: string[];
    };
    assert.equal(rec.canonical, cert.record);
    assert.equal(rec.record.number, entity);
    assert.equal(rec.record.document.sha256, cert.pdfSha256);
    const root = (await rootCertificatePem(get().db))!;
    assert.deepEqual(rec.chain, [root]);
    const report = verifyRecordSignature(Buffer.from(rec.canonical), rec.signature, root, {
      issuerDepartmentCode: 'market',
    });
    assert.equal(report.ok, true);
    assert.equal(report.signer?.certificatePem, rec.signerCertificate);
  });
});
