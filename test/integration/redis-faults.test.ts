import assert from 'node:assert/strict';
import { forEachDatabase, type TestDatabase } from '../support/databases';
import { requireService, TEST_REDIS_URL, uniqueSuffix } from '../support/services';
import { silentLogger } from '../support/app';
import { TcpProxy } from '../support/tcp-proxy';
import { createRedisCache, getJson, type Cache } from '../../platform/cache';
import { certificateCacheKey, INVALIDATE_AGAIN_AFTER_MS, type CachedCertificate } from '../../db/certificate-cache';
import { lifecycleSteps } from '../../services/lifecycle';
import { setupCatalog, type CatalogSetup } from './catalog/fixture';

/**
 * Redis killed and brought back while requests keep coming (docs/operations.md, "Redis faults"):
 * the real Redis behind a TCP proxy that the test closes and opens. Reads fail open to the
 * database, sign-in fails closed (the lockout counters), both recover, and a revocation made
 * while Redis was away does not come back as a stale "valid" from the entry Redis still holds.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

forEachDatabase('Redis faults under load: cache fails open, lockout fails closed', (get) => {
  let proxy: TcpProxy;
  let cache: Cache;
  let t: TestDatabase;
  let s: CatalogSetup;
  let number: string;
  let other: string;

  before(async function () {
    const target = new URL(TEST_REDIS_URL);
    proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    await proxy.open();
    try {
      cache = await createRedisCache({
        url: `redis://${proxy.url}`,
        prefix: `certflow-test:${uniqueSuffix()}:`,
        logger: silentLogger,
      });
    } catch (err) {
      await proxy.close();
      requireService(this, `Redis at ${TEST_REDIS_URL}`, err);
    }
    t = get();
    s = await setupCatalog(t.db, { cache, logins: ['market-handler'] });
    const valid = s.certs.filter((c) => c.department === 'market' && c.status === 'valid');
    number = valid[0]!.number;
    other = valid[1]!.number;
  });
  after(async () => {
    await s?.app.close();
    await cache?.close();
    await proxy?.close();
  });

  const read = async (n: string) => {
    const r = await s.app.fetch(`/api/v1/certificates/${n}`, { token: s.tokens['market-handler'] });
    const body = r.status === 200 ? ((await r.json()) as { number: string; status: string }) : undefined;
    return { code: r.status, body };
  };
  const signIn = () =>
    s.app.fetch('/api/v1/auth/login', { json: { username: 'market-reviewer', password: 'certflow-demo' } });

  it('keeps answering reads from the database while Redis is gone, refuses sign-in, and recovers without a stale entry', async () => {
    // Warm both entries: Redis now holds "valid" for them.
    assert.equal((await read(number)).body?.status, 'valid');
    assert.equal((await read(other)).body?.status, 'valid');
    assert.equal((await getJson<CachedCertificate>(cache, certificateCacheKey(number)))?.status, 'valid');

    // Load: reads of both certificates, back to back, for the whole test.
    const seen: { code: number; n: string; status?: string; started: number }[] = [];
    let loading = true;
    const load = (async () => {
      while (loading) {
        for (const n of [number, other]) {
          const started = Date.now();
          const r = await read(n);
          seen.push({ code: r.code, n, status: r.body?.status, started });
        }
      }
    })();

    await sleep(200);
    await proxy.close();
    const atOutage = seen.length;
    await sleep(300);
    const signInDown = await signIn();
    assert.equal(signInDown.status, 503, 'lockout counters unreachable: sign-in fails closed');

    // Revoked while Redis cannot hear the delete.
    const steps = lifecycleSteps(s.deps);
    const actor = { type: 'user' as const, id: '1', name: 'market-admin' };
    await steps.revokeCertificate({ number, status: 'revoked', reason: '吊销（Redis 不可用时）', actor });
    // A read already under way when the revocation committed may still say valid: judge those begun after.
    const revokedAt = Date.now();
    // Longer than the delayed second delete, so that one fails as well.
    await sleep(INVALIDATE_AGAIN_AFTER_MS + 500);
    const duringOutage = seen.slice(atOutage);
    assert.ok(duringOutage.length > 10, `reads kept going during the outage (${duringOutage.length})`);

    await proxy.open();
    const deadline = Date.now() + 15_000;
    for (;;) {
      if ((await signIn()).status === 200) break;
      assert.ok(Date.now() < deadline, 'sign-in did not recover after Redis came back');
      await sleep(200);
    }
    const recoveredAt = seen.length;
    await sleep(500);
    loading = false;
    await load;

    assert.deepEqual(
      seen.filter((r) => r.code !== 200),
      [],
      'every read answered 200, before, during and after',
    );
    const afterRevoke = seen.filter((r) => r.started > revokedAt && r.n === number);
    assert.ok(afterRevoke.length > 0);
    assert.deepEqual(
      [...new Set(afterRevoke.map((r) => r.status))],
      ['revoked'],
      'from the revocation on, never "valid" again: not during the outage, not after Redis came back',
    );
    assert.ok(
      seen.slice(recoveredAt).some((r) => r.n === number),
      'reads after recovery were checked',
    );
    assert.ok(seen.filter((r) => r.n === other).every((r) => r.status === 'valid'));
    // Redis serves the cache again: the revoked certificate's entry is the fresh one.
    assert.equal((await read(number)).body?.status, 'revoked');
    assert.equal((await getJson<CachedCertificate>(cache, certificateCacheKey(number)))?.status, 'revoked');
  });
});
