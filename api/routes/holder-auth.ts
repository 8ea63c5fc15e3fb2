import Router from '@koa/router';
import type { Context } from 'koa';
import type { AppDeps } from '../app';
import { recordAudit } from '../audit';
import { HOLDER_COOKIE } from '../auth';
import { problemOf } from '../problem';
import { beginSignIn, completeSignIn } from '../../services/holder/sign-in';

/**
 * The browser side of holder sign-in (docs/holders.md): /holder/login sends the browser to the
 * identity provider, /holder/callback takes it back. They are navigations, not API calls, so
 * they live beside the pages rather than under /api/v1.
 */
const STATE_COOKIE = 'certflow_holder_state';

/** Only back into the portal: anything else would make the callback an open redirect. */
function safeReturnTo(value: unknown): string | null {
  return typeof value === 'string' && /^\/holder(\/[\w\-/.%]*)?$/.test(value) ? value : null;
}

export function holderAuthRoutes(deps: AppDeps) {
  const router = new Router();
  const secure = deps.config.http.publicUrl.startsWith('https://');
  const cookie = (maxAgeMs: number) => ({
    httpOnly: true,
    sameSite: 'lax' as const,
    secure,
    path: '/',
    maxAge: maxAgeMs,
    overwrite: true,
  });

  router.get('/holder/login', async (ctx: Context) => {
    const { url, state } = await beginSignIn(deps, safeReturnTo(ctx.query.returnTo));
    // The state also rides in a cookie: the redirect back must come to the browser that started it.
    ctx.cookies.set(STATE_COOKIE, state, cookie(600_000));
    ctx.redirect(url);
  });

  router.get('/holder/callback', async (ctx: Context) => {
    const query = new URLSearchParams(ctx.querystring);
    const browserState = ctx.cookies.get(STATE_COOKIE);
    ctx.cookies.set(STATE_COOKIE, null, cookie(0));
    try {
      const done = await completeSignIn(deps, query, browserState);
      ctx.cookies.set(HOLDER_COOKIE, done.token, cookie(deps.config.holder.sessionTtlMinutes * 60_000));
      await recordAudit(ctx, {
        category: 'login',
        action: 'holder.login',
        outcome: 'success',
        actor: {
          type: 'holder',
          id: done.session.tokenHash.slice(0, 16),
          name: done.session.agentName ?? done.session.holderName,
        },
        detail: { holderKind: done.session.holderKind, issuer: done.session.issuer },
      });
      ctx.redirect(done.returnTo ?? '/holder');
    } catch (err) {
      const problem = problemOf(err);
      await recordAudit(ctx, {
        category: 'login',
        action: 'holder.login',
        outcome: 'failure',
        actor: { type: 'anonymous', id: null, name: null },
        detail: { reason: problem?.detail ?? 'internal error' },
      });
      throw err;
    }
  });

  return router.routes();
}
