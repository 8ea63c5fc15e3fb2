import { z } from 'zod';
import type { Context } from 'koa';
import type { AppDeps } from '../app';
import type { ApiRouter } from '../routing';
import { notFound } from '../problem';
import { requirePermission } from '../auth';
import { numberParam } from './certificates';
import { departmentCode } from './departments';
import { matter, reason, until } from './holder';
import { typeCodeSchema } from '../../domain/certificate-type';
import { anyHolderIdSchema } from '../../domain/holder';
import { ServiceError } from '../../services/errors';
import type { AccessRequest } from '../../db/access-requests';
import { deactivateSharingRule, getSharingRule, insertSharingRule, listSharingRules } from '../../db/access-requests';
import { getType } from '../../db/certificate-types';
import { getDepartment } from '../../db/org';
import {
  createAccessRequest,
  decideByStaff,
  listForActor,
  readAccessRequest,
} from '../../services/sharing/access-requests';

const STATUSES = ['open', 'approved', 'rejected', 'expired'] as const;

const AccessRequestView = z.object({
  id: z.string(),
  department: z.string(),
  requesterDepartment: z.string(),
  requesterName: z.string(),
  scope: z.enum(['certificate', 'holder-type']),
  certificateNumber: z.string().nullable(),
  holderKind: z.enum(['person', 'entity']).nullable(),
  typeCode: z.string(),
  matter: z.string(),
  reason: z.string(),
  validUntil: z.string(),
  status: z.enum(STATUSES),
  dueAt: z.string().nullable(),
  overdue: z.boolean(),
  escalated: z.boolean(),
  decidedBy: z.string().nullable(),
  comment: z.string().nullable(),
  grantIds: z.array(z.string()),
  notifiedAt: z.string().nullable(),
  createdAt: z.string(),
  decidedAt: z.string().nullable(),
});

/** What callers see of a request: never the holder's lookup hash or the callback target. */
function view(r: AccessRequest): z.infer<typeof AccessRequestView> {
  return {
    id: r.id,
    department: r.department,
    requesterDepartment: r.requesterDepartment,
    requesterName: r.requesterName,
    scope: r.scope,
    certificateNumber: r.certificateNumber,
    holderKind: r.holderKind,
    typeCode: r.typeCode,
    matter: r.matter,
    reason: r.reason,
    validUntil: r.validUntil,
    status: r.status,
    dueAt: r.dueAt,
    overdue: r.overdue,
    escalated: r.escalated,
    decidedBy: r.decidedBy,
    comment: r.comment,
    grantIds: r.grantIds,
    notifiedAt: r.notifiedAt,
    createdAt: r.createdAt,
    decidedAt: r.decidedAt,
  };
}

/** A refusal the service reports is audited like any other (api/audit.ts records ctx.state.denial). */
async function refusalsAudited<T>(ctx: Context, action: string, department: string | undefined, fn: () => Promise<T>) {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ServiceError && err.kind === 'forbidden')
      ctx.state.denial = { action, reason: err.message, ...(department ? { department } : {}) };
    throw err;
  }
}

const requestBody = z
  .object({
    certificateNumber: numberParam.shape.number.optional().describe('One certificate; or holderId with typeCode'),
    holderId: anyHolderIdSchema.optional().describe("All of this holder's valid certificates of typeCode"),
    typeCode: typeCodeSchema.optional(),
    matter: matter.describe('用证事项'),
    reason: reason.describe('用证事由'),
    validUntil: until.describe('End of the period asked for (a date = end of that day, China time); at most a year'),
    department: departmentCode.optional().describe('The asking department, for a handler in several'),
    callbackUrl: z.url().max(500).optional().describe('Business systems: where the decision is POSTed (signed)'),
  })
  .superRefine((b, ctx) => {
    if (b.certificateNumber ? b.holderId || b.typeCode : !(b.holderId && b.typeCode))
      ctx.addIssue({
        code: 'custom',
        path: [b.certificateNumber ? 'certificateNumber' : b.holderId ? 'typeCode' : 'holderId'],
        message: 'give either certificateNumber, or holderId with typeCode',
      });
  });

