import type { Db } from './knex';
import { getCertificate } from './certificates';
import { CERTIFICATE_STATUSES } from '../domain/certificate-record';
import type { Cache } from '../platform/cache';
import { getJson, setJson } from '../platform/cache';

/**
 * Lookups the verify and compare services need beyond db/certificates.ts.
 */

/**
 * The number of the certificate whose signed PDF has this SHA-256, found through the PDF
 * signature's department (signer OU) and signing time — the sealing step signs at the issue
 * time, so `issued_at` equals it. `pdf_sha256` has no index of its own; (department,
 * status, issued_at) from 005 and (department, issued_at, …) from 006 narrow it to the few
 * certificates that department issued in that second. The status list is spelled out so
 * MariaDB, which has no skip scan, can use 005's index as point ranges.
 */
export async function findNumberBySignedPdf(
  db: Db,
  q: { department: string; signedAt: Date; pdfSha256: string },
): Promise<string | undefined> {
  const at = Math.floor(q.signedAt.getTime() / 1000) * 1000;
  const rows = (await db('certificates')
    .where('department', q.department)
    .whereIn('status', CERTIFICATE_STATUSES)
    .whereBetween('issued_at', [new Date(at), new Date(at + 999)])
    .select('number', 'pdf_sha256')
    .limit(1000)) as { number: string; pdf_sha256: string }[];
  return rows.find((r) => r.pdf_sha256 === q.pdfSha256)?.number;
}

/** The signed record of a certificate: the canonical JSON text and its base64 CMS signature. */
export interface RegisteredRecord {
  record: string;
  signature: string;
}

const recordCacheKey = (number: string) => `certificate-record:${number}`;
const RECORD_CACHE_TTL_S = 24 * 3600;

/**
 * The registered record and signature, cache-aside. Unlike the certificate row (whose status
 * changes, see db/certificate-cache.ts), a record is never rewritten once stored — a change
 * means a new certificate with a new number — so this key needs no invalidation, and a
 * verification by number reads no database row when both keys are warm.
 */
export async function getRegisteredRecord(db: Db, cache: Cache, number: string): Promise<RegisteredRecord | undefined> {
  const hit = await getJson<RegisteredRecord>(cache, recordCacheKey(number)).catch(() => undefined);
  if (hit) return hit;
  const row = await getCertificate(db, number);
  if (!row) return undefined;
  const value = { record: row.record, signature: row.recordSignature };
  await setJson(cache, recordCacheKey(number), value, RECORD_CACHE_TTL_S).catch(() => undefined);
  return value;
}
