import type { Context, Next } from 'koa';
import { httpDuration, httpRequests } from '../platform/metrics';

/** Anything else (the API answers it 501) is counted as OTHER, so a caller cannot mint series. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * Counts and times every request under the router's path template (`/api/v1/applications/:id`),
 * never the raw URL: one series per route, however many ids are asked for. Requests no route
 * matched are `(unmatched)` under /api/ and `(web)` elsewhere (the pages and their assets).
 */
export function httpMetrics() {
  return async (ctx: Context, next: Next) => {
    const end = httpDuration.startTimer();
    let status = 500;
    try {
      await next();
      status = ctx.status;
    } finally {
      const matched = (ctx as { _matchedRoute?: string | RegExp })._matchedRoute;
      const route = typeof matched === 'string' ? matched : ctx.path.startsWith('/api/') ? '(unmatched)' : '(web)';
      const labels = { method: METHODS.has(ctx.method) ? ctx.method : 'OTHER', route };
      httpRequests.inc({ ...labels, status: String(status) });
      end(labels);
    }
  };
}
