import type { Db } from './knex';
import { getJson, setJson, type Cache } from '../platform/cache';
import { getCertificate, type CertificateRow } from './certificates';

/**
 * Certificates in the cache (docs/architecture.md, "Cache"): the row
 * without the record and its signature (the bulky part, read only by /record). The sealing
 * pipeline warms it; anything that changes a certificate (revocation, status changes) must
 * delete the key. The database stays the truth: a cache miss or an unreachable cache falls
 * through to it.
 */
export type CachedCertificate = Omit<CertificateRow, 'record' | 'recordSignature'>;

export const CERTIFICATE_CACHE_TTL_S = 3600;
export const certificateCacheKey = (number: string) => `certificate:${number}`;

export function cachedView(c: CertificateRow): CachedCertificate {
  const { record: _r, recordSignature: _s, ...rest } = c;
  return rest;
}

export async function getCertificateCached(
  db: Db,
  cache: Cache,
  number: string,
): Promise<CachedCertificate | undefined> {
  const hit = await getJson<CachedCertificate>(cache, certificateCacheKey(number)).catch(() => undefined);
  if (hit) return hit;
  const row = await getCertificate(db, number);
  if (!row) return undefined;
  const view = cachedView(row);
  await setJson(cache, certificateCacheKey(number), view, CERTIFICATE_CACHE_TTL_S).catch(() => undefined);
  return view;
}

/** How long after a change the key is deleted a second time (see invalidateCertificate). */
export const INVALIDATE_AGAIN_AFTER_MS = 1000;

/**
 * Call after any change to a certificate has been committed (revocation, expiry, status or
 * catalog-state changes): deletes its cache entry so the next read goes to the database.
 *
 * Cache-aside has one race: a reader that missed, read the old row just before the change
 * committed and writes it back just after this delete would leave the old row cached for a
 * whole TTL — for a revocation, an hour in which verification says "valid". So the key is
 * deleted once now and once more a moment later ("delayed double delete"), which removes
 * such a late write; a reader slower than that has lost a second between its read and its
 * write, and the next change or the TTL still bounds it. Cache errors never fail the caller:
 * the database is the truth, and the Cache swallows (and logs) connection failures.
 */
export async function invalidateCertificate(cache: Cache, ...numbers: string[]): Promise<void> {
  if (numbers.length === 0) return;
  const keys = numbers.map(certificateCacheKey);
  await cache.del(...keys).catch(() => undefined);
  setTimeout(() => void cache.del(...keys).catch(() => undefined), INVALIDATE_AGAIN_AFTER_MS).unref();
}
