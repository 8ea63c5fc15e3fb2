import { z } from 'zod';
import type { AppDeps } from '../app';
import type { ApiRouter } from '../routing';
import { badRequest } from '../problem';
import { requirePermission } from '../auth';
import { departmentCode } from './departments';
import { departmentsFor, mayDiscoverByHolder } from '../../domain/access';
import { isIsoDate } from '../../domain/calendar';
import { CERTIFICATE_STATUS_CODES, CERTIFICATE_STATUSES } from '../../domain/certificate-record';
import { anyHolderIdSchema, HOLDER_KINDS, maskHolderId, parseHolderId } from '../../domain/holder';
import {
  catalogStats,
  chinaDayStart,
  decodeCursor,
  encodeCursor,
  searchCatalog,
  type CatalogRow,
} from '../../db/catalog';
import { createHolderCrypto } from '../../platform/holder-crypto';
import { CatalogPage, Statistics } from '../schemas/work';
import { sharingOfTypes } from '../../db/certificate-types';
import { SHARING_LABELS, type SharingCondition } from '../../domain/sharing';

/**
 * The catalog search (GET /certificates) and statistics (GET /stats). Registered from
 * certificateRoutes. The queries and why each is answered from an index: db/catalog.ts.
 *
 * Who sees what in a search:
 * - Staff with certificate.read see the certificates of the departments where they hold it;
 *   business systems with certificates:read, those of their own department.
 * - "One number, many certificates": a handler who searches by holder ID *and states a
 *   reason* searches every department. Certificates outside their read scope come back as
 *   catalog-only entries (number, type, issuer, status, dates; no holder name or ID) marked
 *   `access: "catalog-only"` — enough to know what the holder has and to ask the issuing
 *   department for access, not to read it. Other filters never cross departments: browsing
 *   another department's catalog by type or region is not a handler's job.
 * - The reason for use (用证事由, docs/standards.md "Sharing rules") is recorded in the audit entry;
 *   business systems must give one.
 */

const isoDay = z.string().refine(isIsoDate, 'a date, YYYY-MM-DD (China Standard Time)');

/** from ≤ to, reported on the upper bound's parameter. */
const ordered =
  <K extends string>(from: K, to: K) =>
  (q: Partial<Record<K, string>>, ctx: z.core.$RefinementCtx) => {
    const a = q[from];
    const b = q[to];
    if (a && b && a > b) ctx.addIssue({ code: 'custom', path: [to], message: `must not be before ${from} (${a})` });
  };

const searchQuery = z
  .strictObject({
    holderId: anyHolderIdSchema.optional(),
    holderKind: z.enum(HOLDER_KINDS).optional(),
    typeCode: z
      .string()
      .trim()
      .toUpperCase()
      .pipe(z.string().regex(/^[A-Z0-9]{2,8}$/, 'a certificate type code, 2–8 letters or digits'))
      .optional(),
    department: departmentCode.optional(),
    region: z
      .string()
      .regex(/^\d{6}$/, 'a six-digit administrative region code (GB/T 2260)')
      .optional(),
    status: z.enum(CERTIFICATE_STATUSES as [string, ...string[]]).optional(),
    issuedFrom: isoDay.optional(),
    issuedTo: isoDay.optional(),
    cursor: z
      .string()
      .transform(
        (v, ctx) =>
          decodeCursor(v) ??
          (ctx.addIssue({ code: 'custom', message: 'not a cursor this API returned (pass nextCursor back unchanged)' }),
          z.NEVER),
      )
      .optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    /** 用证事由: why the caller needs these certificates. */
    reason: z.string().trim().min(2).max(200).optional(),
  })
  .superRefine(ordered('issuedFrom', 'issuedTo'))
  .superRefine(holderIdOfKind);

/** With holderKind as well, the ID must be of that kind: a person's ID never finds an entity. */
function holderIdOfKind(q: { holderId?: string; holderKind?: 'person' | 'entity' }, ctx: z.core.$RefinementCtx) {
  if (!q.holderId || !q.holderKind) return;
  const v = parseHolderId(q.holderKind, q.holderId);
  if (v.ok) return;
  ctx.addIssue({ code: 'custom', path: ['holderId'], message: `for holderKind ${q.holderKind}: ${v.reason}` });
}

const statsQuery = z
  .strictObject({ from: isoDay.optional(), to: isoDay.optional(), department: departmentCode.optional() })
  .superRefine(ordered('from', 'to'));

