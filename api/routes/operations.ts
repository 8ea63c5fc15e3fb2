import { z } from 'zod';
import type { Context } from 'koa';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { AppDeps } from '../app';
import type { ApiRouter } from '../routing';
import { conflict, notFound, problemOf } from '../problem';
import { requirePermission } from '../auth';
import { actorRef } from '../../domain/issuance';
import { resendCallbackRunText } from '../../domain/operations';
import { getApplication, type ApplicationRow } from '../../db/applications';
import { cancelUpdate, retryUpdate } from '../../workflows/issuance';
import { resendCallbackWorkflow } from '../../workflows/operations';
import { RepairOutcome, ResendOutcome } from '../schemas/work';

/**
 * The operators' repairs (docs/runbook.md) for the platform admin, who may not have Temporal
 * access: each is the same workflow Update or run an operator sends with the `temporal` CLI,
 * so the workflow validates and audits it whichever way it comes.
 */
export function operationRoutes(api: ApiRouter, deps: AppDeps) {
  const params = z.object({ id: z.uuid() });
  const body = z.object({ reason: z.string().trim().min(2).max(500) });

  async function load(ctx: Context, id: string): Promise<ApplicationRow> {
    const app = await getApplication(deps.db, id);
    if (!app) throw notFound(`No application ${id}`);
    ctx.state.auditObject = { type: 'application', id };
    requirePermission(ctx, 'application.repair', { department: app.department });
    return app;
  }

  for (const [action, update, summary, operationId] of [
    [
      'retry',
      retryUpdate,
      'Retry a failed sealing after its cause was fixed (platform admin; the `retry` Update)',
      'retryApplication',
    ],
    [
      'cancel',
      cancelUpdate,
      'Cancel a stuck application (in review, returned, failed) with a reason (platform admin)',
      'cancelApplication',
    ],
  ] as const) {
    api.route(
      {
        method: 'post',
        path: `/applications/:id/${action}`,
        operationId,
        description:
          'An operator repair (docs/runbook.md): the same workflow Update the `temporal` CLI sends; audited.',
        summary,
        tag: 'operations',
        auth: 'staff',
        params,
        body,
        responses: {
          200: { description: 'Done: the application as the workflow sees it now', schema: RepairOutcome },
          409: 'Not possible in its state',
        },
      },
      async (ctx, { params: p, body: b }) => {
        const app = await load(ctx, p.id);
        try {
          const state = await deps.temporal.workflow
            .getHandle(app.workflowId)
            .executeUpdate(update, { args: [{ reason: b.reason, operator: actorRef(ctx.state.actor) }] });
          return { id: app.id, status: state.status, certificateNumber: state.certificateNumber, error: state.error };
        } catch (err) {
          // problemOf (api/problem.ts) maps a refused Update: 409, or 422 naming the validator's field.
          throw problemOf(err) ?? err;
        }
      },
    );
  }

  api.route(
    {
      method: 'post',
      path: '/applications/:id/resend-callback',
      operationId: 'resendApplicationCallback',
      description: 'Runs `resendCallbackWorkflow` (docs/runbook.md); a delivered callback is not sent twice.',
      summary: 'Send the certificate.issued callback again, if no attempt was delivered yet (platform admin)',
      tag: 'operations',
      auth: 'staff',
      params,
      body,
      responses: {
        200: { description: 'The outcome of the re-send', schema: ResendOutcome },
        409: 'Not issued, or a re-send is running',
      },
    },
    async (ctx, { params: p, body: b }) => {
      const app = await load(ctx, p.id);
      if (app.status !== 'issued') {
        throw conflict(`Only an issued application has a callback to re-send; it is ${app.status}`);
      }
      try {
        const outcome = await deps.temporal.workflow.execute(resendCallbackWorkflow, {
          taskQueue: deps.config.temporal.taskQueue,
          workflowId: `resend-callback-${app.id}`,
          args: [
            {
              applicationId: app.id,
              department: app.department,
              reason: b.reason,
              operator: actorRef(ctx.state.actor),
            },
          ],
          ...resendCallbackRunText({ applicationId: app.id, typeCode: app.typeCode, department: app.department }),
        });
        return { id: app.id, ...outcome };
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) {
          throw conflict('A re-send of this callback is already running');
        }
        throw err;
      }
    },
  );
}
