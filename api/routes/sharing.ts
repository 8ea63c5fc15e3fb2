import { z } from 'zod';
import type { AppDeps } from '../app';
import type { ApiRouter } from '../routing';
import { HttpProblem, notFound } from '../problem';
import { departmentCode } from './departments';
import { departmentsFor } from '../../domain/access';
import { getStatusPush, pendingStatusPushes } from '../../db/catalog-status';
import { pushCatalogStatus } from '../../services/sharing/catalog-sync';
import { OutboundError } from '../../services/outbound';
import { deny, requirePermission } from '../auth';
import { numberParam } from './certificates';
import { matter, reason, until } from './holder';
import { getCertificateCached } from '../../db/certificate-cache';
import { fetchAccess } from '../../services/sharing/policy';
import { makeAnnotatedCopy } from '../../services/sharing/fetch';
import { typeCodeSchema } from '../../domain/certificate-type';
import { fetchingDepartments, SHARING_LABELS, sharingConditionSchema } from '../../domain/sharing';
import { listDepartmentGrants } from '../../db/sharing';
import { getType, setTypeSharing } from '../../db/certificate-types';

const SharingSetting = z.object({
  code: z.string(),
  department: z.string(),
  sharing: sharingConditionSchema,
  zh: z.string(),
  en: z.string(),
});

const StatusPushItem = z.object({
  certificateNumber: z.string(),
  department: z.string(),
  status: z.string().describe('The status the catalog is to be told'),
  attempts: z.int(),
  lastError: z.string().nullable(),
  lastAttemptAt: z.string().nullable(),
  createdAt: z.string(),
});

const RepushOutcome = z.object({
  number: z.string(),
  status: z.string(),
  pushed: z.literal(true),
  attempts: z.int(),
  alreadyPushed: z.boolean().describe('true: an earlier push had already been taken; nothing was sent'),
});

const DepartmentGrantItem = z.object({
  id: z.string(),
  certificateNumber: z.string(),
  typeCode: z.string(),
  issuer: z.string().describe('The issuing department'),
  department: z.string().describe('The department granted'),
  apiClientId: z.string().nullable(),
  matter: z.string(),
  validUntil: z.string(),
  status: z.string(),
  grantedBy: z.string(),
  createdAt: z.string(),
});

/**
 * Sharing between departments (docs/sharing.md): the sharing condition of a certificate type,
 * set by the issuing department's admin, and fetch (获取) of annotated copies.
 */
