import { z } from 'zod';
import type { AppDeps } from '../app';
import type { ApiRouter } from '../routing';
import { requirePermission } from '../auth';
import { AUDIT_CATEGORIES, queryAudit, verifyAuditChain } from '../../db/audit';
import { departmentsFor } from '../../domain/access';
import { AuditChainReport, AuditPage } from '../schemas/organisation';

const isoTime = z.iso.datetime({ offset: true }).transform((s) => new Date(s).toISOString());

/** For audit admins: read the log (scoped to their departments unless platform-wide) and verify the chain. */
export function auditRoutes(api: ApiRouter, deps: AppDeps) {
  api.route(
    {
      method: 'get',
      path: '/audit',
      operationId: 'listAuditEntries',
      responses: { 200: { description: 'Entries, newest first', schema: AuditPage } },
      summary: 'Audit log entries, newest first',
      tag: 'audit',
      auth: 'staff',
      query: z.object({
        category: z.enum(AUDIT_CATEGORIES).optional(),
        actor: z.string().max(100).optional(),
        objectType: z.string().max(40).optional(),
        objectId: z.string().max(128).optional(),
        outcome: z.enum(['success', 'failure', 'denied']).optional(),
        from: isoTime.optional(),
        to: isoTime.optional(),
        cursor: z.coerce.number().int().positive().optional(),
        limit: z.coerce.number().int().min(1).max(500).default(50),
      }),
    },
    async (ctx, { query }) => {
      requirePermission(ctx, 'audit.read');
      const scope = departmentsFor(ctx.state.actor, 'audit.read');
      const { cursor, ...filters } = query;
      const page = await queryAudit(deps.db, { ...filters, before: cursor, departments: scope ?? undefined });
      return { items: page.entries, nextCursor: page.nextCursor };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/audit/verify',
      operationId: 'verifyAuditChain',
      responses: { 200: { description: 'The chain report', schema: AuditChainReport } },
      summary: 'Walk the hash chain and report the first broken link',
      tag: 'audit',
      auth: 'staff',
    },
    async (ctx) => {
      requirePermission(ctx, 'audit.read');
      return verifyAuditChain(deps.db, deps.masterKey, undefined, deps.config.audit.anchorsDir);
    },
  );
}
