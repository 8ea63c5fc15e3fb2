import { z } from 'zod';
import type { Context } from 'koa';
import type { AppDeps } from '../app';
import type { ApiRouter } from '../routing';
import { problemOf, unprocessable } from '../problem';
import { numberParam } from './certificates';
import { actorRef } from '../../domain/issuance';
import type { Actor } from '../../domain/access';
import { REQUEST_DECISIONS, REQUEST_KINDS, REQUEST_OUTCOMES } from '../../domain/holder-request';
import { listHolderReminders, markRemindersRead, type HolderRequest } from '../../db/holder-requests';
import { getCertificateCached } from '../../db/certificate-cache';
import { certificateView } from '../../services/certificate-view';
import {
  createRequest,
  decideRequest,
  departmentRequest,
  listMyRequests,
  mayDecide,
  myRequest,
  requestFields,
} from '../../services/holder/requests';

/**
 * Reminders and requests (docs/holders.md): the holder's reminders list, the holder's requests to
 * the issuing department (注销申请 / 异议), and the department's side of a request (the inbox
 * task links here; api/routes/tasks.ts lists it).
 */

type HolderActor = Extract<Actor, { kind: 'holder' }>;
const holderOf = (ctx: Context) => ctx.state.actor as HolderActor;
const idParam = z.object({ id: z.coerce.number().int().positive().max(2_147_483_647) });
const isoTime = z.string().describe('ISO 8601 date-time');

const Reminder = z.looseObject({
  id: z.number().int(),
  certificateNumber: z.string(),
  typeName: z.string(),
  department: z.string(),
  event: z.string().describe('expiring · revoked · cancelled · withdrawn'),
  dueOn: z.string().nullable().describe('For `expiring`: the last valid day'),
  at: isoTime,
  readAt: isoTime.nullable(),
});

const Request = z
  .looseObject({
    id: z.number().int(),
    certificateNumber: z.string(),
    department: z.string(),
    kind: z.enum(REQUEST_KINDS),
    field: z.looseObject({ key: z.string(), label: z.string() }).nullable(),
    statement: z.string(),
    status: z.enum(['open', 'accepted', 'rejected']),
    outcome: z.enum(REQUEST_OUTCOMES).nullable(),
    comment: z.string().nullable(),
    decidedBy: z.string().nullable(),
    decidedAt: isoTime.nullable(),
    requestedBy: z.string(),
    createdAt: isoTime,
  })
  .meta({ id: 'HolderRequest' });

const requestView = (r: HolderRequest) => {
  const { holderHash: _hash, ...shown } = r;
  return shown;
};

