import { LRUCache } from 'lru-cache';
import { createClient } from 'redis';
import type { Logger } from './logger';
import { cacheLookups } from './metrics';

/**
 * The cache in front of the store (docs/architecture.md, "Cache").
 * Redis when REDIS_URL is set, an in-process LRU otherwise. The cache is never the
 * source of truth: a cache that is down makes lookups slower, never wrong, so reads
 * and writes here swallow connection errors (logged) and callers fall back to the
 * database. Counters (sign-in throttling) are the one place where the answer matters;
 * they report failures to the caller.
 */
export interface Cache {
  readonly kind: 'redis' | 'memory';
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlSeconds?: number): Promise<void>;
  del(...keys: string[]): Promise<void>;
  /** Atomically increments a counter that expires ttlSeconds after its first increment. */
  incr(key: string, ttlSeconds: number): Promise<number>;
  /** Undoes one incr (a reserved attempt that did not count); never below 0, never creates the key. */
  decr(key: string): Promise<void>;
  /** A counter's current value (0 when absent or expired). */
  peek(key: string): Promise<number>;
  /** Throws when the cache cannot answer; used by /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export async function getJson<T>(cache: Cache, key: string): Promise<T | undefined> {
  const raw = await cache.get(key);
  return raw === undefined ? undefined : (JSON.parse(raw) as T);
}

export function setJson(cache: Cache, key: string, value: unknown, ttlSeconds?: number) {
  return cache.set(key, JSON.stringify(value), ttlSeconds);
}

export function createMemoryCache(maxEntries: number): Cache {
  const lru = new LRUCache<string, string>({ max: maxEntries, ttlAutopurge: false });
  const counters = new Map<string, { n: number; expiresAt: number }>();
  return {
    kind: 'memory',
    async get(key) {
      const value = lru.get(key);
      cacheLookups.inc({ backend: 'memory', result: value === undefined ? 'miss' : 'hit' });
      return value;
    },
    async set(key, value, ttlSeconds) {
      lru.set(key, value, ttlSeconds ? { ttl: ttlSeconds * 1000 } : undefined);
    },
    async del(...keys) {
      for (const k of keys) {
        lru.delete(k);
        counters.delete(k);
      }
    },
    async incr(key, ttlSeconds) {
      const now = Date.now();
      const c = counters.get(key);
      if (!c || c.expiresAt <= now) {
        counters.set(key, { n: 1, expiresAt: now + ttlSeconds * 1000 });
        if (counters.size > maxEntries) pruneExpired(counters, now);
        return 1;
      }
      c.n += 1;
      return c.n;
    },
    async decr(key) {
      const c = counters.get(key);
      if (c && c.expiresAt > Date.now() && c.n > 0) c.n -= 1;
    },
    async peek(key) {
      const c = counters.get(key);
      return c && c.expiresAt > Date.now() ? c.n : 0;
    },
    async ping() {},
    async close() {
      lru.clear();
      counters.clear();
    },
  };
}

function pruneExpired(counters: Map<string, { expiresAt: number }>, now: number) {
  for (const [k, c] of counters) if (c.expiresAt <= now) counters.delete(k);
}

const DECR_IF_POSITIVE =
  "if (tonumber(redis.call('GET', KEYS[1]) or '0') > 0) then return redis.call('DECR', KEYS[1]) end return 0";

export interface RedisCacheOptions {
  url: string;
  /** Prepended to every key, so tests and several deployments can share one Redis. */
  prefix?: string;
  logger: Logger;
}

