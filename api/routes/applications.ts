import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Context } from 'koa';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { AppDeps } from '../app';
import type { ApiRouter } from '../routing';
import { conflict, forbidden, HttpProblem, notFound, unprocessable, type FieldError } from '../problem';
import { deny, requirePermission } from '../auth';
import { recordAudit } from '../audit';
import { departmentsFor, type Actor } from '../../domain/access';
import { validateFaceData } from '../../domain/face-fields';
import { validateCreditCode, validateResidentId } from '../../domain/check-digits';
import { maskHolderId } from '../../domain/holder';
import { actorRef, chainForMode, FINAL_STATUSES, ISSUANCE_MODES, APPLICATION_STATUSES, type ApplicationState } from '../../domain/issuance';
import { getType, getTypeVersion } from '../../db/certificate-types';
import { addRevision, eventsOf, faceDataOf, findByDedupeKey, getApplication, insertApplication, listApplications, type ApplicationRow } from '../../db/applications';
import { createHolderCrypto } from '../../platform/holder-crypto';
import { issuanceRunText } from '../../domain/operations';
import { amendUpdate, applicationStateQuery, issuanceWorkflow, withdrawUpdate, type IssuanceInput } from '../../workflows/issuance';

const holderSchema = z.object({
  kind: z.enum(['person', 'entity']),
  id: z.string().trim().min(1).max(32),
  name: z.string().trim().min(1).max(200),
});

/** Maps a workflow Update refusal (validator) or failure to the HTTP answer. */
export function updateProblem(err: unknown): HttpProblem | undefined {
  if (err instanceof WorkflowNotFoundError) return conflict('The application\'s workflow has finished; nothing more can be decided');
  if (!(err instanceof WorkflowUpdateFailedError)) return undefined;
  const cause = err.cause as { type?: string; message?: string } | undefined;
  const message = cause?.message ?? err.message;
  if (cause?.type === 'forbidden') return forbidden(message);
  if (cause?.type === 'invalid') return unprocessable(message, [{ field: 'comment', message }]);
  return conflict(message);
}

