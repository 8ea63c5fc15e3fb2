import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import { forEachDatabase, type TestDatabase } from '../../support/databases';
import { startTestApp, testConfig, testDeps, type TestApp } from '../../support/app';
import { seedDemo, seedDemoTypes, DEMO_TYPES } from '../../../db/seed-demo';
import { sampleFaceData } from '../../../domain/certificate-type';
import { ensureDevelopmentTrust } from '../../../services/trust/seals';
import { deliver, enqueue } from '../../../services/outbox';
import type { OutboundError } from '../../../services/outbound';
import { checkCallbackUrl, isSpecialAddress } from '../../../services/callback-target';
import type { ActivityDeps } from '../../../activities';
import type { ServiceError } from '../../../services/errors';

type Problem = { status: number; detail: string; errors?: { field: string; message: string }[] };

forEachDatabase('hardening: callback targets (SSRF)', (get) => {
  let tdb: TestDatabase;
  let deps: ActivityDeps;
  let app: TestApp;
  let admin: string;
  let hits: string[];
  let server: http.Server;
  let origin: string;
  const bl = DEMO_TYPES.find((t) => t.code === 'BL')!;
  const application = (callbackUrl: string) => ({
    typeCode: 'BL',
    holder: { kind: 'entity', id: '91330106MA2B3C4DB0', name: '杭州某某科技有限公司' },
    faceData: {
      ...sampleFaceData(bl.definition.faceFields),
      creditCode: '91330106MA2B3C4DB0',
      entityName: '杭州某某科技有限公司',
    },
    callbackUrl,
  });

  before(async () => {
    tdb = get();
    deps = testDeps(tdb.db);
    await seedDemo(tdb.db, 'certflow-demo');
    await ensureDevelopmentTrust(deps);
    await seedDemoTypes(tdb.db, deps.blobs);
    // Every refusal below happens before a workflow would start: no Temporal needed.
    app = await startTestApp({ db: tdb.db, temporal: {} as Client, deps });
    admin = await app.login('market-admin');
    hits = [];
    server = http.createServer((req, res) => {
      hits.push(`${req.method} ${req.url}`);
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await app?.close();
    server?.close();
  });

  const newClient = async (callbackOrigins?: string[]) => {
    const json = {
      name: '审批系统',
      department: 'market',
      scopes: ['applications:write'],
      ...(callbackOrigins ? { callbackOrigins } : {}),
    };
    const r = await app.fetch('/api/v1/api-clients', { token: admin, json });
    assert.equal(r.status, 201, await r.clone().text());
    return (await r.json()) as { id: string; apiKey: string; callbackOrigins: string[] };
  };

  it("refuses a callbackUrl outside the API client's registered origins, and any from staff", async () => {
    const client = await newClient();
    assert.deepEqual(client.callbackOrigins, []);
    const r = await app.fetch('/api/v1/applications', {
      apiKey: client.apiKey,
      json: application(`${origin}/internal-admin`),
    });
    assert.equal(r.status, 422);
    const body = (await r.json()) as Problem;
    assert.deepEqual(
      body.errors!.map((e) => e.field),
      ['callbackUrl'],
    );
    assert.match(body.errors![0]!.message, /not a callback origin registered/);

    const filler = await app.login('market-filler');
    const staff = await app.fetch('/api/v1/applications', {
      token: filler,
      json: application('https://approval.example.gov.cn/cb'),
    });
    assert.equal(staff.status, 422);
    assert.deepEqual(
      ((await staff.json()) as Problem).errors!.map((e) => e.field),
      ['callbackUrl'],
    );
    assert.equal((await tdb.db('applications').count({ n: '*' }).first())!.n, 0, 'nothing stored');
    assert.deepEqual(hits, []);
  });

  it('registers origins (origin only) and checks them; loopback only when CALLBACK_ALLOW_PRIVATE', async () => {
    const bad = await app.fetch('/api/v1/api-clients', {
      token: admin,
      json: {
        name: '审批系统',
        department: 'market',
        scopes: ['applications:write'],
        callbackOrigins: ['https://a.example/path'],
      },
    });
    assert.equal(bad.status, 422);
    assert.match(JSON.stringify(await bad.json()), /callbackOrigins/);
    const client = await newClient();
    const put = await app.fetch(`/api/v1/api-clients/${client.id}/callback-origins`, {
      method: 'PUT',
      token: admin,
      json: { callbackOrigins: [`${origin}/`, 'https://approval.example.gov.cn'] },
    });
    assert.equal(put.status, 200);
    assert.deepEqual(((await put.json()) as { callbackOrigins: string[] }).callbackOrigins, [
      origin,
      'https://approval.example.gov.cn',
    ]);

    assert.doesNotThrow(() => checkCallbackUrl(`${origin}/hook`, [origin], true));
    const refusedFor = (_url: string, _origins: string[]) => (e: ServiceError) =>
      /loopback or private/.test(e.errors![0]!.message);
    assert.throws(() => checkCallbackUrl(`${origin}/hook`, [origin], false), refusedFor(`${origin}/hook`, [origin]));
    assert.throws(() => checkCallbackUrl('http://localhost:1/x', ['http://localhost:1'], false), refusedFor('', []));
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.20.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '::1',
      'fd00::1',
      '::ffff:127.0.0.1',
    ]) {
      assert.equal(isSpecialAddress(a), true, a);
    }
    for (const a of ['8.8.8.8', '2001:4860:4860::8888']) assert.equal(isSpecialAddress(a), false, a);
  });

  it('checks every resolved address at delivery: a name resolving to loopback is refused, nothing is POSTed', async () => {
    const strict = { ...deps, config: { ...testConfig(), callbacks: { timeoutMs: 3000, allowPrivate: false } } };
    const port = (server.address() as AddressInfo).port;
    const owner = { kind: 'department' as const, code: 'market' };
    for (const [subject, url] of [
      ['a', `http://localhost:${port}/internal-admin`],
      ['b', `${origin}/internal-admin`],
    ]) {
      const m = await enqueue(tdb.db, {
        event: 'certificate.issued',
        subject: subject!,
        targetUrl: url!,
        owner,
        body: { x: 1 },
      });
      await assert.rejects(
        deliver(strict, m.id),
        (e: OutboundError) => e.permanent && /loopback or private/.test(e.message),
      );
    }
    assert.deepEqual(hits, []);
    // Allowed (tests, closed networks): the same delivery goes through.
    const m = await enqueue(tdb.db, {
      event: 'certificate.issued',
      subject: 'c',
      targetUrl: `http://localhost:${port}/hook`,
      owner,
      body: {},
    });
    assert.equal((await deliver(deps, m.id)).status, 'delivered');
    assert.deepEqual(hits, ['POST /hook']);
  });
});
