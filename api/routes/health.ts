import type { Context } from 'koa';
import Router from '@koa/router';
import type { Client } from '@temporalio/client';
import type { AppDeps } from '../app';
import { pingDb } from '../../db/knex';
import { HttpProblem, sendProblem } from '../problem';

type Check = { ok: true; ms: number } | { ok: false; ms: number; error: string };

async function check(fn: () => Promise<void>, timeoutMs = 2000): Promise<Check> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true, ms: Date.now() - started };
  } catch (err) {
    return { ok: false, ms: Date.now() - started, error: (err as Error).message || String(err) };
  } finally {
    clearTimeout(timer);
  }
}

/** Outside /api/v1: load balancers and orchestrators probe these. */
export function healthRoutes(deps: AppDeps): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'up' };
  });
  router.get('/readyz', async (ctx: Context) => {
    const [database, cache, temporal] = await Promise.all([
      check(() => pingDb(deps.db)),
      check(() => deps.cache.ping()),
      check(() => pingTemporal(deps.temporal)),
    ]);
    const checks = { database, cache: { ...cache, kind: deps.cache.kind }, temporal };
    const down = Object.entries(checks)
      .filter(([, c]) => !c.ok)
      .map(([name]) => name);
    if (down.length) {
      sendProblem(
        ctx,
        new HttpProblem(503, 'Service Unavailable', `Not ready: ${down.join(', ')} unreachable`, undefined, { checks }),
      );
      return;
    }
    ctx.body = { status: 'ready', checks };
  });
  return router;
}

/** A deadline, not just a timeout around the call: the SDK would otherwise keep retrying in the background. */
export async function pingTemporal(client: Client, timeoutMs = 1500): Promise<void> {
  await client.connection.withDeadline(Date.now() + timeoutMs, () =>
    client.connection.workflowService.getSystemInfo({}),
  );
}
