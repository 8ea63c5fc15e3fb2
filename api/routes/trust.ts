import { z } from 'zod';
import type Router from '@koa/router';
import type { AppDeps } from '../app';
import type { ApiRouter } from '../routing';
import { forbidden, HttpProblem, unprocessable } from '../problem';
import { readRawBody } from '../raw-body';
import { describeActor, isPlatformAdmin } from '../../domain/access';
import { revokeSeal } from '../../services/trust/revocation';
import { answerTimestampRequest, currentCrl, tsaChainPem } from '../../services/trust/timestamping';
import { SealRevocation } from '../schemas/configuration';

/**
 * Time-stamping and revocation for relying parties (docs/trust.md): the RFC 3161 TSA, its
 * certificate chain, the root's CRL (PEM and DER), and the platform admin's seal revocation.
 */

const timeDeps = (deps: AppDeps) => ({
  db: deps.db,
  masterKey: deps.masterKey,
  logger: deps.logger,
  config: deps.config,
});

export function timeRoutes(router: Router, deps: AppDeps) {
  // RFC 3161 §3.4: TimeStampReq in, TimeStampResp out, over plain HTTP.
  router.post('/api/v1/tsa', async (ctx) => {
    if (!ctx.is('application/timestamp-query')) {
      throw new HttpProblem(
        415,
        'Unsupported Media Type',
        'Send a DER TimeStampReq with Content-Type application/timestamp-query',
      );
    }
    const reply = await answerTimestampRequest(timeDeps(deps), await readRawBody(ctx, 64 * 1024));
    ctx.type = 'application/timestamp-reply';
    ctx.body = reply;
  });
  router.get('/api/v1/trust/tsa.pem', async (ctx) => {
    ctx.type = 'application/x-pem-file';
    ctx.body = await tsaChainPem(timeDeps(deps));
  });
  router.get('/api/v1/trust/crl.pem', async (ctx) => {
    ctx.type = 'application/x-pem-file';
    ctx.body = (await currentCrl(deps)).pem;
  });
  router.get('/api/v1/trust/crl.crl', async (ctx) => {
    ctx.type = 'application/pkix-crl';
    ctx.body = (await currentCrl(deps)).der;
  });
}

export function sealRevocationRoutes(api: ApiRouter, deps: AppDeps) {
  api.route(
    {
      method: 'post',
      path: '/seals/:id/revocation',
      operationId: 'revokeSeal',
      description: 'Key compromise (with the time it began) or superseded; the root CRL lists it (docs/trust.md).',
      summary:
        'Revoke a seal certificate (platform admin): key compromise since a time, or superseded; the CRL lists it',
      tag: 'seals',
      auth: 'staff',
      params: z.object({ id: z.coerce.number().int().positive() }),
      body: z.object({
        reason: z.enum(['keyCompromise', 'superseded']),
        compromisedSince: z.iso.datetime({ offset: true }).optional(),
        comment: z.string().trim().max(500).optional(),
      }),
      responses: {
        201: { description: 'Revoked', schema: SealRevocation },
        404: 'No such seal',
        409: 'Already revoked',
      },
      audit: { category: 'configuration', action: 'seal.revoke' },
    },
    async (ctx, { params, body }) => {
      ctx.state.auditObject = { type: 'seal', id: String(params.id) };
      if (!isPlatformAdmin(ctx.state.actor)) throw forbidden('Only a platform admin revokes seal certificates');
      if (body.reason === 'superseded' && body.compromisedSince) {
        throw unprocessable('compromisedSince is for key compromise only', [
          { field: 'compromisedSince', message: 'only with reason keyCompromise' },
        ]);
      }
      const revocation = await revokeSeal(deps.db, {
        sealId: params.id,
        reason: body.reason,
        compromisedSince: body.compromisedSince ? new Date(body.compromisedSince) : undefined,
        comment: body.comment,
        revokedBy: describeActor(ctx.state.actor).name ?? 'unknown',
      });
      ctx.status = 201;
      return revocation;
    },
  );
}
