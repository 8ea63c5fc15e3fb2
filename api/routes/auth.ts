import { z } from 'zod';
import type { Context } from 'koa';
import type { AppDeps } from '../app';
import type { ApiRouter } from '../routing';
import { HttpProblem, unauthorized } from '../problem';
import { recordAudit } from '../audit';
import { userActor } from '../auth';
import { createSession, findUserForLogin, revokeSession } from '../../db/org';
import { dummyPasswordHash, newToken, sha256Hex, verifyPassword } from '../../platform/secrets';
import { createMemoryCache, type Cache } from '../../platform/cache';
import { ROLE_LABELS } from '../../domain/access';

/**
 * Sign-in for staff. Failed attempts are counted per username and per address (in Redis
 * when configured, so every API process sees them); past the limit the account is locked
 * for a while. If Redis is down the counters fall back to this process, never to "no limit".
 */
export function authRoutes(api: ApiRouter, deps: AppDeps) {
  const fallback = createMemoryCache(10_000);
  const { maxFailures, lockoutMinutes, sessionTtlHours } = deps.config.auth;
  const window = lockoutMinutes * 60;
  const perAddressLimit = maxFailures * 10;

  async function counters<T>(fn: (c: Cache) => Promise<T>): Promise<T> {
    try {
      return await fn(deps.cache);
    } catch (err) {
      deps.logger.warn({ err: (err as Error).message }, 'login throttle: cache unavailable, counting in-process');
      return fn(fallback);
    }
  }

  api.route(
    {
      method: 'post',
      path: '/auth/login',
      summary: 'Sign in with username and password; returns a bearer token',
      tag: 'auth',
      auth: 'public',
      body: z.object({ username: z.string().trim().min(1).max(64), password: z.string().min(1).max(200) }),
      responses: { 200: 'Signed in', 429: 'Too many failed attempts' },
    },
    async (ctx: Context, { body }) => {
      const username = body.username.toLowerCase();
      const userKey = `login-fail:user:${username}`;
      const ipKey = `login-fail:ip:${ctx.ip}`;
      const attempted = { type: 'anonymous', id: null, name: username };
      const [userFails, ipFails] = await counters((c) => Promise.all([c.peek(userKey), c.peek(ipKey)]));
      if (userFails >= maxFailures || ipFails >= perAddressLimit) {
        await recordAudit(ctx, { category: 'login', action: 'login', outcome: 'denied', actor: attempted, detail: { reason: 'too many failed attempts' } });
        ctx.set('Retry-After', String(window));
        throw new HttpProblem(429, 'Too Many Requests', `Too many failed sign-ins; try again in ${lockoutMinutes} minutes`);
      }
      const user = await findUserForLogin(deps.db, username);
      // Hash even for unknown users, so response time does not tell which usernames exist.
      const passwordOk = await verifyPassword(body.password, user?.passwordHash ?? (await dummyPasswordHash()));
      if (!user || !passwordOk || !user.active) {
        await counters((c) => Promise.all([c.incr(userKey, window), c.incr(ipKey, window)]));
        await recordAudit(ctx, {
          category: 'login',
          action: 'login',
          outcome: 'failure',
          actor: user ? { type: 'user', id: String(user.id), name: user.username } : attempted,
          detail: { reason: !user ? 'unknown user' : !passwordOk ? 'wrong password' : 'user deactivated' },
        });
        throw unauthorized('Wrong username or password');
      }
      await counters((c) => c.del(userKey));
      const token = newToken();
      const expiresAt = new Date(Date.now() + sessionTtlHours * 3600_000);
      await createSession(deps.db, { tokenHash: sha256Hex(token), userId: user.id, expiresAt });
      ctx.state.actor = userActor(user);
      await recordAudit(ctx, { category: 'login', action: 'login', outcome: 'success' });
      return { token, expiresAt: expiresAt.toISOString(), user: me(user) };
    },
  );

  api.route(
    { method: 'post', path: '/auth/logout', summary: 'End this session', tag: 'auth', auth: 'staff', responses: { 204: 'Signed out' } },
    async (ctx) => {
      await revokeSession(deps.db, ctx.state.sessionTokenHash!);
      await recordAudit(ctx, { category: 'logout', action: 'logout', outcome: 'success' });
      ctx.status = 204;
    },
  );

  api.route(
    { method: 'get', path: '/auth/me', summary: 'Who is signed in, with roles per department', tag: 'auth' },
    async (ctx) => {
      const actor = ctx.state.actor;
      if (actor.kind === 'api-client') return { kind: 'api-client', id: actor.id, name: actor.name, department: actor.department, scopes: actor.scopes };
      if (actor.kind !== 'user') throw unauthorized();
      return me({ id: actor.id, username: actor.username, displayName: actor.displayName, roles: actor.roles });
    },
  );
}

function me(u: { id: number; username: string; displayName: string; roles: { role: keyof typeof ROLE_LABELS; department: string | null }[] }) {
  return {
    kind: 'user' as const,
    id: u.id,
    username: u.username,
    displayName: u.displayName,
    roles: u.roles.map((r) => ({ role: r.role, department: r.department, label: ROLE_LABELS[r.role] })),
  };
}
