import { z } from 'zod';
import type { Context } from 'koa';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import type { AppDeps } from '../app';
import type { ApiRouter } from '../routing';
import { numberParam } from './certificates';
import { conflict, notFound, unprocessable } from '../problem';
import { requirePermission } from '../auth';
import { actorRef } from '../../domain/issuance';
import { chinaDate } from '../../domain/calendar';
import { suspensionEndsAt } from '../../domain/certificate-change';
import { getCertificate } from '../../db/certificates';
import { reinstateUpdate, suspendedUpdate, suspensionWorkflow, type Suspended } from '../../workflows/suspension';

/**
 * Suspension (暂停) and reinstatement (恢复) by the issuing department's admin, through
 * `suspensionWorkflow` (docs/lifecycle.md): one run per suspension, `suspension-<number>`, whose
 * durable timer reinstates at the end date.
 */

const Suspension = z
  .looseObject({
    number: z.string(),
    status: z.literal('suspended'),
    reason: z.string(),
    suspendedAt: z.string().describe('ISO 8601'),
    until: z.string().nullable().describe('The last day of the suspension (YYYY-MM-DD); null: until reinstated'),
    reinstateAt: z.string().nullable().describe('When the timer reinstates it (ISO 8601); null: no timer'),
  })
  .meta({ id: 'CertificateSuspension' });

const Reinstatement = z
  .looseObject({
    number: z.string(),
    status: z.string().describe('`valid` again, or the status it was left in (e.g. revoked meanwhile)'),
    reinstatedAt: z.string().describe('ISO 8601'),
  })
  .meta({ id: 'CertificateReinstatement' });

const reason = z.string().trim().min(2).max(500);

export function suspensionRoutes(api: ApiRouter, deps: AppDeps) {
  const workflowId = (number: string) => `suspension-${number}`;

  async function issuedHere(ctx: Context, number: string) {
    const cert = await getCertificate(deps.db, number);
    if (!cert) throw notFound(`No certificate ${number}`);
    ctx.state.auditObject = { type: 'certificate', id: cert.number };
    requirePermission(ctx, 'certificate.revoke', { department: cert.department });
    return cert;
  }

  api.route(
    {
      method: 'post',
      path: '/certificates/:number/suspend',
      operationId: 'suspendCertificate',
      summary:
        'Suspend a valid certificate (暂停) with a reason and an optional last day; it fails verification at once',
      tag: 'certificates',
      auth: 'staff',
      params: numberParam,
      body: z.object({
        reason,
        until: z.iso
          .date()
          .optional()
          .describe('The last day of the suspension (YYYY-MM-DD, China); a timer reinstates it the day after'),
      }),
      responses: { 200: { description: 'Suspended', schema: Suspension } },
      errors: [409, 422],
    },
    async (ctx, { params, body }) => {
      const cert = await issuedHere(ctx, params.number);
      if (cert.status !== 'valid') throw conflict(`Certificate ${cert.number} is ${cert.status}, not valid`);
      const until = body.until ?? null;
      if (until && until < chinaDate(Date.now()))
        throw unprocessable('The last day of a suspension cannot be in the past', [
          { field: 'until', message: `before today (${chinaDate(Date.now())})` },
        ]);
      const reinstateAt = until ? suspensionEndsAt(until) : null;
      let handle;
      try {
        handle = await deps.temporal.workflow.start(suspensionWorkflow, {
          taskQueue: deps.config.temporal.taskQueue,
          workflowId: workflowId(cert.number),
          args: [{ number: cert.number, reason: body.reason, until, reinstateAt, actor: actorRef(ctx.state.actor) }],
          staticSummary: `suspend ${cert.number} · ${cert.typeCode} · ${cert.department}`,
        });
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError)
          throw conflict(`Certificate ${cert.number} is already suspended`);
        throw err;
      }
      let result: Suspended;
      try {
        result = await handle.executeUpdate(suspendedUpdate);
      } catch (err) {
        // The run ended before the Update arrived (nothing to suspend): its result says why.
        if (!(err instanceof WorkflowUpdateFailedError) && !(err instanceof WorkflowNotFoundError)) throw err;
        result = (await handle.result()).suspended ?? null;
      }
      if (!result) throw notFound(`No certificate ${cert.number}`);
      if (!result.changed) throw conflict(`Certificate ${cert.number} is ${result.previous}, not valid`);
      return {
        number: cert.number,
        status: 'suspended' as const,
        reason: body.reason,
        suspendedAt: result.suspendedAt,
        until,
        reinstateAt,
      };
    },
  );

  api.route(
    {
      method: 'post',
      path: '/certificates/:number/reinstate',
      operationId: 'reinstateCertificate',
      summary: 'Reinstate a suspended certificate (恢复) before its end date, with a reason',
      tag: 'certificates',
      auth: 'staff',
      params: numberParam,
      body: z.object({ reason }),
      responses: { 200: { description: 'Reinstated', schema: Reinstatement } },
      errors: [409, 422],
    },
    async (ctx, { params, body }) => {
      const cert = await issuedHere(ctx, params.number);
      if (cert.status !== 'suspended') throw conflict(`Certificate ${cert.number} is ${cert.status}, not suspended`);
      const handle = deps.temporal.workflow.getHandle(workflowId(cert.number));
      let result;
      try {
        result = await handle.executeUpdate(reinstateUpdate, {
          args: [{ reason: body.reason, actor: actorRef(ctx.state.actor) }],
        });
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw conflict(`No suspension of ${cert.number} is running`);
        throw err;
      }
      if (!result) throw notFound(`No certificate ${cert.number}`);
      return { number: cert.number, status: result.status, reinstatedAt: result.reinstatedAt };
    },
  );
}
