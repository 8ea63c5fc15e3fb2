import { z } from 'zod';
import type { Context } from 'koa';
import type { AppDeps } from '../app';
import type { ApiRouter } from '../routing';
import { notFound, unprocessable } from '../problem';
import { deny, requirePermission } from '../auth';
import { recordAudit } from '../audit';
import { departmentsFor, type Actor } from '../../domain/access';
import { actorRef, ISSUANCE_MODES, APPLICATION_STATUSES } from '../../domain/issuance';
import { getApplication, listApplications, type ApplicationRow } from '../../db/applications';
import { submissionType, submitApplication } from '../../services/issuance/submit';
import { HOLDER_KINDS, holderNameSchema } from '../../domain/holder';
import { APPLICATION_KINDS } from '../../domain/certificate-change';
import { Application, ApplicationList, SubmittedApplication } from '../schemas/responses';
import { CALLBACKS, IDEMPOTENCY_KEY, LOCATION, SUBMIT_DESCRIPTION, SUBMIT_EXAMPLE } from '../schemas/submission';
import { amendApplication, applicationView, withdrawApplication } from '../../services/issuance/applications';

/**
 * The ID is checked by the submit use case (parseHolderId, domain/holder.ts), not here: whether
 * it is a resident ID or a credit code, and whether that suits the type, is reported together
 * with the face data's errors, so a caller fixes everything in one round.
 */
const holderSchema = z.object({
  kind: z.enum(HOLDER_KINDS),
  id: z.string().max(64),
  name: holderNameSchema,
});

