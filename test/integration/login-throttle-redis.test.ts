import assert from 'node:assert/strict';
import pino from 'pino';
import { forEachDatabase, type TestDatabase } from '../support/databases';
import { temporalEnv } from '../support/temporal';
import { startTestApp, testConfig, type TestApp } from '../support/app';
import { requireService, TEST_REDIS_URL, uniqueSuffix } from '../support/services';
import { TcpProxy } from '../support/tcp-proxy';
import { seedDemo } from '../../db/seed-demo';
import { createRedisCache, type Cache } from '../../platform/cache';

/** The sign-in limit with the counters in the real Redis (issue #20): atomic, and closed when Redis is gone. */
forEachDatabase('sign-in lockout with Redis counters', (get) => {
  let t: TestDatabase;
  let proxy: TcpProxy;
  let cache: Cache;
  let app: TestApp;
  const signIn = (username: string, password: string) =>
    app.fetch('/api/v1/auth/login', { json: { username, password } });

  before(async function () {
    t = get();
    await seedDemo(t.db, 'certflow-demo');
    const target = new URL(TEST_REDIS_URL);
    proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    await proxy.open();
    try {
      const prefix = `certflow-test:${uniqueSuffix()}:`;
      cache = await createRedisCache({ url: `redis://${proxy.url}`, prefix, logger: pino({ level: 'silent' }) });
    } catch (err) {
      await proxy.close();
      requireService(this, `Redis at ${TEST_REDIS_URL}`, err);
    }
    const base = testConfig();
    const config = { ...base, auth: { ...base.auth, maxFailures: 5 } };
    app = await startTestApp({ db: t.db, temporal: (await temporalEnv()).client, cache, config });
  });
  after(async () => {
    await app?.close();
    await cache?.close();
    await proxy?.close();
  });

  it('checks at most five of twenty parallel guesses; the rest are 429', async () => {
    const guesses = Array.from({ length: 20 }, (_, i) => signIn('market-filler', `parallel-guess-${i}`));
    const results = await Promise.all(guesses);
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 401).length, 5, statuses.join(','));
    assert.equal(statuses.filter((s) => s === 429).length, 15, statuses.join(','));
  });

  it('refuses sign-in with 503 while Redis is unreachable, and works again when it is back', async () => {
    await proxy.close();
    const r = await signIn('market-reviewer', 'certflow-demo');
    assert.equal(r.status, 503);
    assert.match(((await r.json()) as { detail: string }).detail, /sign-in/i);
    await proxy.open();
    const deadline = Date.now() + 10_000;
    for (;;) {
      const again = await signIn('market-reviewer', 'certflow-demo');
      if (again.status === 200) break;
      assert.ok(Date.now() < deadline, `still ${again.status}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });
});