export async function createRedisCache(opts: RedisCacheOptions): Promise<Cache> {
  const prefix = opts.prefix ?? 'certflow:';
  const client = createClient({
    url: opts.url,
    // Fail fast while disconnected instead of queueing: a request must not hang on the cache.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 2000,
      reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 5000),
    },
  });
  let lastError = '';
  client.on('error', (err: Error) => {
    // node-redis emits on every failed reconnect; log a changed error only once.
    if (err.message !== lastError) opts.logger.warn({ err: err.message }, 'redis unavailable');
    lastError = err.message;
  });
  /**
   * Deletes that failed while Redis was unreachable (prefixed keys). Redis keeps its data over an
   * outage, so an entry this process meant to delete — a certificate revoked meanwhile — would
   * come back stale for a whole TTL. Until the delete has reached Redis, reads of those keys
   * miss (the database answers), and the deletes are replayed as soon as Redis is ready again.
   */
  const pendingDeletes = new Set<string>();
  const replayDeletes = async () => {
    const keys = [...pendingDeletes];
    if (!keys.length) return;
    try {
      await client.del(keys);
      for (const k of keys) pendingDeletes.delete(k);
      opts.logger.info({ keys: keys.length }, 'redis: replayed the deletes made while it was unreachable');
    } catch (err) {
      opts.logger.warn({ err: (err as Error).message }, 'redis: replaying deletes failed; will retry on reconnect');
    }
  };
  client.on('ready', () => {
    if (lastError) opts.logger.info('redis reconnected');
    lastError = '';
    void replayDeletes();
  });
  const timeout = setTimeout(() => void client.destroy(), 5000);
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`REDIS_URL: cannot connect to Redis (${(err as Error).message || 'timed out'})`, { cause: err });
  } finally {
    clearTimeout(timeout);
  }

  const soft = async <T>(what: string, fn: () => Promise<T>, fallback: T): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      opts.logger.warn({ err: (err as Error).message, op: what }, 'cache operation failed; continuing without cache');
      return fallback;
    }
  };

  return {
    kind: 'redis',
    async get(key) {
      // A key whose delete has not reached Redis yet is read from the database (see pendingDeletes).
      if (pendingDeletes.has(prefix + key)) return undefined;
      // A failed read counts as an error, not a miss: the hit ratio describes the cache, not its outages.
      let result = 'error';
      try {
        return await soft(
          'get',
          async () => {
            const value = (await client.get(prefix + key)) ?? undefined;
            result = value === undefined ? 'miss' : 'hit';
            return value;
          },
          undefined,
        );
      } finally {
        cacheLookups.inc({ backend: 'redis', result });
      }
    },
    set: (key, value, ttlSeconds) =>
      soft(
        'set',
        async () => {
          await client.set(
            prefix + key,
            value,
            ttlSeconds ? { expiration: { type: 'EX', value: ttlSeconds } } : undefined,
          );
        },
        undefined,
      ),
    async del(...keys) {
      if (!keys.length) return;
      const full = keys.map((k) => prefix + k);
      try {
        await client.del(full);
        for (const k of full) pendingDeletes.delete(k);
      } catch (err) {
        for (const k of full) pendingDeletes.add(k);
        const message = (err as Error).message;
        opts.logger.warn({ err: message, keys: full.length }, 'cache delete failed; replayed on reconnect');
        // It may have reconnected between the failure and now: then no 'ready' is coming.
        if (client.isReady) void replayDeletes();
      }
    },
    async incr(key, ttlSeconds) {
      const k = prefix + key;
      const [n] = (await client.multi().incr(k).expire(k, ttlSeconds, 'NX').exec()) as unknown as [number];
      return Number(n);
    },
    async decr(key) {
      // A plain DECR would create a counter without expiry if this one just expired.
      await client.eval(DECR_IF_POSITIVE, { keys: [prefix + key] });
    },
    async peek(key) {
      return Number((await client.get(prefix + key)) ?? 0);
    },
    async ping() {
      await client.ping();
    },
    async close() {
      if (client.isOpen) await client.close();
    },
  };
}

export async function createCache(opts: {
  redisUrl: string | undefined;
  maxEntries: number;
  logger: Logger;
  prefix?: string;
}): Promise<Cache> {
  if (!opts.redisUrl) return createMemoryCache(opts.maxEntries);
  return createRedisCache({ url: opts.redisUrl, logger: opts.logger, prefix: opts.prefix });
}