export function catalogRoutes(api: ApiRouter, deps: AppDeps) {
  const holders = createHolderCrypto(deps.masterKey);

  function entry(r: CatalogRow, readable: boolean, sharing: SharingCondition) {
    const base = {
      number: r.number,
      identifier: r.identifier,
      type: { code: r.typeCode, version: r.typeVersion, name: r.typeName },
      issuer: { department: r.department, name: r.issuerName, region: r.regionCode },
      issuedAt: r.issuedAt,
      validFrom: r.validFrom,
      validUntil: r.validUntil,
      status: r.status,
      statusCode: CERTIFICATE_STATUS_CODES[r.status],
      access: readable ? ('read' as const) : ('catalog-only' as const),
      // Whether other departments may fetch it, and on what condition (docs/sharing.md).
      sharing: { condition: sharing, ...SHARING_LABELS[sharing] },
    };
    if (!readable) return { ...base, holder: { kind: r.holderKind, codeType: r.holderCodeType } };
    return {
      ...base,
      holder: {
        kind: r.holderKind,
        codeType: r.holderCodeType,
        name: r.holderName,
        id: maskHolderId(holders.decrypt(r.holderIdEncrypted)),
        idMasked: true,
      },
      href: `${deps.config.http.publicUrl}/api/v1/certificates/${r.number}`,
    };
  }

  api.route(
    {
      method: 'get',
      path: '/certificates',
      operationId: 'searchCertificates',
      responses: { 200: { description: 'A page of matching certificates, newest first', schema: CatalogPage } },
      scopes: ['certificates:read'],
      summary:
        'Search the catalog: by holder (exact ID number or credit code), type, department, region, status, issue dates (China Standard Time, inclusive); newest first, keyset-paged (pass nextCursor as cursor). reason = 用证事由, required for business systems',
      tag: 'certificates',
      query: searchQuery,
      audit: { category: 'operation', action: 'certificate.search' },
    },
    async (ctx, { query }) => {
      const actor = ctx.state.actor;
      if (actor.kind === 'api-client' && !query.reason) {
        throw badRequest('Business systems must state the reason for use (用证事由)', [
          { field: 'query.reason', message: 'required for business systems' },
        ]);
      }
      const readable = departmentsFor(actor, 'certificate.read');
      const discover = Boolean(query.holderId && query.reason && mayDiscoverByHolder(actor));
      if (!discover)
        requirePermission(ctx, 'certificate.read', query.department ? { department: query.department } : {});
      const departments = query.department ? [query.department] : discover ? null : readable;
      ctx.state.auditDepartment = query.department ?? (readable?.length === 1 ? readable[0] : null);
      if (query.holderId) ctx.state.auditObject = { type: 'holder', id: maskHolderId(query.holderId) };

      const page = await searchCatalog(deps.db, {
        holderIdHash: query.holderId ? holders.lookupHash(query.holderId) : undefined,
        holderKind: query.holderKind,
        typeCode: query.typeCode,
        departments,
        region: query.region,
        status: query.status as CatalogRow['status'] | undefined,
        issuedFrom: query.issuedFrom ? chinaDayStart(query.issuedFrom) : undefined,
        issuedBefore: query.issuedTo ? chinaDayStart(query.issuedTo, 1) : undefined,
        after: query.cursor,
        limit: query.limit,
      });
      const mayRead = (d: string) => readable === null || readable.includes(d);
      const sharing = await sharingOfTypes(
        deps.db,
        page.items.map((r) => r.typeCode),
      );
      const items = page.items.map((r) => entry(r, mayRead(r.department), sharing.get(r.typeCode) ?? 'conditional'));
      const { holderId, cursor, reason, ...filters } = query;
      ctx.state.auditDetail = {
        reason: reason ?? null,
        filters: {
          ...filters,
          ...(holderId ? { holderId: maskHolderId(holderId) } : {}),
          page: cursor ? 'next' : 'first',
        },
        crossDepartment: discover,
        results: items.length,
        catalogOnly: items.filter((i) => i.access === 'catalog-only').length,
      };
      return { items, nextCursor: page.next ? encodeCursor(page.next) : null, crossDepartment: discover };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/stats',
      operationId: 'getStatistics',
      responses: { 200: { description: "Counts for the caller's departments", schema: Statistics } },
      summary:
        "Certificate counts by type, department, status and month of issue (China Standard Time) for the caller's departments (department and audit admins; a platform-wide audit admin sees all); from/to are inclusive issue dates",
      tag: 'statistics',
      auth: 'staff',
      query: statsQuery,
      audit: { category: 'operation', action: 'stats.read' },
    },
    async (ctx, { query }) => {
      requirePermission(ctx, 'stats.read', query.department ? { department: query.department } : {});
      const departments = query.department ? [query.department] : departmentsFor(ctx.state.actor, 'stats.read');
      ctx.state.auditDepartment = departments?.length === 1 ? departments[0] : null;
      ctx.state.auditDetail = { departments: departments ?? 'all', from: query.from ?? null, to: query.to ?? null };
      const stats = await catalogStats(deps.db, {
        departments,
        issuedFrom: query.from ? chinaDayStart(query.from) : undefined,
        issuedBefore: query.to ? chinaDayStart(query.to, 1) : undefined,
      });
      return {
        scope: {
          departments: departments ?? 'all',
          from: query.from ?? null,
          to: query.to ?? null,
          timeZone: 'Asia/Shanghai',
        },
        total: stats.total,
        byType: stats.byType,
        byDepartment: stats.byDepartment,
        byStatus: stats.byStatus.map((s) => ({ ...s, statusCode: CERTIFICATE_STATUS_CODES[s.status] })),
        byMonth: stats.byMonth,
      };
    },
  );
}
