import assert from 'node:assert/strict';
import pino from 'pino';
import { Client, Connection } from '@temporalio/client';
import { createTestDatabase, type TestDatabase } from '../support/databases';
import { startWorker, temporalEnv, type RunningWorker } from '../support/temporal';
import { DEMO_PASSWORD, startTestApp, testConfig, testDeps, type TestApp } from '../support/app';
import { createActivities } from '../../activities';
import { createRedisCache } from '../../platform/cache';
import { TcpProxy } from '../support/tcp-proxy';
import { seedDemo } from '../../db/seed-demo';
import { requireService, TEST_REDIS_URL } from '../support/services';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('API basics', () => {
  let t: TestDatabase;
  let app: TestApp;
  let worker: RunningWorker;
  let token: string;

  before(async () => {
    t = await createTestDatabase('sqlite');
    await seedDemo(t.db, DEMO_PASSWORD);
    const env = await temporalEnv();
    worker = await startWorker(createActivities(testDeps(t.db)));
    app = await startTestApp({ db: t.db, temporal: env.client, config: testConfig({ taskQueue: worker.taskQueue }) });
    token = await app.login('market-handler');
  });
  after(async () => {
    await app?.close();
    await worker?.stop();
    await t?.drop();
  });

  it('GET /healthz says the process is up', async () => {
    const r = await app.fetch('/healthz');
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { status: 'up' });
  });

  it('GET /readyz reports database, cache and Temporal reachable', async () => {
    const r = await app.fetch('/readyz');
    assert.equal(r.status, 200);
    const body = (await r.json()) as { status: string; checks: Record<string, { ok: boolean }> };
    assert.equal(body.status, 'ready');
    assert.deepEqual(Object.keys(body.checks).sort(), ['cache', 'database', 'temporal']);
    assert.ok(Object.values(body.checks).every((c) => c.ok));
  });

  it('starts the ping workflow over HTTP and reads its state back from the Query', async () => {
    const started = await app.fetch('/api/v1/pings', { json: { message: '你好，certflow' }, token });
    assert.equal(started.status, 202);
    const { id, workflowId } = (await started.json()) as { id: string; workflowId: string };
    assert.equal(workflowId, `ping-${id}`);
    assert.equal(started.headers.get('location'), `/api/v1/pings/${id}`);
    let state: { status: string; message: string } | undefined;
    const deadline = Date.now() + 15_000;
    do {
      await sleep(100);
      state = (await (await app.fetch(`/api/v1/pings/${id}`, { token })).json()) as typeof state;
    } while (state?.status !== 'recorded' && Date.now() < deadline);
    assert.equal(state?.status, 'recorded');
    assert.equal(state?.message, '你好，certflow');
    assert.equal((await t.db('pings').where({ id }).first())?.message, '你好，certflow');
  });

  it('answers bad input with problem+json naming the field, and gives each response a request id', async () => {
    const r = await app.fetch('/api/v1/pings', { json: { message: '' }, token });
    assert.equal(r.status, 422);
    assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
    const p = (await r.json()) as { status: number; errors: { field: string }[]; requestId: string };
    assert.equal(p.status, 422);
    assert.deepEqual(
      p.errors.map((e) => e.field),
      ['message'],
    );
    assert.equal(p.requestId, r.headers.get('x-request-id'));
    assert.equal(await t.db('pings').where({ message: '' }).first(), undefined);
  });

  it('answers malformed JSON with 400, not 500', async () => {
    const r = await app.fetch('/api/v1/pings', {
      method: 'POST',
      body: '{"message":',
      headers: { 'content-type': 'application/json' },
      token,
    });
    assert.equal(r.status, 400);
    assert.match(((await r.json()) as { detail: string }).detail, /JSON/);
  });

  it('answers unknown routes, bad path parameters and unknown pings with 404/400 problems', async () => {
    const unknown = await app.fetch('/api/v1/nothing-here');
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { title: string }).title, 'Not Found');
    assert.equal((await app.fetch('/api/v1/pings/not-a-uuid', { token })).status, 400);
    assert.equal((await app.fetch('/api/v1/pings/6f1c2a1e-3c47-4f43-9d7e-0a5b7c9e1f00', { token })).status, 404);
    assert.equal(
      (await app.fetch('/api/v1/pings/6f1c2a1e-3c47-4f43-9d7e-0a5b7c9e1f00')).status,
      401,
      'anonymous callers are asked to sign in',
    );
  });

  it("keeps the caller's X-Request-Id for correlation", async () => {
    const r = await app.fetch('/healthz', { headers: { 'x-request-id': 'approval-sys-42' } });
    assert.equal(r.headers.get('x-request-id'), 'approval-sys-42');
  });

  it('serves an OpenAPI document generated from the route schemas', async () => {
    const doc = (await (await app.fetch('/openapi.json')).json()) as {
      openapi: string;
      paths: Record<
        string,
        Record<string, { requestBody?: { content: Record<string, { schema: { required?: string[] } }> } }>
      >;
    };
    assert.equal(doc.openapi, '3.1.0');
    const post = doc.paths['/api/v1/pings']?.post;
    assert.deepEqual(post?.requestBody?.content['application/json']?.schema.required, ['message']);
    assert.ok(doc.paths['/api/v1/pings/{id}']?.get);
  });
});

