import { z } from 'zod';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { AppDeps } from '../app';
import type { ApiRouter } from '../routing';
import { numberParam } from './certificates';
import { conflict, notFound } from '../problem';
import { requirePermission } from '../auth';
import { actorRef } from '../../domain/issuance';
import { getCertificate } from '../../db/certificates';
import { revocationWorkflow } from '../../workflows/lifecycle';
import { reinstateUpdate } from '../../workflows/suspension';
import { revocationRunText } from '../../domain/operations';
import { CertificateStatusChange } from '../schemas/work';

/** Revocation and cancellation (作废 / 注销) by the issuing department's admin, through a workflow. */
export function revocationRoutes(api: ApiRouter, deps: AppDeps) {
  api.route(
    {
      method: 'post',
      path: '/certificates/:number/revoke',
      operationId: 'revokeCertificate',
      summary:
        'End a certificate: revoked (吊销/作废), cancelled (注销) or withdrawn (撤销), with a reason; it fails verification at once',
      tag: 'certificates',
      auth: 'staff',
      params: numberParam,
      body: z.object({
        reason: z.string().trim().min(2).max(500),
        status: z.enum(['revoked', 'cancelled', 'withdrawn']).default('revoked'),
      }),
      responses: { 200: { description: 'Ended', schema: CertificateStatusChange }, 409: 'Already ended or expired' },
    },
    async (ctx, { params, body }) => {
      const cert = await getCertificate(deps.db, params.number);
      if (!cert) throw notFound(`No certificate ${params.number}`);
      ctx.state.auditObject = { type: 'certificate', id: cert.number };
      requirePermission(ctx, 'certificate.revoke', { department: cert.department });
      if (cert.status !== 'valid' && cert.status !== 'suspended')
        throw conflict(`Certificate ${cert.number} is already ${cert.status}`);
      const workflowId = `revocation-${cert.number}`;
      let result;
      try {
        result = await deps.temporal.workflow.execute(revocationWorkflow, {
          taskQueue: deps.config.temporal.taskQueue,
          workflowId,
          args: [{ number: cert.number, status: body.status, reason: body.reason, actor: actorRef(ctx.state.actor) }],
          ...revocationRunText({
            number: cert.number,
            status: body.status,
            typeCode: cert.typeCode,
            typeName: cert.typeName,
            department: cert.department,
          }),
        });
      } catch (err) {
        // One revocation per certificate: a second request sees the first one's outcome.
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        result = await deps.temporal.workflow.getHandle(workflowId).result();
        if (result) result = { ...result, changed: false };
      }
      if (!result) throw notFound(`No certificate ${params.number}`);
      if (!result.changed)
        throw conflict(
          `Certificate ${cert.number} is already ${result.previous === 'valid' ? body.status : result.previous}`,
        );
      // A suspension waiting for its end (or for ever) ends here: its run closes, the status stays ended.
      if (result.previous === 'suspended') {
        await deps.temporal.workflow
          .getHandle(`suspension-${cert.number}`)
          .executeUpdate(reinstateUpdate, {
            args: [{ reason: `ended by ${body.status}: ${body.reason}`, actor: actorRef(ctx.state.actor) }],
          })
          .catch(() => undefined); // no run (already closed): nothing to end
      }
      return { number: cert.number, status: body.status, reason: body.reason, changedAt: result.changedAt };
    },
  );
}