export function holderRequestRoutes(api: ApiRouter, deps: AppDeps) {
  // ---- the holder's side

  api.route(
    {
      method: 'get',
      path: '/holder/reminders',
      operationId: 'listMyReminders',
      summary: 'Reminders about my certificates: expiring soon, revoked, cancelled; newest first',
      tag: 'holder',
      auth: 'holder',
      responses: {
        200: {
          description: 'The reminders and how many are unread',
          schema: z.looseObject({ items: z.array(Reminder), unread: z.number().int() }),
        },
      },
    },
    async (ctx) => {
      const items = await listHolderReminders(deps.db, holderOf(ctx).holderHash);
      return { items, unread: items.filter((r) => !r.readAt).length };
    },
  );

  api.route(
    {
      method: 'post',
      path: '/holder/reminders/read',
      operationId: 'markMyRemindersRead',
      summary: 'Mark reminders read: these ids, or all',
      tag: 'holder',
      auth: 'holder',
      body: z.strictObject({
        ids: z.array(z.number().int().positive().max(Number.MAX_SAFE_INTEGER)).max(500).optional(),
      }),
      responses: { 200: { description: 'How many changed', schema: z.looseObject({ marked: z.number().int() }) } },
    },
    async (ctx, { body }) => ({ marked: await markRemindersRead(deps.db, holderOf(ctx).holderHash, body.ids ?? null) }),
  );

  api.route(
    {
      method: 'get',
      path: '/holder/certificates/:number/request-fields',
      operationId: 'listCorrectableFields',
      summary: 'The fields a correction request (异议) may name for one of my certificates',
      tag: 'holder',
      auth: 'holder',
      params: numberParam,
      responses: {
        200: {
          description: 'Key and label of each field',
          schema: z.looseObject({ items: z.array(z.looseObject({ key: z.string(), label: z.string() })) }),
        },
      },
    },
    async (ctx, { params }) => ({ items: await requestFields(deps, holderOf(ctx), params.number) }),
  );

  api.route(
    {
      method: 'get',
      path: '/holder/requests',
      operationId: 'listMyRequests',
      summary: 'My requests to issuing departments (注销申请, 异议) and their outcomes, newest first',
      tag: 'holder',
      auth: 'holder',
      responses: { 200: { description: 'My requests', schema: z.looseObject({ items: z.array(Request) }) } },
    },
    async (ctx) => ({ items: (await listMyRequests(deps, holderOf(ctx))).map(requestView) }),
  );

  api.route(
    {
      method: 'get',
      path: '/holder/requests/:id',
      operationId: 'getMyRequest',
      summary: 'One of my requests',
      tag: 'holder',
      auth: 'holder',
      params: idParam,
      responses: { 200: { description: 'The request', schema: Request } },
    },
    async (ctx, { params }) => requestView(await myRequest(deps, holderOf(ctx), params.id)),
  );

  api.route(
    {
      method: 'post',
      path: '/holder/requests',
      operationId: 'createMyRequest',
      summary: 'Ask the issuing department to cancel one of my certificates, or to correct wrong data (name the field)',
      tag: 'holder',
      auth: 'holder',
      body: z.strictObject({
        certificateNumber: numberParam.shape.number,
        kind: z.enum(REQUEST_KINDS),
        field: z.string().trim().min(1).max(64).optional().describe('For `correct`: the key of the wrong field'),
        statement: z
          .string({ error: 'statement must be a string' })
          .trim()
          .min(2, 'say why, or what is wrong and what is right')
          .max(1000),
      }),
      responses: { 201: { description: 'Filed: a task in the department’s inbox', schema: Request } },
      errors: [409],
      audit: { category: 'operation', action: 'holder-request.create' },
    },
    async (ctx, { body }) => {
      ctx.state.auditObject = { type: 'certificate', id: body.certificateNumber };
      const request = await createRequest(deps, holderOf(ctx), {
        number: body.certificateNumber,
        kind: body.kind,
        field: body.field,
        statement: body.statement,
      });
      ctx.state.auditDepartment = request.department;
      ctx.state.auditDetail = { requestId: request.id, kind: request.kind, field: request.field?.key ?? null };
      ctx.status = 201;
      return requestView(request);
    },
  );

  // ---- the department's side

  api.route(
    {
      method: 'get',
      path: '/holder-requests/:id',
      operationId: 'getHolderRequest',
      summary: "A holder's request with its inbox task and the certificate (holder ID masked)",
      tag: 'inbox',
      auth: 'staff',
      params: idParam,
      responses: {
        200: {
          description: 'The request, its task, the certificate, and whether the caller may decide',
          schema: z.looseObject({
            request: Request,
            task: z.looseObject({ id: z.number().int(), status: z.string(), role: z.string() }),
            certificate: z.looseObject({ number: z.string() }),
            mayDecide: z.boolean(),
          }),
        },
      },
      audit: { category: 'operation', action: 'holder-request.read' },
    },
    async (ctx, { params }) => {
      const { request, task } = await departmentRequest(deps, ctx.state.actor, params.id);
      ctx.state.auditObject = { type: 'certificate', id: request.certificateNumber };
      ctx.state.auditDepartment = request.department;
      ctx.state.auditDetail = { requestId: request.id };
      const cert = (await getCertificateCached(deps.db, deps.cache, request.certificateNumber))!;
      const documentsBase = `${deps.config.http.publicUrl}/api/v1/certificates/${cert.number}`;
      return {
        request: requestView(request),
        task,
        certificate: await certificateView(deps, cert, { reveal: false, documentsBase }),
        mayDecide: mayDecide(ctx.state.actor, task) && task.status === 'open',
      };
    },
  );

  api.route(
    {
      method: 'post',
      path: '/holder-requests/:id/decision',
      operationId: 'decideHolderRequest',
      summary:
        'Accept or reject a holder’s request, with a comment (required to reject); accepting a cancellation cancels the certificate',
      tag: 'inbox',
      auth: 'staff',
      params: idParam,
      body: z.strictObject({
        decision: z.enum(REQUEST_DECISIONS),
        comment: z.string().trim().max(2000).optional(),
      }),
      responses: { 200: { description: 'Decided; the request with its outcome', schema: Request } },
      errors: [409],
    },
    async (ctx, { params, body }) => {
      const comment = body.comment || null;
      if (body.decision === 'reject' && !comment) {
        throw unprocessable('Say why the request is rejected', [{ field: 'comment', message: 'required to reject' }]);
      }
      try {
        const decided = await decideRequest(deps, ctx.state.actor, params.id, {
          decision: body.decision,
          comment,
          actor: actorRef(ctx.state.actor),
        });
        return requestView(decided);
      } catch (err) {
        // A refusal is audited (api/audit.ts); the decision itself is audited by the request's workflow.
        const problem = problemOf(err);
        if (problem?.status === 403) {
          ctx.state.denial = { action: 'holder-request.decide', reason: problem.detail ?? 'refused' };
        }
        throw err;
      }
    },
  );
}
