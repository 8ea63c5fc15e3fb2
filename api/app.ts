import Koa from 'koa';
import { bodyParser } from '@koa/bodyparser';
import type { Client } from '@temporalio/client';
import type { Config } from '../platform/config';
import type { Db } from '../db/knex';
import type { Cache } from '../platform/cache';
import type { Logger } from '../platform/logger';
import type { BlobStore } from '../platform/blobs';
import type { PdfConverter } from '../services/documents/convert';
import type { TemplateWorkerPool } from '../services/documents/template-pool';
import { requestContext } from './request-context';
import { httpMetrics } from './metrics';
import { clientAddress } from './client-address';
import { problemMiddleware } from './problem';
import { ApiRouter, allowedMethods, openApiDocument, refuseUnknownMethods } from './routing';
import { healthRoutes } from './routes/health';
import { pingRoutes } from './routes/pings';
import { authRoutes } from './routes/auth';
import { departmentRoutes } from './routes/departments';
import { userRoutes } from './routes/users';
import { apiClientRoutes } from './routes/api-clients';
import { auditRoutes } from './routes/audit';
import { certificateTypeRoutes } from './routes/certificate-types';
import { certificateTypeProblemRoutes } from './routes/certificate-type-problems';
import { sealRoutes, trustRoutes } from './routes/seals';
import { sealRevocationRoutes, timeRoutes } from './routes/trust';
import { certificateRoutes } from './routes/certificates';
import { sharingRoutes } from './routes/sharing';
import { accessRequestRoutes } from './routes/access-requests';
import { applicationRoutes } from './routes/applications';
import { taskRoutes } from './routes/tasks';
import { taskActionRoutes } from './routes/task-actions';
import { delegationRoutes } from './routes/delegations';
import { revocationRoutes } from './routes/revocations';
import { suspensionRoutes } from './routes/suspensions';
import { operationRoutes } from './routes/operations';
import { verifyRoutes } from './routes/verify';
import { credentialTrustRoutes } from './routes/credentials';
import { holderRoutes } from './routes/holder';
import { holderRequestRoutes } from './routes/holder-requests';
import { holderAuthRoutes } from './routes/holder-auth';
import { importRoutes } from './routes/imports';
import { importedCertificateRoutes } from './routes/imported-certificates';
import type { Middleware } from 'koa';
import { authenticate } from './auth';
import { auditMiddleware } from './audit';
import { AuditAggregator } from './audit-aggregator';
import { webRoutes } from '../web/serve';
import { docsRoutes } from './docs';

declare module 'koa' {
  interface DefaultContext {
    deps: AppDeps;
  }
}

export interface AppDeps {
  config: Config;
  db: Db;
  cache: Cache;
  temporal: Client;
  logger: Logger;
  blobs: BlobStore;
  masterKey: Buffer;
  /** DOCX → PDF for template previews. */
  converter: PdfConverter;
  /** Template parsing off the event loop; default: the process's shared pool (template-pool.ts). */
  templates?: TemplateWorkerPool;
}

/** Builds the Koa app without listening, so tests drive it in-process. */
/**
 * `beforeAuth`: middleware that answers its own paths before staff authentication runs — the
 * development identity provider `certflow start` mounts under /dev-idp (main/dev-idp.ts), whose
 * token endpoint takes HTTP Basic client credentials the API's authentication would refuse.
 */
export function createApp(deps: AppDeps, options: { beforeAuth?: Middleware[] } = {}): Koa {
  const app = new Koa();
  // Client addresses come from clientAddress(), which believes X-Forwarded-For only from TRUSTED_PROXIES.
  app.proxy = false;

  app.context.deps = deps;
  app.context.auditAggregator = new AuditAggregator(deps.db, deps.masterKey, deps.logger);

  const v1 = new ApiRouter('/api/v1');
  pingRoutes(v1, deps);
  authRoutes(v1, deps);
  departmentRoutes(v1, deps);
  userRoutes(v1, deps);
  apiClientRoutes(v1, deps);
  auditRoutes(v1, deps);
  certificateTypeRoutes(v1, deps);
  certificateTypeProblemRoutes(v1, deps);
  sealRoutes(v1, deps);
  sealRevocationRoutes(v1, deps);
  certificateRoutes(v1, deps);
  sharingRoutes(v1, deps);
  accessRequestRoutes(v1, deps);
  applicationRoutes(v1, deps);
  taskRoutes(v1, deps);
  taskActionRoutes(v1, deps);
  delegationRoutes(v1, deps);
  revocationRoutes(v1, deps);
  suspensionRoutes(v1, deps);
  operationRoutes(v1, deps);
  verifyRoutes(v1, deps);
  holderRoutes(v1, deps);
  credentialTrustRoutes(v1, deps);
  holderRequestRoutes(v1, deps);
  importRoutes(v1, deps);
  importedCertificateRoutes(v1, deps);

  const openapi = openApiDocument([v1], { title: 'certflow API', version: '1.0.0' });
  const health = healthRoutes(deps);
  health.get('/openapi.json', (ctx) => {
    ctx.body = openapi;
  });
  trustRoutes(health, deps);
  docsRoutes(health);
  timeRoutes(health, deps);

  app.use(clientAddress(deps.config.http.trustedProxies));
  app.use(requestContext(deps.logger));
  // Inside the request log and outside the problem mapper: it sees the status the caller gets.
  app.use(httpMetrics());
  app.use(auditMiddleware());
  app.use(problemMiddleware());
  app.use(refuseUnknownMethods([health, v1.router]));
  app.use(bodyParser({ enableTypes: ['json'], jsonLimit: '2mb', encoding: 'utf-8' }));
  app.use(health.routes());
  for (const m of options.beforeAuth ?? []) app.use(m);
  app.use(holderAuthRoutes(deps));
  app.use(webRoutes(deps));
  app.use(authenticate(deps));
  app.use(v1.router.routes());
  app.use(allowedMethods(v1));
  return app;
}