export function sharingRoutes(api: ApiRouter, deps: AppDeps) {
  api.route(
    {
      method: 'put',
      path: '/certificate-types/:code/sharing',
      operationId: 'setCertificateTypeSharing',
      summary:
        "Set the type's sharing condition: unconditional (无条件共享), conditional (有条件共享: the holder's grant or an approved access request) or not-shared (不予共享)",
      tag: 'sharing',
      auth: 'staff',
      params: z.object({ code: typeCodeSchema }),
      body: z.object({ sharing: sharingConditionSchema }),
      responses: { 200: { description: 'The new setting', schema: SharingSetting } },
      audit: { category: 'configuration', action: 'certificate-type.sharing' },
    },
    async (ctx, { params, body }) => {
      const type = await getType(deps.db, params.code);
      if (!type) throw notFound(`No certificate type ${params.code}`);
      ctx.state.auditObject = { type: 'certificate-type', id: type.code };
      ctx.state.auditDepartment = type.department;
      requirePermission(ctx, 'certificate-type.manage', { department: type.department });
      await setTypeSharing(deps.db, type.code, body.sharing);
      ctx.state.auditDetail = { from: type.sharing, to: body.sharing };
      return { code: type.code, department: type.department, sharing: body.sharing, ...SHARING_LABELS[body.sharing] };
    },
  );

  api.route(
    {
      method: 'post',
      path: '/certificates/:number/fetch',
      operationId: 'fetchCertificate',
      scopes: ['certificates:fetch'],
      summary:
        "Fetch (获取) another department's certificate as an annotated copy (加注件): the issuer's signed PDF plus a page naming the matter, the caller and the copy's validity, signed by the platform's seal",
      description:
        'Allowed when the type is shared unconditionally, or — shared on condition — under a live grant to the ' +
        "caller's department (the holder's, or one an approved access request made). Never for a type that is " +
        'not shared, nor for a certificate that is not valid. Audited with the reason; the holder sees it in the ' +
        'usage log. `/verify` reports the copy as an annotated copy of the certificate (docs/sharing.md).',
      tag: 'sharing',
      params: numberParam,
      body: z.object({
        matter: matter.describe('用证事项: the matter the copy is for'),
        reason: reason.describe('用证事由: why the certificate is needed'),
        validUntil: until
          .optional()
          .describe(
            'Until when the copy may be used (a date = end of that day, China time); default 30 days, never past the grant',
          ),
      }),
      responses: {
        200: {
          description: 'The annotated copy',
          contentType: 'application/pdf',
          rawSchema: { type: 'string', contentMediaType: 'application/pdf' },
          headers: {
            'X-Annotated-Copy-Id': {
              description: 'The copy id, printed on its annotation page',
              schema: { type: 'string' },
            },
            'X-Annotated-Copy-Valid-Until': {
              description: 'ISO time the copy stops being valid',
              schema: { type: 'string' },
            },
          },
        },
      },
      audit: { category: 'operation', action: 'certificate.fetch' },
    },
    async (ctx, { params, body }) => {
      ctx.state.auditObject = { type: 'certificate', id: params.number };
      ctx.state.auditDetail = { reason: body.reason, matter: body.matter };
      const cert = await getCertificateCached(deps.db, deps.cache, params.number);
      if (!cert) throw notFound(`No certificate ${params.number}`);
      ctx.state.auditDepartment = cert.department;
      const access = await fetchAccess(deps, ctx.state.actor, cert);
      if (!access.allowed) deny(ctx, 'certificate.fetch', access.reason, cert.department);
      const { copy, pdf } = await makeAnnotatedCopy(deps, ctx.state.actor, cert, access, body);
      // The entry belongs to the department that used the certificate: the holder's usage log shows it.
      ctx.state.auditDepartment = copy.department;
      ctx.state.auditDetail = {
        reason: copy.reason,
        matter: copy.matter,
        basis: copy.basis,
        ...(copy.grantId ? { grantId: copy.grantId } : {}),
        copyId: copy.id,
        validUntil: copy.validUntil,
      };
      ctx.type = 'application/pdf';
      ctx.attachment(`${cert.number}-加注件.pdf`);
      ctx.set('x-annotated-copy-id', copy.id);
      ctx.set('x-annotated-copy-valid-until', copy.validUntil);
      return pdf;
    },
  );

  // ---------------------------------------------------------------- catalog status sync

  api.route(
    {
      method: 'get',
      path: '/catalog/status-failed',
      operationId: 'listCatalogStatusFailures',
      summary:
        'Status changes (revocation, expiry, …) the external catalog has not taken yet, after at least one try (for re-push)',
      tag: 'catalog',
      auth: 'staff',
      query: z.object({
        department: departmentCode.optional(),
        limit: z.coerce.number().int().min(1).max(500).default(50),
      }),
      responses: {
        200: { description: 'The status changes still to push', schema: z.object({ items: z.array(StatusPushItem) }) },
      },
    },
    async (ctx, { query }) => {
      requirePermission(ctx, 'catalog.repair', query.department ? { department: query.department } : {});
      const departments = query.department ? [query.department] : departmentsFor(ctx.state.actor, 'catalog.repair');
      const items = await pendingStatusPushes(deps.db, { departments, failedOnly: true, limit: query.limit });
      return { items: items.map(({ id: _id, pushedAt: _p, ...p }) => p) };
    },
  );

  api.route(
    {
      method: 'post',
      path: '/catalog/status-failed/:number/repush',
      operationId: 'repushCatalogStatus',
      summary: "Push a certificate's status change to the catalog again",
      tag: 'catalog',
      auth: 'staff',
      params: numberParam,
      body: z.object({ status: z.enum(['revoked', 'cancelled', 'withdrawn', 'expired', 'suspended', 'superseded']) }),
      responses: {
        200: { description: 'Pushed', schema: RepushOutcome },
        502: 'The catalog refused or did not answer; the error is recorded',
      },
      audit: { category: 'operation', action: 'catalog.repush-status' },
    },
    async (ctx, { params, body }) => {
      ctx.state.auditObject = { type: 'certificate', id: params.number };
      const pending = await getStatusPush(deps.db, params.number, body.status);
      if (!pending) throw notFound(`No ${body.status} status change of ${params.number} to push`);
      ctx.state.auditDepartment = pending.department;
      requirePermission(ctx, 'catalog.repair', { department: pending.department });
      try {
        const outcome = await pushCatalogStatus(deps, params.number, body.status);
        ctx.state.auditDetail = { status: body.status, attempts: outcome.attempts };
        return { number: params.number, status: body.status, ...outcome };
      } catch (err) {
        if (err instanceof OutboundError) throw new HttpProblem(502, 'Bad Gateway', err.message);
        throw err;
      }
    },
  );

  api.route(
    {
      method: 'get',
      path: '/sharing/grants',
      operationId: 'listDepartmentGrants',
      scopes: ['certificates:fetch'],
      summary:
        "Grants between departments: `received` — to the caller's departments (the holders' and approved access requests'); `issued` — on certificates of the caller's departments",
      tag: 'sharing',
      query: z.object({
        box: z.enum(['received', 'issued']).default('received'),
        limit: z.coerce.number().int().min(1).max(200).default(50),
      }),
      responses: { 200: { description: 'The grants', schema: z.object({ items: z.array(DepartmentGrantItem) }) } },
    },
    async (ctx, { query }) => {
      const actor = ctx.state.actor;
      const departments =
        query.box === 'received'
          ? fetchingDepartments(actor)
          : actor.kind === 'user'
            ? [
                ...new Set(
                  actor.roles
                    .filter((r) => ['handler', 'department-admin'].includes(r.role) && r.department)
                    .map((r) => r.department!),
                ),
              ]
            : actor.kind === 'api-client'
              ? [actor.department]
              : [];
      return { items: await listDepartmentGrants(deps.db, { box: query.box, departments, limit: query.limit }) };
    },
  );
}