describe('GET /readyz when a part is gone', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase('sqlite');
  });
  after(() => t?.drop());

  it('answers 503 naming the cache when Redis is unreachable, and 200 again when it is back', async function () {
    const target = new URL(TEST_REDIS_URL);
    const proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    await proxy.open();
    let cache;
    try {
      cache = await createRedisCache({ url: `redis://${proxy.url}`, logger: pino({ level: 'silent' }) });
    } catch (err) {
      await proxy.close();
      requireService(this, `Redis at ${TEST_REDIS_URL}`, err);
    }
    const env = await temporalEnv();
    const app = await startTestApp({ db: t.db, temporal: env.client, cache });
    try {
      assert.equal((await app.fetch('/readyz')).status, 200);
      await proxy.close();
      const r = await app.fetch('/readyz');
      assert.equal(r.status, 503);
      const p = (await r.json()) as { detail: string; checks: Record<string, { ok: boolean }> };
      assert.match(p.detail, /cache/);
      assert.equal(p.checks.cache?.ok, false);
      assert.equal(p.checks.database?.ok, true);
      assert.equal(p.checks.temporal?.ok, true);
      await proxy.open();
      const deadline = Date.now() + 10_000;
      while ((await app.fetch('/readyz')).status !== 200) {
        assert.ok(Date.now() < deadline, 'never ready again');
        await sleep(200);
      }
    } finally {
      await app.close();
      await cache.close();
      await proxy.close();
    }
  });

  it('answers 503 naming Temporal and the database when they are unreachable', async () => {
    const env = await temporalEnv();
    const [host, port] = env.address.split(':');
    const proxy = new TcpProxy({ host: host!, port: Number(port) });
    await proxy.open();
    const connection = await Connection.connect({ address: proxy.url });
    const temporal = new Client({ connection });
    const db = await createTestDatabase('sqlite');
    const app = await startTestApp({ db: db.db, temporal });
    try {
      assert.equal((await app.fetch('/readyz')).status, 200);
      await proxy.close();
      await db.db.destroy(); // the database is gone too
      const r = await app.fetch('/readyz');
      assert.equal(r.status, 503);
      const p = (await r.json()) as { detail: string; checks: Record<string, { ok: boolean }> };
      assert.equal(p.checks.temporal?.ok, false);
      assert.equal(p.checks.database?.ok, false);
      assert.equal(p.checks.cache?.ok, true);
      assert.match(p.detail, /database, temporal/);
    } finally {
      await app.close();
      // The SDK's retry interceptor may still hold a timer for the failed ping (up to its 1.5 s
      // deadline); closing the channel under it would throw from that timer, outside any test.
      await sleep(2000);
      await connection.close();
      await proxy.close();
    }
  });
});