/** Issuance (docs/issuance.md): submit, follow, amend and withdraw applications. */
export function applicationRoutes(api: ApiRouter, deps: AppDeps) {
  /** The submitter, staff of the department, or an API client of the department with read scope. */
  async function loadVisible(ctx: Context, id: string): Promise<ApplicationRow> {
    const app = await getApplication(deps.db, id);
    if (!app) throw notFound(`No application ${id}`);
    const me = actorRef(ctx.state.actor);
    const isSubmitter = me.type === app.submitter.type && me.id === app.submitter.id;
    if (!isSubmitter) requirePermission(ctx, 'application.read', { department: app.department });
    return app;
  }

  const view = (app: ApplicationRow, actor: Actor) => applicationView(deps, app, actor);

  /**
   * Full ID numbers only for staff and systems who may read the department's applications, with
   * a reason, and an audit entry saying what was revealed and why (docs/security.md).
   */
  async function revealed(ctx: Context, app: ApplicationRow, reason: string | undefined) {
    ctx.state.auditObject = { type: 'application', id: app.id };
    ctx.state.auditDepartment = app.department;
    if (!reason)
      throw unprocessable('Say why the ID numbers are needed', [
        { field: 'reason', message: 'required with reveal=true (at most 200 characters)' },
      ]);
    requirePermission(ctx, 'application.read', { department: app.department });
    const result = await applicationView(deps, app, ctx.state.actor, true);
    await recordAudit(ctx, {
      category: 'operation',
      action: 'application.reveal',
      outcome: 'success',
      object: { type: 'application', id: app.id },
      department: app.department,
      detail: { reason, revealed: ['holder.id', 'faceData (idNumber fields)'] },
    });
    return result;
  }

  api.route(
    {
      method: 'post',
      path: '/applications',
      operationId: 'submitApplication',
      scopes: ['applications:write'],
      summary: 'Submit face data for a certificate type; starts the issuance workflow',
      tag: 'issuance',
      body: z.object({
        typeCode: z.string().trim().toUpperCase(),
        holder: holderSchema
          .optional()
          .describe('Required for a first issue; a change, renewal or reissue keeps the holder of `replaces`'),
        faceData: z
          .record(z.string(), z.unknown())
          .default({})
          .describe('A change sends only the fields that change; a renewal may; a reissue sends none'),
        kind: z
          .enum(APPLICATION_KINDS)
          .default('new')
          .describe(
            'new (新办), change (变更), renewal (延续) or reissue (补发/换发) of `replaces` (docs/lifecycle.md)',
          ),
        replaces: z.string().max(40).optional().describe('The certificate a change, renewal or reissue supersedes'),
        reason: z.string().trim().max(500).optional().describe('Why: required for a reissue (lost, damaged …)'),
        externalRef: z.string().trim().min(1).max(128).optional(),
        callbackUrl: z
          .url({ protocol: /^https?$/ })
          .max(500)
          .optional(),
        mode: z.enum(ISSUANCE_MODES).default('review'),
      }),
      description: SUBMIT_DESCRIPTION,
      requestHeaders: [IDEMPOTENCY_KEY],
      bodyExample: SUBMIT_EXAMPLE,
      responses: {
        201: {
          description: 'Accepted; the workflow runs',
          schema: SubmittedApplication,
          headers: { Location: LOCATION },
        },
        200: {
          description: 'The same request again (same Idempotency-Key, or same externalRef): the application it made',
          schema: SubmittedApplication,
          headers: { Location: LOCATION },
        },
      },
      errors: [409, 422, 503],
      callbacks: CALLBACKS,
    },
    async (ctx, { body }) => {
      const actor = ctx.state.actor;
      const type = await submissionType(deps, body.typeCode);
      ctx.state.auditObject = { type: 'certificate-type', id: type.code };
      requirePermission(ctx, 'application.create', { department: type.department });
      if (body.mode === 'auto-seal' && actor.kind !== 'api-client')
        deny(ctx, 'application.create', 'auto-seal is for approval systems that approved the case themselves');
      const submission = { ...body, submitter: actorRef(actor), idempotencyKey: ctx.get('idempotency-key') };
      const { application: app, created: isNew } = await submitApplication(deps, type, submission, (entry) => {
        ctx.state.auditObject = entry.object ?? undefined;
        return recordAudit(ctx, entry);
      });
      ctx.status = isNew ? 201 : 200;
      ctx.set('Location', `${api.prefix}/applications/${app.id}`);
      return created(app);
    },
  );

  function created(app: ApplicationRow) {
    return {
      id: app.id,
      workflowId: app.workflowId,
      status: app.status,
      ...(app.mode === 'online-seal' ? { sealingUrl: `${deps.config.http.publicUrl}/seal/${app.id}` } : {}),
    };
  }

  api.route(
    {
      method: 'get',
      path: '/applications',
      operationId: 'listApplications',
      scopes: ['applications:read'],
      summary: "Applications: mine, or my departments' (newest first)",
      tag: 'issuance',
      responses: { 200: { description: 'A page of applications', schema: ApplicationList } },
      query: z.object({
        mine: z.enum(['true', 'false']).default('true'),
        status: z.enum(APPLICATION_STATUSES).optional(),
        before: z.iso.datetime({ offset: true }).optional(),
        limit: z.coerce.number().int().min(1).max(200).default(50),
      }),
    },
    async (ctx, { query }) => {
      const actor = ctx.state.actor;
      const departments = query.mine === 'true' ? undefined : departmentsFor(actor, 'application.read');
      if (departments && departments.length === 0) requirePermission(ctx, 'application.read');
      const rows = await listApplications(deps.db, {
        submitter: query.mine === 'true' ? (({ type, id }) => ({ type, id }))(actorRef(actor)) : undefined,
        departments: departments ?? undefined,
        status: query.status,
        limit: query.limit,
        before: query.before,
      });
      return {
        items: rows.map((a) => ({
          id: a.id,
          typeCode: a.typeCode,
          department: a.department,
          status: a.status,
          holderName: a.holderName,
          externalRef: a.externalRef,
          certificateNumber: a.certificateNumber,
          createdAt: a.createdAt,
          updatedAt: a.updatedAt,
        })),
        nextBefore: rows.length === query.limit ? rows[rows.length - 1]!.createdAt : null,
      };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/applications/:id',
      operationId: 'getApplication',
      scopes: ['applications:read'],
      responses: { 200: { description: 'The application', schema: Application } },
      summary:
        'An application with its workflow state: step, who must act, history. ID numbers masked; ' +
        '?reveal=true&reason=… shows them in full to readers of the department, audited',
      tag: 'issuance',
      params: z.object({ id: z.uuid() }),
      query: z.object({
        reveal: z.enum(['true', 'false']).default('false'),
        reason: z.string().trim().min(1).max(200).optional(),
      }),
    },
    async (ctx, { params, query }) => {
      const app = await loadVisible(ctx, params.id);
      return query.reveal === 'true' ? revealed(ctx, app, query.reason) : view(app, ctx.state.actor);
    },
  );

  api.route(
    {
      method: 'post',
      path: '/applications/:id/amend',
      operationId: 'amendApplication',
      scopes: [],
      summary: 'Correct a returned application (filler); the chain starts again',
      tag: 'issuance',
      params: z.object({ id: z.uuid() }),
      body: z.object({ faceData: z.record(z.string(), z.unknown()) }),
      responses: { 200: { description: 'The application, back in review', schema: Application } },
      errors: [409],
    },
    async (ctx, { params, body }) => {
      const app = await loadVisible(ctx, params.id);
      await amendApplication(deps, app, body.faceData, ctx.state.actor);
      return view((await getApplication(deps.db, app.id))!, ctx.state.actor);
    },
  );

  api.route(
    {
      method: 'post',
      path: '/applications/:id/withdraw',
      operationId: 'withdrawApplication',
      scopes: [],
      summary: 'Withdraw an application that is not sealed yet (filler)',
      tag: 'issuance',
      params: z.object({ id: z.uuid() }),
      body: z.object({ reason: z.string().trim().max(500).optional() }),
      responses: { 200: { description: 'The application, withdrawn', schema: Application } },
      errors: [409],
    },
    async (ctx, { params, body }) => {
      const app = await loadVisible(ctx, params.id);
      await withdrawApplication(deps, app, ctx.state.actor, body.reason, (entry) => recordAudit(ctx, entry));
      return view((await getApplication(deps.db, app.id))!, ctx.state.actor);
    },
  );
}
