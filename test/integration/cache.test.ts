import assert from 'node:assert/strict';
import pino from 'pino';
import { createClient } from 'redis';
import { createMemoryCache, createRedisCache, getJson, setJson, type Cache } from '../../platform/cache';
import { requireService, TEST_REDIS_URL, uniqueSuffix } from '../support/services';
import { TcpProxy } from '../support/tcp-proxy';

const logger = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function cacheSpecs(make: () => Promise<Cache>) {
  let cache: Cache;
  before(async function () {
    try {
      cache = await make();
    } catch (err) {
      requireService(this, `Redis at ${TEST_REDIS_URL}`, err);
    }
  });
  after(() => cache?.close());

  it('stores, reads and deletes values', async () => {
    await setJson(cache, 'cert:A1', { number: 'A1', holder: '张三' });
    assert.deepEqual(await getJson(cache, 'cert:A1'), { number: 'A1', holder: '张三' });
    await cache.del('cert:A1');
    assert.equal(await cache.get('cert:A1'), undefined);
  });

  it('expires values after their time to live', async () => {
    await cache.set('short', 'x', 1);
    assert.equal(await cache.get('short'), 'x');
    await sleep(1100);
    assert.equal(await cache.get('short'), undefined);
  });

  it('counts within a window that starts at the first increment', async () => {
    assert.equal(await cache.incr('fails:u1', 1), 1);
    assert.equal(await cache.incr('fails:u1', 1), 2);
    assert.equal(await cache.incr('fails:u1', 1), 3);
    await sleep(1100);
    assert.equal(await cache.incr('fails:u1', 1), 1);
  });
}

describe('cache [memory]', () => {
  cacheSpecs(async () => createMemoryCache(100));

  it('evicts the least recently used entry when full', async () => {
    const c = createMemoryCache(2);
    await c.set('a', '1');
    await c.set('b', '2');
    await c.get('a');
    await c.set('c', '3');
    assert.equal(await c.get('b'), undefined);
    assert.equal(await c.get('a'), '1');
  });
});

describe('cache [redis]', () => {
  const prefix = `certflow-test:${uniqueSuffix()}:`;
  cacheSpecs(() => createRedisCache({ url: TEST_REDIS_URL, prefix, logger }));

  it('keeps keys under its prefix in the real Redis', async () => {
    const cache = await createRedisCache({ url: TEST_REDIS_URL, prefix, logger });
    await cache.set('k', 'v');
    const raw = createClient({ url: TEST_REDIS_URL });
    await raw.connect();
    assert.equal(await raw.get(`${prefix}k`), 'v');
    await raw.del(`${prefix}k`);
    await raw.close();
    await cache.close();
  });

  it('degrades to misses while Redis is gone, fails ping, and recovers when it is back', async () => {
    const target = new URL(TEST_REDIS_URL);
    const proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    await proxy.open();
    const cache = await createRedisCache({ url: `redis://${proxy.url}`, prefix, logger });
    try {
      await cache.set('survivor', 'yes');
      await proxy.close();
      await sleep(50);
      assert.equal(await cache.get('survivor'), undefined, 'a lost cache reads as a miss, not an error');
      await cache.set('other', 'x'); // must not throw
      await assert.rejects(cache.ping());
      await assert.rejects(cache.incr('fails:x', 10), 'counters report failure instead of guessing');
      await proxy.open();
      const deadline = Date.now() + 10_000;
      while ((await cache.get('survivor')) !== 'yes') {
        assert.ok(Date.now() < deadline, 'cache did not reconnect');
        await sleep(100);
      }
      await cache.ping();
    } finally {
      await cache.del('survivor', 'other');
      await cache.close();
      await proxy.close();
    }
  });

  it('fails start-up with a message naming REDIS_URL when Redis cannot be reached', async () => {
    const proxy = new TcpProxy({ host: '127.0.0.1', port: 1 });
    await proxy.open();
    const port = proxy.port;
    await proxy.close();
    await assert.rejects(createRedisCache({ url: `redis://127.0.0.1:${port}`, logger }), /REDIS_URL/);
  });
});