/**
 * Access requests between departments and the issuing departments' auto-approval rules
 * (docs/sharing.md). The workflow behind each request: workflows/access-request.ts.
 */
export function accessRequestRoutes(api: ApiRouter, deps: AppDeps) {
  api.route(
    {
      method: 'post',
      path: '/access-requests',
      operationId: 'createAccessRequest',
      scopes: ['certificates:fetch'],
      summary:
        "Ask another department for its certificate (or all of one holder's certificates of a type) for a matter and a period; its handlers decide, or a rule approves at once",
      tag: 'sharing',
      body: requestBody,
      responses: {
        201: { description: 'The request', schema: AccessRequestView },
        409: 'Own department, or shared unconditionally',
      },
      audit: { category: 'operation', action: 'access-request.create' },
    },
    async (ctx, { body }) => {
      if (body.certificateNumber) ctx.state.auditObject = { type: 'certificate', id: body.certificateNumber };
      ctx.state.auditDetail = { matter: body.matter, reason: body.reason, typeCode: body.typeCode ?? null };
      const r = await refusalsAudited(ctx, 'access-request.create', undefined, () =>
        createAccessRequest(deps, ctx.state.actor, {
          target: body.certificateNumber
            ? { certificateNumber: body.certificateNumber }
            : { holderId: body.holderId!, typeCode: body.typeCode! },
          matter: body.matter,
          reason: body.reason,
          validUntil: body.validUntil,
          department: body.department,
          callbackUrl: body.callbackUrl,
        }),
      );
      ctx.state.auditDepartment = r.requesterDepartment;
      ctx.state.auditObject = r.certificateNumber
        ? { type: 'certificate', id: r.certificateNumber }
        : { type: 'access-request', id: r.id };
      ctx.state.auditDetail = {
        requestId: r.id,
        to: r.department,
        matter: r.matter,
        reason: r.reason,
        typeCode: r.typeCode,
      };
      ctx.status = 201;
      return view(r);
    },
  );

  api.route(
    {
      method: 'get',
      path: '/access-requests',
      operationId: 'listAccessRequests',
      scopes: ['certificates:fetch'],
      summary:
        "Access requests: `received` — to the caller's departments, their inbox (escalated ones also to the department admin); `sent` — from them",
      tag: 'sharing',
      query: z.object({
        box: z.enum(['received', 'sent']).default('received'),
        status: z.enum(STATUSES).optional(),
        limit: z.coerce.number().int().min(1).max(200).default(50),
      }),
      responses: { 200: { description: 'The requests', schema: z.object({ items: z.array(AccessRequestView) }) } },
    },
    async (ctx, { query }) => ({ items: (await listForActor(deps, ctx.state.actor, query)).map(view) }),
  );

  api.route(
    {
      method: 'get',
      path: '/access-requests/:id',
      operationId: 'getAccessRequest',
      scopes: ['certificates:fetch'],
      summary: 'One access request',
      tag: 'sharing',
      params: z.object({ id: z.uuid() }),
      responses: { 200: { description: 'The request', schema: AccessRequestView } },
    },
    async (ctx, { params }) => view(await readAccessRequest(deps, ctx.state.actor, params.id)),
  );

  api.route(
    {
      method: 'post',
      path: '/access-requests/:id/decision',
      operationId: 'decideAccessRequest',
      summary:
        "Approve or reject (with a comment) a request to the caller's department; approval grants access for the period",
      tag: 'sharing',
      auth: 'staff',
      params: z.object({ id: z.uuid() }),
      body: z.object({
        decision: z.enum(['approve', 'reject']),
        comment: z.string().trim().min(1).max(500).optional(),
      }),
      responses: { 200: { description: 'The decided request', schema: AccessRequestView }, 409: 'Already decided' },
      audit: { category: 'operation', action: 'access-request.decide' },
    },
    async (ctx, { params, body }) => {
      ctx.state.auditObject = { type: 'access-request', id: params.id };
      const r = await refusalsAudited(ctx, 'access-request.decide', undefined, () =>
        decideByStaff(deps, ctx.state.actor, params.id, body.decision, body.comment ?? null),
      );
      ctx.state.auditDepartment = r.department;
      if (r.certificateNumber) ctx.state.auditObject = { type: 'certificate', id: r.certificateNumber };
      ctx.state.auditDetail = {
        requestId: r.id,
        decision: body.decision,
        comment: body.comment ?? null,
        from: r.requesterDepartment,
      };
      return view(r);
    },
  );

  // ---------------------------------------------------------------- auto-approval rules

  const Rule = z.object({
    id: z.number(),
    department: z.string(),
    typeCode: z.string(),
    requesterDepartment: z.string(),
    matter: z.string(),
    createdBy: z.string(),
    createdAt: z.string(),
  });
  const ruleView = ({ active: _a, ...r }: Awaited<ReturnType<typeof insertSharingRule>>) => r;

  api.route(
    {
      method: 'get',
      path: '/sharing-rules',
      operationId: 'listSharingRules',
      summary: "A department's auto-approval rules for access requests (type + requesting department + matter)",
      tag: 'sharing',
      auth: 'staff',
      query: z.object({ department: departmentCode }),
      responses: { 200: { description: 'The rules', schema: z.object({ items: z.array(Rule) }) } },
    },
    async (ctx, { query }) => {
      requirePermission(ctx, 'certificate-type.manage', { department: query.department });
      return { items: (await listSharingRules(deps.db, query.department)).map(ruleView) };
    },
  );

  api.route(
    {
      method: 'post',
      path: '/sharing-rules',
      operationId: 'createSharingRule',
      summary: 'Approve access requests for this type from this department for this matter automatically',
      tag: 'sharing',
      auth: 'staff',
      body: z.object({ typeCode: typeCodeSchema, requesterDepartment: departmentCode, matter }),
      responses: { 201: { description: 'The rule', schema: Rule } },
      audit: { category: 'configuration', action: 'sharing-rule.create' },
    },
    async (ctx, { body }) => {
      const type = await getType(deps.db, body.typeCode);
      if (!type) throw notFound(`No certificate type ${body.typeCode}`);
      ctx.state.auditObject = { type: 'certificate-type', id: type.code };
      ctx.state.auditDepartment = type.department;
      requirePermission(ctx, 'certificate-type.manage', { department: type.department });
      if (!(await getDepartment(deps.db, body.requesterDepartment)) || body.requesterDepartment === type.department)
        throw notFound(`No other department ${body.requesterDepartment}`);
      const actor = ctx.state.actor;
      const rule = await insertSharingRule(deps.db, {
        department: type.department,
        typeCode: type.code,
        requesterDepartment: body.requesterDepartment,
        matter: body.matter,
        createdBy: actor.kind === 'user' ? actor.username : actor.kind,
      });
      ctx.state.auditDetail = { ruleId: rule.id, requesterDepartment: rule.requesterDepartment, matter: rule.matter };
      ctx.status = 201;
      return ruleView(rule);
    },
  );

  api.route(
    {
      method: 'delete',
      path: '/sharing-rules/:id',
      operationId: 'deleteSharingRule',
      summary: 'Stop an auto-approval rule',
      tag: 'sharing',
      auth: 'staff',
      params: z.object({ id: z.coerce.number().int().positive() }),
      responses: { 204: { description: 'Stopped', noContent: true } },
      audit: { category: 'configuration', action: 'sharing-rule.delete' },
    },
    async (ctx, { params }) => {
      const rule = await getSharingRule(deps.db, params.id);
      if (!rule || !rule.active) throw notFound(`No rule ${params.id}`);
      ctx.state.auditObject = { type: 'certificate-type', id: rule.typeCode };
      ctx.state.auditDepartment = rule.department;
      requirePermission(ctx, 'certificate-type.manage', { department: rule.department });
      await deactivateSharingRule(deps.db, rule.id);
      ctx.state.auditDetail = { ruleId: rule.id };
      ctx.status = 204;
    },
  );
}
