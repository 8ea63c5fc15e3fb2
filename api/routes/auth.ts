import { z } from 'zod';
import type { Context } from 'koa';
import type { AppDeps } from '../app';
import type { ApiRouter } from '../routing';
import { unauthorized } from '../problem';
import { loginThrottle } from '../login-throttle';
import { recordAudit } from '../audit';
import { userActor } from '../auth';
import { createSession, findUserForLogin, revokeSession } from '../../db/org';
import { dummyPasswordHash, newToken, sha256Hex, verifyPassword } from '../../platform/secrets';
import { ROLE_LABELS } from '../../domain/access';
import { CurrentActor, LoginResult } from '../schemas/organisation';

/** Sign-in for staff, throttled per username and address by api/login-throttle.ts. */
export function authRoutes(api: ApiRouter, deps: AppDeps) {
  const throttle = loginThrottle(deps);
  const { sessionTtlHours } = deps.config.auth;

  api.route(
    {
      method: 'post',
      path: '/auth/login',
      operationId: 'login',
      summary: 'Sign in with username and password; returns a bearer token',
      tag: 'auth',
      auth: 'public',
      body: z.object({ username: z.string().trim().min(1).max(64), password: z.string().min(1).max(200) }),
      responses: {
        200: { description: 'Signed in', schema: LoginResult },
        429: 'Too many failed attempts',
        503: 'Sign-in throttling unavailable',
      },
    },
    async (ctx: Context, { body }) => {
      const username = body.username.toLowerCase();
      const attempt = await throttle.begin(ctx, username);
      const user = await findUserForLogin(deps.db, username);
      // Hash even for unknown users, so response time does not tell which usernames exist.
      const passwordOk = await verifyPassword(body.password, user?.passwordHash ?? (await dummyPasswordHash()));
      if (!user || !passwordOk || !user.active) {
        await attempt.failed();
        const reason = !user ? 'unknown user' : !passwordOk ? 'wrong password' : 'user deactivated';
        await ctx.auditAggregator.record(ctx, `${ctx.ip}|${username}`, {
          category: 'login',
          action: 'login',
          outcome: 'failure',
          actor: user
            ? { type: 'user', id: String(user.id), name: user.username }
            : { type: 'anonymous', id: null, name: username },
          detail: { reason },
        });
        throw unauthorized('Wrong username or password');
      }
      await attempt.succeeded();
      const token = newToken();
      const expiresAt = new Date(Date.now() + sessionTtlHours * 3600_000);
      await createSession(deps.db, { tokenHash: sha256Hex(token), userId: user.id, expiresAt });
      ctx.state.actor = userActor(user);
      await recordAudit(ctx, { category: 'login', action: 'login', outcome: 'success' });
      return { token, expiresAt: expiresAt.toISOString(), user: me(user) };
    },
  );

  api.route(
    {
      method: 'post',
      path: '/auth/logout',
      operationId: 'logout',
      summary: 'End this session',
      tag: 'auth',
      auth: 'staff',
      responses: { 204: 'Signed out' },
    },
    async (ctx) => {
      await revokeSession(deps.db, ctx.state.sessionTokenHash!);
      await recordAudit(ctx, { category: 'logout', action: 'logout', outcome: 'success' });
      ctx.status = 204;
    },
  );

  api.route(
    {
      method: 'get',
      path: '/auth/me',
      operationId: 'getCurrentActor',
      responses: { 200: { description: 'The signed-in user or API client', schema: CurrentActor } },
      scopes: [],
      summary: 'Who is signed in, with roles per department',
      tag: 'auth',
    },
    async (ctx) => {
      const actor = ctx.state.actor;
      if (actor.kind === 'api-client')
        return {
          kind: 'api-client',
          id: actor.id,
          name: actor.name,
          department: actor.department,
          scopes: actor.scopes,
        };
      if (actor.kind !== 'user') throw unauthorized();
      return me({ id: actor.id, username: actor.username, displayName: actor.displayName, roles: actor.roles });
    },
  );
}

function me(u: {
  id: number;
  username: string;
  displayName: string;
  roles: { role: keyof typeof ROLE_LABELS; department: string | null }[];
}) {
  return {
    kind: 'user' as const,
    id: u.id,
    username: u.username,
    displayName: u.displayName,
    roles: u.roles.map((r) => ({ role: r.role, department: r.department, label: ROLE_LABELS[r.role] })),
  };
}
