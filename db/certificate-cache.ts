import type { Db } from './knex';
import { getJson, setJson, type Cache } from '../platform/cache';
import { getCertificate, type CertificateRow } from './certificates';

/**
 * Certificates in the cache (proposal §3.4, "LRU cache in front of the store"): the row
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

export async function getCertificateCached(db: Db, cache: Cache, number: string): Promise<CachedCertificate | undefined> {
  const hit = await getJson<CachedCertificate>(cache, certificateCacheKey(number)).catch(() => undefined);
  if (hit) return hit;
  const row = await getCertificate(db, number);
  if (!row) return undefined;
  const view = cachedView(row);
  await setJson(cache, certificateCacheKey(number), view, CERTIFICATE_CACHE_TTL_S).catch(() => undefined);
  return view;
}
