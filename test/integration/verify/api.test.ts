import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import { forEachDatabase } from '../../support/databases';
import { startTestApp, testWarmConverter, type TestApp } from '../../support/app';
import { createMemoryCache } from '../../../platform/cache';
import { createApplication, issue, setupSealing, type Issued, type SealingSetup } from '../sealing/helpers';
import { certificateCacheKey } from '../../../db/certificate-cache';
import { getCertificate } from '../../../db/certificates';
import { findNumberBySignedPdf } from '../../../db/verification';
import { formatCertificateNumber } from '../../../domain/certificate-number';
import type { VerificationReport } from '../../../services/verify';
import { allPassedExcept, NUMBER_CHECKS, outcomes, PDF_CHECKS, RECORD_CHECKS } from './helpers';

/**
 * POST /verify, GET /verify/:number and POST /certificates/:number/compare over HTTP, on
 * SQLite and MariaDB: public access, the report's shape and privacy, revocation seen at once
 * through the cache, rate limiting, who may compare, and the audit trail of both.
 */
const PERSON_ID = '11010519491231002X';

forEachDatabase('verify and compare API', (get) => {
  let s: SealingSetup;
  let app: TestApp;
  let entity: Issued;
  let person: Issued;
  let spare: Issued;
  const tokens: Record<string, string> = {};

  before(async function () {
    this.timeout(60_000);
    const { db } = get();
    await testWarmConverter().start(); // shared by the run, closed by the root hook
    s = await setupSealing(db, testWarmConverter());
    entity = await issue(s, await createApplication(db, s.deps.masterKey));
    person = await issue(
      s,
      await createApplication(db, s.deps.masterKey, {
        typeCode: 'PQ',
        holder: { kind: 'person', id: PERSON_ID, name: '张三丰' },
      }),
    );
    spare = await issue(s, await createApplication(db, s.deps.masterKey));
    const config = { ...s.deps.config, verify: { rateLimitPerMinute: 1000 } };
    app = await startTestApp({ db, temporal: {} as Client, deps: s.deps, config });
    for (const u of ['market-handler', 'market-filler', 'health-handler', 'health-filler', 'health-admin'])
      tokens[u] = await app.login(u);
  });
  after(() => app?.close());

  const report = async (r: Response) => {
    assert.equal(r.status, 200, await r.clone().text());
    return (await r.json()) as VerificationReport;
  };
  const verifyNumber = (n: string, token?: string) => app.fetch(`/api/v1/verify/${n}`, { token });
  const compare = (n: string, body: unknown, auth: { token?: string; apiKey?: string }) =>
    app.fetch(`/api/v1/certificates/${n}/compare`, { ...auth, json: body });
  const apiClient = async (scopes: string[]) => {
    const r = await app.fetch('/api/v1/api-clients', {
      token: tokens['health-admin'],
      json: { name: `卫健业务系统 ${scopes.join(' ')}`, department: 'health', scopes },
    });
    assert.equal(r.status, 201, await r.clone().text());
    return ((await r.json()) as { apiKey: string }).apiKey;
  };

  it('GET /verify/:number is public: a valid report with the public face, no full ID numbers', async () => {
    const r = await report(await verifyNumber(person.number.toLowerCase()));
    assert.equal(r.verdict, 'valid');
    assert.deepEqual(outcomes(r), allPassedExcept(NUMBER_CHECKS, {}));
    assert.deepEqual(r.certificate?.holder, { kind: 'person', name: '张*丰', idMasked: '11**************2X' });
    assert.equal(r.certificate?.type.name, '个体经营资格证');
    const text = JSON.stringify(await report(await verifyNumber(entity.number)));
    assert.ok(!JSON.stringify(r).includes(PERSON_ID) && !text.includes('91350100M000100Y43'), 'never a full holder ID');
    assert.ok(text.includes('913501********0Y43'));
  });

  it('POST /verify takes the PDF or {record, signature}; a changed byte fails integrity', async () => {
    const pdf = await s.deps.blobs.get(entity.signedPdfSha);
    const upload = (body: Buffer) =>
      app.fetch('/api/v1/verify', { method: 'POST', body, headers: { 'content-type': 'application/pdf' } });
    assert.deepEqual(outcomes(await report(await upload(pdf))), allPassedExcept(PDF_CHECKS, {}));
    const tampered = Buffer.from(pdf);
    tampered[2000] = tampered[2000]! ^ 0x20;
    const bad = await report(await upload(tampered));
    assert.equal(bad.verdict, 'invalid');
    assert.deepEqual(outcomes(bad), allPassedExcept(PDF_CHECKS, { integrity: 'failed', pdfHash: 'failed' }));

    const rec = (await (
      await app.fetch(`/api/v1/certificates/${entity.number}/record`, { token: tokens['market-handler'] })
    ).json()) as { canonical: string; signature: string };
    const ok = await report(
      await app.fetch('/api/v1/verify', { json: { record: rec.canonical, signature: rec.signature } }),
    );
    assert.deepEqual(outcomes(ok), allPassedExcept(RECORD_CHECKS, {}));
  });

  it('bad input is a 4xx naming what is wrong, never a 500', async () => {
    const problem = async (r: Response, status: number) => {
      assert.equal(r.status, status, await r.clone().text());
      return (await r.json()) as { errors?: { field: string }[] };
    };
    await problem(
      await app.fetch('/api/v1/verify', { method: 'POST', body: 'hello', headers: { 'content-type': 'text/plain' } }),
      415,
    );
    assert.deepEqual(
      (await problem(await app.fetch('/api/v1/verify', { json: { record: '{}' } }), 422)).errors?.map((e) => e.field),
      ['signature'],
    );
    assert.deepEqual(
      (
        await problem(await app.fetch('/api/v1/verify', { json: { record: 'not json', signature: 'AAAA' } }), 422)
      ).errors?.map((e) => e.field),
      ['record'],
    );
    await problem(
      await app.fetch('/api/v1/verify', {
        method: 'POST',
        body: Buffer.from('hello'),
        headers: { 'content-type': 'application/pdf' },
      }),
      422,
    );
    assert.deepEqual(
      (await problem(await verifyNumber('BL-330100-2026-0000001-Q'), 400)).errors?.map((e) => e.field),
      ['path.number'],
    );
    const garbage = await report(
      await app.fetch('/api/v1/verify', { json: { record: '{"number":"x"}', signature: 'bm90IGEgc2lnbmF0dXJl' } }),
    );
    assert.deepEqual(
      [garbage.verdict, outcomes(garbage).recordSignature, outcomes(garbage).status],
      ['invalid', 'failed', 'failed'],
    );
  });

  it('revocation shows at once: the cache serves the row until the revocation deletes its key', async () => {
    const { db } = get();
    assert.equal((await report(await verifyNumber(spare.number))).verdict, 'valid'); // warms the cache
    await db('certificates')
      .where({ number: spare.number })
      .update({ status: 'revoked', status_changed_at: new Date(), status_reason: '申请人撤回' });
    assert.equal((await report(await verifyNumber(spare.number))).verdict, 'valid', 'the cache is in front of the row');
    await app.deps.cache.del(certificateCacheKey(spare.number));
    const r = await report(await verifyNumber(spare.number));
    assert.deepEqual(outcomes(r), allPassedExcept(NUMBER_CHECKS, { status: 'failed' }));
    assert.match(
      r.checks.find((c) => c.id === 'status')!.reason,
      /^revoked \(吊销\) on \d{4}-\d{2}-\d{2}: 申请人撤回$/,
    );
    assert.deepEqual([r.certificate?.status, r.certificate?.statusCode], ['revoked', '07']);
  });

  it('every verification is audited: caller, certificate, verdict', async () => {
    const { db } = get();
    await report(await verifyNumber(entity.number, tokens['health-handler']));
    const rows = await db('audit_log')
      .where({ category: 'verification', object_id: entity.number })
      .orderBy('seq')
      .select('actor_type', 'actor_name', 'outcome', 'department', 'detail', 'ip');
    assert.ok(rows.length >= 3, `${rows.length} entries`);
    const details = rows.map((r) => JSON.parse(r.detail) as { verdict: string; input: string; failed: string[] });
    assert.ok(
      rows.some(
        (r, i) =>
          r.actor_type === 'anonymous' &&
          r.outcome === 'success' &&
          details[i]!.verdict === 'valid' &&
          details[i]!.input === 'number',
      ),
    );
    assert.ok(
      rows.some(
        (r, i) =>
          r.outcome === 'failure' && details[i]!.verdict === 'invalid' && details[i]!.failed.includes('integrity'),
      ),
      'the tampered upload',
    );
    assert.deepEqual([rows.at(-1).actor_name, rows.at(-1).department], ['health-handler', 'market']);
    assert.ok(rows.every((r) => r.ip));
  });

  it('rate limit per client IP: 429 with Retry-After, the first refusal audited once', async () => {
    const { db } = get();
    const limited = await startTestApp({
      db,
      temporal: {} as Client,
      deps: s.deps,
      cache: createMemoryCache(100),
      config: { ...s.deps.config, verify: { rateLimitPerMinute: 3 } },
    });
    try {
      const statuses = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 5; i++) {
        const r = await limited.fetch(`/api/v1/verify/${entity.number}`);
        statuses.push(r.status);
        if (r.status === 429) retryAfter = r.headers.get('retry-after');
        await r.arrayBuffer();
      }
      // Three in one minute; should the minute roll over mid-loop, one more may pass.
      assert.ok(
        statuses.filter((x) => x === 429).length >= 1 && statuses.slice(0, 3).every((x) => x === 200),
        statuses.join(),
      );
      assert.ok(Number(retryAfter) >= 1 && Number(retryAfter) <= 60, String(retryAfter));
    } finally {
      await limited.close();
    }
    const denied = await db('audit_log').where({ category: 'verification', outcome: 'denied' }).count({ n: '*' });
    assert.equal(Number(denied[0]!.n), 1);
  });

  it("compare: per-field match for the issuing department and any department's handler, never the values", async () => {
    const r = await compare(
      entity.number,
      {
        reason: '办理食品经营许可核验营业执照',
        fields: {
          entityName: ' 杭州西湖数字科技有限公司 ',
          creditCode: '91350100m000100y43',
          registeredCapital: '人民币壹佰万元整',
          holderId: '91350100m000100y43',
          holderName: '杭州西湖数字科技有限公司',
        },
      },
      { token: tokens['market-handler'] },
    );
    const text = await r.text();
    assert.equal(r.status, 200, text);
    assert.deepEqual(JSON.parse(text).results, {
      entityName: { match: true },
      creditCode: { match: true },
      registeredCapital: { match: false },
      holderId: { match: true },
      holderName: { match: true },
    });
    assert.ok(!text.includes('伍佰万'), 'the stored value is never shown');

    const other = await compare(
      person.number,
      { reason: '核验个体经营资格', fields: { holderId: '11010519491231002x', holderName: '张三丰' } },
      { token: tokens['health-handler'] },
    );
    assert.equal(other.status, 200);
    assert.deepEqual(((await other.json()) as { results: unknown }).results, {
      holderId: { match: true },
      holderName: { match: true },
    });
    const wrong = await compare(
      person.number,
      { reason: '核验', fields: { holderId: '110105194912310003' } },
      { token: tokens['health-handler'] },
    );
    assert.deepEqual(((await wrong.json()) as { results: unknown }).results, { holderId: { match: false } });

    const key = await apiClient(['certificates:compare']);
    const bySystem = await compare(
      entity.number,
      { reason: '卫健系统核验', fields: { establishedOn: '2019-06-18' } },
      { apiKey: key },
    );
    assert.equal(bySystem.status, 200, await bySystem.clone().text());
    assert.deepEqual(((await bySystem.json()) as { results: unknown }).results, { establishedOn: { match: true } });
  });

  it('compare needs a reason, the role or scope, and claims that could be face data', async () => {
    const status = async (r: Response) => [
      r.status,
      ((await r.json()) as { errors?: { field: string }[] }).errors?.map((e) => e.field),
    ];
    const fields = { holderName: '张三丰' };
    assert.deepEqual(await status(await compare(person.number, { fields }, { token: tokens['health-handler'] })), [
      422,
      ['reason'],
    ]);
    assert.deepEqual(
      await status(await compare(person.number, { fields, reason: '  ' }, { token: tokens['health-handler'] })),
      [422, ['reason']],
    );
    assert.deepEqual(
      await status(
        await compare(person.number, { fields, reason: '事'.repeat(201) }, { token: tokens['health-handler'] }),
      ),
      [422, ['reason']],
    );
    assert.deepEqual(
      await status(
        await compare(
          person.number,
          { fields: { nope: 1, holderId: '110105194912310' }, reason: '核验' },
          { token: tokens['health-handler'] },
        ),
      ),
      [422, ['fields.nope', 'fields.holderId']],
    );
    for (const who of ['health-filler', 'market-filler'])
      assert.equal((await compare(person.number, { fields, reason: '核验' }, { token: tokens[who] })).status, 403, who);
    assert.equal(
      (await compare(person.number, { fields, reason: '核验' }, { apiKey: await apiClient(['certificates:read']) }))
        .status,
      403,
    );
    assert.equal((await compare(person.number, { fields, reason: '核验' }, {})).status, 401);
    const unknown = formatCertificateNumber({ typeCode: 'BL', region: '330100', year: 2099, serial: 42 });
    assert.equal((await compare(unknown, { fields, reason: '核验' }, { token: tokens['health-handler'] })).status, 404);
    assert.equal(
      (await compare('BL-330100-2099-0000042', { fields, reason: '核验' }, { token: tokens['health-handler'] })).status,
      400,
    );
  });

  it('compare is audited with the caller and the reason, never the claimed values', async () => {
    const rows = await get()
      .db('audit_log')
      .where({ action: 'certificate.compare', object_id: person.number, outcome: 'success' })
      .orderBy('seq')
      .select('actor_name', 'department', 'detail');
    assert.ok(rows.length >= 2);
    const first = rows[0]!;
    assert.deepEqual([first.actor_name, first.department], ['health-handler', 'market']);
    assert.deepEqual(JSON.parse(first.detail), {
      reason: '核验个体经营资格',
      fields: { holderId: true, holderName: true },
    });
    assert.ok(
      rows.every((r) => !r.detail.includes('1949')),
      'no claimed ID in the log',
    );
    const denied = await get()
      .db('audit_log')
      .where({ category: 'authorization', action: 'certificate.compare', actor_name: 'health-filler' })
      .count({ n: '*' });
    assert.equal(Number(denied[0]!.n), 1);
  });

  it('finds a certificate by its signed PDF through the department and signing time', async () => {
    const cert = (await getCertificate(get().db, entity.number))!;
    const q = { department: 'market', signedAt: new Date(cert.issuedAt), pdfSha256: cert.pdfSha256 };
    assert.equal(await findNumberBySignedPdf(get().db, q), entity.number);
    assert.equal(await findNumberBySignedPdf(get().db, { ...q, pdfSha256: '0'.repeat(64) }), undefined);
    assert.equal(await findNumberBySignedPdf(get().db, { ...q, department: 'health' }), undefined);
  });
});