/** Issuance (proposal §2.4, §2.8): submit, follow, amend and withdraw applications. */
export function applicationRoutes(api: ApiRouter, deps: AppDeps) {
  const holders = createHolderCrypto(deps.masterKey);

  /** Starts the workflow; a second start of the same application is a no-op. */
  async function ensureStarted(app: ApplicationRow, input: IssuanceInput, typeName?: string) {
    try {
      await deps.temporal.workflow.start(issuanceWorkflow, {
        taskQueue: deps.config.temporal.taskQueue,
        workflowId: app.workflowId,
        args: [input],
        // What the Web UI shows for the run: type, department, mode, ids; no personal data.
        ...issuanceRunText({ ...input, typeName }),
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }

  /**
   * The workflow's own view. A query needs a live worker; when none answers within a few
   * seconds (workers down, a crashed sticky worker) the database's view is shown instead.
   */
  async function stateOf(app: ApplicationRow): Promise<ApplicationState | null> {
    try {
      return await deps.temporal.connection.withDeadline(Date.now() + 3000, () => deps.temporal.workflow.getHandle(app.workflowId).query(applicationStateQuery));
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return null;
      deps.logger.warn({ err: (err as Error).message, workflowId: app.workflowId }, 'workflow query failed; answering from the database');
      return null;
    }
  }

  /** The submitter, staff of the department, or an API client of the department with read scope. */
  async function loadVisible(ctx: Context, id: string): Promise<ApplicationRow> {
    const app = await getApplication(deps.db, id);
    if (!app) throw notFound(`No application ${id}`);
    const me = actorRef(ctx.state.actor);
    const isSubmitter = me.type === app.submitter.type && me.id === app.submitter.id;
    if (!isSubmitter) requirePermission(ctx, 'application.read', { department: app.department });
    return app;
  }

  async function view(app: ApplicationRow, actor: Actor) {
    const [state, faceData, events] = await Promise.all([stateOf(app), faceDataOf(deps.db, app.id, app.revision), eventsOf(deps.db, app.id)]);
    return {
      id: app.id,
      workflowId: app.workflowId,
      typeCode: app.typeCode,
      typeVersion: app.typeVersion,
      department: app.department,
      mode: app.mode,
      status: state?.status ?? app.status,
      holder: { kind: app.holderKind, name: app.holderName, id: actor.kind === 'anonymous' ? null : maskHolderId(holders.decrypt(app.holderIdEncrypted)) },
      faceData,
      revision: app.revision,
      externalRef: app.externalRef,
      certificateNumber: state?.certificateNumber ?? app.certificateNumber,
      // Why a failed sealing stopped, and the fix (docs/runbook.md); from the events when no worker answers.
      error: state ? state.error : app.status === 'failed' ? (events.filter((e) => e.kind === 'failed').at(-1)?.comment ?? null)
        : null,
      currentStep: state?.currentStep ?? null,
      round: state?.round ?? null,
      history: state?.history ?? events,
      submitter: app.submitter,
      createdAt: app.createdAt,
      updatedAt: app.updatedAt,
    };
  }

  api.route(
    {
      method: 'post',
      path: '/applications',
      summary: 'Submit face data for a certificate type; starts the issuance workflow',
      tag: 'issuance',
      body: z.object({
        typeCode: z.string().trim().toUpperCase(),
        holder: holderSchema,
        faceData: z.record(z.string(), z.unknown()),
        externalRef: z.string().trim().min(1).max(128).optional(),
        callbackUrl: z.url({ protocol: /^https?$/ }).max(500).optional(),
        mode: z.enum(ISSUANCE_MODES).default('review'),
      }),
      responses: { 201: 'Accepted; the workflow runs', 200: 'The same request again: the application it made' },
    },
    async (ctx, { body }) => {
      const actor = ctx.state.actor;
      const type = await getType(deps.db, body.typeCode);
      if (!type) throw unprocessable('Unknown certificate type', [{ field: 'typeCode', message: `no certificate type ${body.typeCode}` }]);
      ctx.state.auditObject = { type: 'certificate-type', id: type.code };
      requirePermission(ctx, 'application.create', { department: type.department });
      if (body.mode === 'auto-seal' && actor.kind !== 'api-client') deny(ctx, 'application.create', 'auto-seal is for approval systems that approved the case themselves');

      // A retried request (same Idempotency-Key, or the same external reference) returns what the first one made.
      const me = actorRef(actor);
      const idempotencyKey = ctx.get('idempotency-key').trim();
      if (idempotencyKey.length > 100) throw unprocessable('Idempotency-Key is too long', [{ field: 'Idempotency-Key', message: 'at most 100 characters' }]);
      const dedupeKey = idempotencyKey ? `${me.type}:${me.id}:key:${idempotencyKey}` : body.externalRef ? `${me.type}:${me.id}:ref:${body.externalRef}` : null;
      const earlier = dedupeKey ? await findByDedupeKey(deps.db, dedupeKey) : undefined;
      if (earlier) return replay(ctx, earlier);

      if (type.status !== 'published' || type.publishedVersion === null) {
        throw unprocessable(`Certificate type ${type.code} is ${type.status}; applications need a published type`, [{ field: 'typeCode', message: type.status }]);
      }
      const version = (await getTypeVersion(deps.db, type.code, type.publishedVersion))!;
      const errors: FieldError[] = [];
      if (body.holder.kind !== version.holderKind) errors.push({ field: 'holder.kind', message: `${type.code} is issued to a ${version.holderKind}` });
      const holderCheck = body.holder.kind === 'person' ? validateResidentId(body.holder.id) : validateCreditCode(body.holder.id);
      if (!holderCheck.ok) errors.push({ field: 'holder.id', message: `${body.holder.kind === 'person' ? 'resident ID number' : 'unified social credit code'} ${holderCheck.reason}` });
      const face = validateFaceData(version.faceFields, body.faceData);
      if (!face.ok) errors.push(...face.errors.map((e) => ({ field: e.field ? `faceData.${e.field}` : 'faceData', message: e.message })));
      if (errors.length) throw unprocessable('The application has invalid fields', errors);
      const holderId = body.holder.id.toUpperCase();

      const id = randomUUID();
      const app: Parameters<typeof insertApplication>[1] = {
        id,
        typeCode: type.code,
        typeVersion: version.version,
        department: type.department,
        mode: body.mode,
        holderKind: body.holder.kind,
        holderName: body.holder.name,
        holderIdHash: holders.lookupHash(holderId),
        holderIdEncrypted: holders.encrypt(holderId),
        submitter: { type: me.type, id: me.id, name: me.name },
        externalRef: body.externalRef ?? null,
        callbackUrl: body.callbackUrl ?? null,
        workflowId: `issuance-${id}`,
        dedupeKey,
        faceData: face.ok ? face.data : {},
      };
      try {
        await insertApplication(deps.db, app);
      } catch (err) {
        // Two identical requests at once: the loser answers with the winner's application.
        const winner = dedupeKey ? await findByDedupeKey(deps.db, dedupeKey) : undefined;
        if (winner) return replay(ctx, winner);
        throw err;
      }
      const row = (await getApplication(deps.db, id))!;
      await ensureStarted(row, workflowInput(row, version.approvalChain), version.name);
      ctx.state.auditObject = { type: 'application', id };
      await recordAudit(ctx, { category: 'operation', action: 'application.submit', outcome: 'success', department: type.department, object: { type: 'application', id }, detail: { typeCode: type.code, mode: body.mode, externalRef: body.externalRef } });
      ctx.status = 201;
      ctx.set('Location', `${api.prefix}/applications/${id}`);
      return created(row);
    },
  );

  function workflowInput(app: ApplicationRow, typeChain: Parameters<typeof chainForMode>[1]): IssuanceInput {
    return {
      applicationId: app.id,
      typeCode: app.typeCode,
      typeVersion: app.typeVersion,
      department: app.department,
      mode: app.mode,
      chain: chainForMode(app.mode, typeChain),
      filler: { type: app.submitter.type as 'user' | 'api-client', id: app.submitter.id, name: app.submitter.name ?? app.submitter.id },
      submittedAt: app.createdAt,
    };
  }

  /** The earlier application; its workflow is started again if the first request died before starting it. */
  async function replay(ctx: Context, app: ApplicationRow) {
    const version = await getTypeVersion(deps.db, app.typeCode, app.typeVersion);
    if (version) await ensureStarted(app, workflowInput(app, version.approvalChain), version.name);
    ctx.status = 200;
    ctx.set('Location', `${api.prefix}/applications/${app.id}`);
    return created(app);
  }

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
      summary: 'Applications: mine, or my departments\' (newest first)',
      tag: 'issuance',
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
        items: rows.map((a) => ({ id: a.id, typeCode: a.typeCode, department: a.department, status: a.status, holderName: a.holderName, externalRef: a.externalRef, certificateNumber: a.certificateNumber, createdAt: a.createdAt, updatedAt: a.updatedAt })),
        nextBefore: rows.length === query.limit ? rows[rows.length - 1]!.createdAt : null,
      };
    },
  );

  api.route(
    { method: 'get', path: '/applications/:id', summary: 'An application with its workflow state: step, who must act, history', tag: 'issuance', params: z.object({ id: z.uuid() }) },
    async (ctx, { params }) => view(await loadVisible(ctx, params.id), ctx.state.actor),
  );

  api.route(
    {
      method: 'post',
      path: '/applications/:id/amend',
      summary: 'Correct a returned application (filler); the chain starts again',
      tag: 'issuance',
      params: z.object({ id: z.uuid() }),
      body: z.object({ faceData: z.record(z.string(), z.unknown()) }),
    },
    async (ctx, { params, body }) => {
      const app = await loadVisible(ctx, params.id);
      const version = (await getTypeVersion(deps.db, app.typeCode, app.typeVersion))!;
      const face = validateFaceData(version.faceFields, body.faceData);
      if (!face.ok) throw unprocessable('The amendment has invalid fields', face.errors.map((e) => ({ field: e.field ? `faceData.${e.field}` : 'faceData', message: e.message })));
      if (FINAL_STATUSES.includes(app.status)) throw conflict(`The application is ${app.status}`);
      const revision = await addRevision(deps.db, app.id, face.data, actorRef(ctx.state.actor).name);
      try {
        await deps.temporal.workflow.getHandle(app.workflowId).executeUpdate(amendUpdate, { args: [{ revision, actor: ctx.state.actor }] });
      } catch (err) {
        throw updateProblem(err) ?? err;
      }
      return view((await getApplication(deps.db, app.id))!, ctx.state.actor);
    },
  );

  api.route(
    {
      method: 'post',
      path: '/applications/:id/withdraw',
      summary: 'Withdraw an application that is not sealed yet (filler)',
      tag: 'issuance',
      params: z.object({ id: z.uuid() }),
      body: z.object({ reason: z.string().trim().max(500).optional() }),
    },
    async (ctx, { params, body }) => {
      const app = await loadVisible(ctx, params.id);
      if (FINAL_STATUSES.includes(app.status)) throw conflict(`An application that is ${app.status} cannot be withdrawn`);
      try {
        await deps.temporal.workflow.getHandle(app.workflowId).executeUpdate(withdrawUpdate, { args: [{ actor: ctx.state.actor, reason: body.reason }] });
      } catch (err) {
        throw updateProblem(err) ?? err;
      }
      await recordAudit(ctx, { category: 'operation', action: 'application.withdraw', outcome: 'success', department: app.department, object: { type: 'application', id: app.id }, detail: { reason: body.reason ?? null } });
      return view((await getApplication(deps.db, app.id))!, ctx.state.actor);
    },
  );
}
