import type { Knex } from 'knex';
import type { Db } from './knex';
import { isMysql } from './knex';
import type { CertificateStatus } from '../domain/certificate-record';
import { LISTING_COLUMNS, toCertificateListing, type CertificateListing, type ListingRecord } from './certificates';

/**
 * Catalog search and statistics over the certificates table (the target, a search over
 * tens of millions of records within 3 s, is measured in docs/benchmarks.md). Every query here is shaped so that
 * one index answers it (see migrations 005 and 006) and its cost grows with the page size,
 * not the table:
 *
 * - By holder: `holder_id_hash = ?` on (holder_id_hash, issued_at), in page order however
 *   many certificates the holder has; with a type, `holder_id_hash = ? AND type_code = ?` on
 *   (holder_id_hash, type_code), sorting that holder's certificates of that type (a few).
 *   The department scope is a filter on those rows, not an index column.
 * - Everything else runs once per department in the reader's scope, with the department as
 *   an equality column, on the index whose equality columns the filters fix, ending in
 *   issued_at — so rows come out in page order and a page reads `limit + 1` entries:
 *     typeCode → (type_code, department, issued_at)
 *     status   → (department, status, issued_at)
 *     region   → (department, region_code, issued_at)
 *     none     → (department, issued_at)
 *   The per-department pages are merged in memory. (`department IN (a, b)` in one query
 *   would make MariaDB sort the whole match, because an IN list is several ranges.)
 * - Pages are keyset pages: order (issued_at DESC, id DESC), cursor = the last row's
 *   (issued_at, id), next page `WHERE (issued_at, id) < cursor`, written out as
 *   `issued_at <= t AND (issued_at < t OR id < i)` so the range on issued_at uses the index
 *   on both engines. No OFFSET: page 10 000 costs what page 1 costs, and rows inserted
 *   meanwhile never shift a page.
 * - Dates are China Standard Time calendar days: a certificate's issue date is a Beijing day.
 */

export interface CatalogQuery {
  /** Keyed hash of the holder ID (platform/holder-crypto): holders are never looked up in clear. */
  holderIdHash?: string;
  holderKind?: 'person' | 'entity';
  typeCode?: string;
  /** The departments to search; null = every department. Empty = nothing. */
  departments: string[] | null;
  region?: string;
  status?: CertificateStatus;
  /** Inclusive lower / exclusive upper bound on issued_at. */
  issuedFrom?: Date;
  issuedBefore?: Date;
  after?: CatalogCursor;
  limit: number;
}

export interface CatalogCursor {
  issuedAtMs: number;
  id: number;
}

/** A certificate as the catalog lists it (db/certificates.ts maps the columns). */
export type CatalogRow = CertificateListing;

const COLUMNS = LISTING_COLUMNS;

const ms = (v: unknown) =>
  v instanceof Date ? v.getTime() : typeof v === 'number' ? v : new Date(v as string).getTime();

// ------------------------------------------------------------------ cursors

