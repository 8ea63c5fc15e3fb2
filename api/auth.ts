import type { Context, Next } from 'koa';
import type { AppDeps } from './app';
import { authorize, describeActor, type Action, type Actor, type Target } from '../domain/access';
import { findApiClient, findSessionUser, touchApiClient, type User } from '../db/org';
import { safeEqualHex, sha256Hex } from '../platform/secrets';
import { HttpProblem, unauthorized } from './problem';
import { recordAudit } from './audit';

declare module 'koa' {
  interface DefaultState {
    actor: Actor;
    /** Set for bearer-token requests, so logout can end this session. */
    sessionTokenHash?: string;
    /** Set when authorize() refused: the audit middleware records it. */
    denial?: { action: string; reason: string; department?: string };
  }
}

export function userActor(user: User): Actor {
  return { kind: 'user', id: user.id, username: user.username, displayName: user.displayName, roles: user.roles.map(({ role, department }) => ({ role, department })) };
}

/**
 * Works out who is calling: staff with `Authorization: Bearer <token>`, business systems
 * with `Authorization: ApiKey <id>.<secret>`, anyone else is anonymous. Credentials that
 * are present but wrong are a 401 even on public routes: a caller should learn at once.
 */
export function authenticate(deps: AppDeps) {
  return async (ctx: Context, next: Next) => {
    ctx.state.actor = { kind: 'anonymous' };
    const header = ctx.get('authorization');
    if (header) {
      const [scheme, credential = ''] = header.trim().split(/\s+/, 2) as [string, string?];
      if (/^bearer$/i.test(scheme)) {
        const tokenHash = sha256Hex(credential);
        const found = await findSessionUser(deps.db, tokenHash);
        if (!found) throw unauthorized('The bearer token is unknown, expired or revoked; sign in again');
        ctx.state.actor = userActor(found.user);
        ctx.state.sessionTokenHash = tokenHash;
      } else if (/^apikey$/i.test(scheme)) {
        const dot = credential.indexOf('.');
        const id = dot > 0 ? credential.slice(0, dot) : '';
        const secret = dot > 0 ? credential.slice(dot + 1) : '';
        const client = id ? await findApiClient(deps.db, id) : undefined;
        if (!client || !client.active || !safeEqualHex(sha256Hex(secret), client.secretHash)) {
          await recordAudit(ctx, {
            category: 'api-call',
            action: `${ctx.method} ${ctx.path}`,
            outcome: 'denied',
            actor: { type: 'api-client', id: id || null, name: client?.name ?? null },
            department: client?.department ?? null,
            detail: { reason: !client ? 'unknown API key' : !client.active ? 'API client deactivated' : 'wrong secret' },
          });
          throw unauthorized('Unknown, inactive or wrong API key; expected `ApiKey <id>.<secret>`');
        }
        ctx.state.actor = { kind: 'api-client', id: client.id, name: client.name, department: client.department, scopes: client.scopes };
        void touchApiClient(deps.db, client.id).catch((err) => ctx.log.warn({ err }, 'could not record API client use'));
      } else {
        throw unauthorized('Unsupported Authorization scheme; use `Bearer <token>` or `ApiKey <id>.<secret>`');
      }
    }
    await next();
  };
}

/** Throws 403 (and leaves the reason for the audit log) unless the actor may do this. */
export function requirePermission(ctx: Context, action: Action, target: Target = {}): void {
  const decision = authorize(ctx.state.actor, action, target);
  if (!decision.allowed) deny(ctx, action, decision.reason, target.department);
}

export function deny(ctx: Context, action: Action, reason: string, department?: string): never {
  ctx.state.denial = { action, reason, department };
  throw new HttpProblem(403, 'Forbidden', `Not allowed to ${action}: ${reason}`);
}

export function actorSummary(ctx: Context) {
  return describeActor(ctx.state.actor ?? { kind: 'anonymous' });
}
