import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../../support/databases';
import { requireService, TEST_REDIS_URL, uniqueSuffix } from '../../support/services';
import { silentLogger } from '../../support/app';
import { createMemoryCache, createRedisCache, getJson, setJson, type Cache } from '../../../platform/cache';
import {
  certificateCacheKey,
  INVALIDATE_AGAIN_AFTER_MS,
  invalidateCertificate,
  type CachedCertificate,
} from '../../../db/certificate-cache';
import { setupCatalog, type CatalogSetup } from './fixture';

/**
 * Cache-aside for single-certificate reads (GET /certificates/:number): the first read fills
 * the cache, later reads come from it, and invalidateCertificate after a change makes the
 * next read see the database — against the real Redis and the in-process LRU.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const kind of ['redis', 'memory'] as const) {
  describe(`certificate cache invalidation [${kind}]`, () => {
    let cache: Cache;
    let t: TestDatabase;
    let s: CatalogSetup;
    let number: string;

    before(async function () {
      this.timeout(60_000);
      try {
        cache =
          kind === 'redis'
            ? await createRedisCache({
                url: TEST_REDIS_URL,
                prefix: `certflow-test:${uniqueSuffix()}:`,
                logger: silentLogger,
              })
            : createMemoryCache(1000);
      } catch (err) {
        requireService(this, `Redis at ${TEST_REDIS_URL}`, err);
      }
      t = await createTestDatabase('sqlite');
      s = await setupCatalog(t.db, { cache, logins: ['market-handler', 'market-sealer'] });
      number = s.certs.find((c) => c.department === 'market' && c.status === 'valid')!.number;
    });
    after(async () => {
      await s?.app.close();
      await t?.drop();
      if (cache) {
        await cache.del(certificateCacheKey(number));
        await cache.close();
      }
    });

    const read = async () => {
      const r = await s.app.fetch(`/api/v1/certificates/${number}`, { token: s.tokens['market-handler'] });
      assert.equal(r.status, 200);
      return (await r.json()) as {
        status: string;
        statusReason: string | null;
        catalog: { registeredAt: string | null };
      };
    };

    it('GET /certificates/:number fills the cache on a miss and answers from it afterwards', async () => {
      await cache.del(certificateCacheKey(number));
      assert.equal((await read()).status, 'valid');
      const cached = await getJson<CachedCertificate>(cache, certificateCacheKey(number));
      assert.equal(cached?.number, number);
      assert.equal((cached as unknown as Record<string, unknown>).record, undefined, 'the bulky record is not cached');
      // Changed behind the cache's back: reads still come from the cache…
      await t
        .db('certificates')
        .where({ number })
        .update({ status: 'revoked', status_reason: '吊销', status_changed_at: new Date() });
      assert.equal((await read()).status, 'valid');
    });

    it('after invalidateCertificate the next read sees the change', async () => {
      await invalidateCertificate(cache, number);
      assert.equal(await cache.get(certificateCacheKey(number)), undefined);
      const after = await read();
      assert.deepEqual([after.status, after.statusReason], ['revoked', '吊销']);
    });

    it('a stale entry written back just after the invalidation is removed again', async () => {
      const stale = await getJson<CachedCertificate>(cache, certificateCacheKey(number));
      await t.db('certificates').where({ number }).update({ status: 'valid', status_reason: null });
      await invalidateCertificate(cache, number);
      // A reader that read the old row before the change commits writes it back now.
      await setJson(cache, certificateCacheKey(number), stale, 3600);
      assert.equal((await read()).status, 'revoked', 'the race: stale for a moment');
      await sleep(INVALIDATE_AGAIN_AFTER_MS + 200);
      assert.equal((await read()).status, 'valid', 'the second delete removed it');
    });

    it('re-registering in the catalog invalidates too', async () => {
      await t
        .db('certificates')
        .where({ number })
        .update({ catalog_registered_at: null, catalog_attempts: 1, catalog_last_error: 'catalog answered 503' });
      await invalidateCertificate(cache, number);
      assert.equal((await read()).catalog.registeredAt, null);
      const r = await s.app.fetch(`/api/v1/catalog/failed/${number}/reregister`, {
        method: 'POST',
        token: s.tokens['market-sealer'],
      });
      assert.equal(r.status, 200, await r.text());
      assert.ok((await read()).catalog.registeredAt, 'the new catalog state is visible at once');
    });

    it('invalidating several numbers, or none, is fine', async () => {
      const others = s.certs.slice(0, 3).map((c) => c.number);
      for (const n of others) await cache.set(certificateCacheKey(n), '{}', 60);
      await invalidateCertificate(cache, ...others);
      for (const n of others) assert.equal(await cache.get(certificateCacheKey(n)), undefined);
      await invalidateCertificate(cache);
    });
  });
}