/** Opaque to callers: base64url of "v1:<issued_at ms>:<id>". */
export function encodeCursor(c: CatalogCursor): string {
  return Buffer.from(`v1:${c.issuedAtMs}:${c.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): CatalogCursor | undefined {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(cursor)) return undefined;
  const m = /^v1:(\d{1,15}):(\d{1,18})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) return undefined;
  const c = { issuedAtMs: Number(m[1]), id: Number(m[2]) };
  return Number.isSafeInteger(c.issuedAtMs) && Number.isSafeInteger(c.id) ? c : undefined;
}

// ------------------------------------------------------------------ dates

const CHINA_OFFSET_MS = 8 * 3_600_000;

/** 00:00 China Standard Time on this YYYY-MM-DD, as an instant. */
export function chinaDayStart(isoDate: string, plusDays = 0): Date {
  const [y, m, d] = isoDate.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + plusDays) - CHINA_OFFSET_MS);
}

/** 'YYYY-MM' of issued_at in China Standard Time, in each engine's SQL (SQLite keeps ms since the epoch). */
function monthExpression(db: Db): Knex.Raw {
  return isMysql(db)
    ? db.raw("DATE_FORMAT(DATE_ADD(issued_at, INTERVAL 8 HOUR), '%Y-%m')")
    : db.raw("strftime('%Y-%m', issued_at / 1000 + 28800, 'unixepoch')");
}

// ------------------------------------------------------------------ search

function applyCommon(q: Knex.QueryBuilder, c: CatalogQuery): Knex.QueryBuilder {
  if (c.holderKind) q.where('holder_kind', c.holderKind);
  if (c.region) q.where('region_code', c.region);
  if (c.status) q.where('status', c.status);
  if (c.issuedFrom) q.where('issued_at', '>=', c.issuedFrom);
  if (c.issuedBefore) q.where('issued_at', '<', c.issuedBefore);
  if (c.after) {
    const t = new Date(c.after.issuedAtMs);
    const id = c.after.id;
    q.where('issued_at', '<=', t).andWhere((w) => w.where('issued_at', '<', t).orWhere('id', '<', id));
  }
  return q
    .orderBy([
      { column: 'issued_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .limit(c.limit + 1);
}

/**
 * The SQL a search runs: one query for a holder lookup, else one per department. Exported so
 * the tests and the bench can EXPLAIN exactly what the API executes.
 */
export async function catalogQueries(db: Db, c: CatalogQuery): Promise<Knex.QueryBuilder[]> {
  if (c.departments && c.departments.length === 0) return [];
  if (c.holderIdHash) {
    const q = db('certificates').select(COLUMNS).where('holder_id_hash', c.holderIdHash);
    if (c.typeCode) q.where('type_code', c.typeCode);
    if (c.departments) q.whereIn('department', c.departments);
    return [applyCommon(q, c)];
  }
  const departments = c.departments ?? (await db('departments').orderBy('code').pluck('code'));
  return departments.map((department) => {
    const q = db('certificates').select(COLUMNS).where('department', department);
    if (c.typeCode) q.where('type_code', c.typeCode);
    return applyCommon(q, c);
  });
}

export interface CatalogPage {
  items: CatalogRow[];
  /** Pass as `after` for the next page; null on the last page. */
  next: CatalogCursor | null;
}

const newestFirst = (a: CatalogRow, b: CatalogRow) => ms(b.issuedAt) - ms(a.issuedAt) || b.id - a.id;

export async function searchCatalog(db: Db, c: CatalogQuery): Promise<CatalogPage> {
  const queries = await catalogQueries(db, c);
  // Each query returns at most limit + 1 rows in page order; the page is the top `limit` of their union.
  const rows = (
    await Promise.all(queries.map(async (q) => ((await q) as ListingRecord[]).map(toCertificateListing)))
  ).flat();
  if (queries.length > 1) rows.sort(newestFirst);
  const items = rows.slice(0, c.limit);
  const last = items[items.length - 1];
  return { items, next: rows.length > c.limit && last ? { issuedAtMs: ms(last.issuedAt), id: last.id } : null };
}

// ------------------------------------------------------------------ statistics

export interface StatsQuery {
  /** null = every department. */
  departments: string[] | null;
  issuedFrom?: Date;
  issuedBefore?: Date;
}

export interface CatalogStats {
  total: number;
  byType: { typeCode: string; typeName: string | null; department: string; count: number }[];
  byDepartment: { department: string; count: number }[];
  byStatus: { status: CertificateStatus; count: number }[];
  byMonth: { month: string; count: number }[];
}

/**
 * The statistics query: one GROUP BY over (department, type, status, month). With a
 * department scope it is a range scan of certificates_stats — a covering index,
 * so no table row is read; the four breakdowns are summed from its (few thousand) groups.
 */
export function statsQuery(db: Db, s: StatsQuery): Knex.QueryBuilder {
  const month = monthExpression(db);
  const q = db('certificates')
    .select('department', 'type_code', 'status', db.raw(`${month.toQuery()} as month`))
    .count({ n: '*' })
    .groupBy('department', 'type_code', 'status', db.raw(month.toQuery()));
  if (s.departments) q.whereIn('department', s.departments);
  if (s.issuedFrom) q.where('issued_at', '>=', s.issuedFrom);
  if (s.issuedBefore) q.where('issued_at', '<', s.issuedBefore);
  // MariaDB sorts GROUP BY output unless told not to; the breakdowns are ordered in memory.
  return q.orderByRaw('NULL');
}

export async function catalogStats(db: Db, s: StatsQuery): Promise<CatalogStats> {
  if (s.departments && s.departments.length === 0)
    return { total: 0, byType: [], byDepartment: [], byStatus: [], byMonth: [] };
  const groups = (await statsQuery(db, s)) as {
    department: string;
    type_code: string;
    status: CertificateStatus;
    month: string;
    n: number | string;
  }[];
  const types = new Map<string, { department: string; count: number }>();
  const departments = new Map<string, number>();
  const statuses = new Map<CertificateStatus, number>();
  const months = new Map<string, number>();
  let total = 0;
  for (const g of groups) {
    const n = Number(g.n);
    total += n;
    const t = types.get(g.type_code) ?? { department: g.department, count: 0 };
    t.count += n;
    types.set(g.type_code, t);
    departments.set(g.department, (departments.get(g.department) ?? 0) + n);
    statuses.set(g.status, (statuses.get(g.status) ?? 0) + n);
    months.set(g.month, (months.get(g.month) ?? 0) + n);
  }
  // Type names from the (small) type table: certificates carry names per version, the index does not.
  const names = new Map<string, string>(
    types.size
      ? (
          await db('certificate_types')
            .whereIn('code', [...types.keys()])
            .select('code', 'name')
        ).map((r) => [r.code as string, r.name as string])
      : [],
  );
  const byCount = <T extends { count: number }>(a: T, b: T) => b.count - a.count;
  return {
    total,
    byType: [...types]
      .map(([typeCode, t]) => ({
        typeCode,
        typeName: names.get(typeCode) ?? null,
        department: t.department,
        count: t.count,
      }))
      .sort(byCount),
    byDepartment: [...departments].map(([department, count]) => ({ department, count })).sort(byCount),
    byStatus: [...statuses].map(([status, count]) => ({ status, count })).sort(byCount),
    byMonth: [...months].map(([month, count]) => ({ month, count })).sort((a, b) => a.month.localeCompare(b.month)),
  };
}
