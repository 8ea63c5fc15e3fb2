import Koa from 'koa';
import { bodyParser } from '@koa/bodyparser';
import type { Client } from '@temporalio/client';
import type { Config } from '../platform/config';
import type { Db } from '../db/knex';
import type { Cache } from '../platform/cache';
import type { Logger } from '../platform/logger';
import { requestContext } from './request-context';
import { problemMiddleware } from './problem';
import { ApiRouter, openApiDocument } from './routing';
import { healthRoutes } from './routes/health';
import { pingRoutes } from './routes/pings';

export interface AppDeps {
  config: Config;
  db: Db;
  cache: Cache;
  temporal: Client;
  logger: Logger;
}

/** Builds the Koa app without listening, so tests drive it in-process. */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  app.proxy = deps.config.env === 'production';

  const v1 = new ApiRouter('/api/v1');
  pingRoutes(v1, deps);

  const openapi = openApiDocument([v1], { title: 'certflow API', version: '1' });
  const health = healthRoutes(deps);
  health.get('/openapi.json', (ctx) => {
    ctx.body = openapi;
  });

  app.use(requestContext(deps.logger));
  app.use(problemMiddleware());
  app.use(bodyParser({ enableTypes: ['json'], jsonLimit: '2mb', encoding: 'utf-8' }));
  app.use(health.routes());
  app.use(v1.router.routes());
  app.use(v1.router.allowedMethods({ throw: true }));
  return app;
}
