import type { Context, Next } from 'koa';
import type { AppDeps } from './app';
import { authorize, describeActor, type Action, type Actor, type Target } from '../domain/access';
import { findApiClient, findSessionUser, touchApiClient, type User } from '../db/org';
import { safeEqualHex, sha256Hex } from '../platform/secrets';
import { HttpProblem, unauthorized } from './problem';
import { holderSessionOf } from '../services/holder/sign-in';

/** The holder portal's session cookie: HttpOnly, SameSite=Lax (api/routes/holder-auth.ts). */
export const HOLDER_COOKIE = 'certflow_holder';

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
  return {
    kind: 'user',
    id: user.id,
    username: user.username,
    displayName: user.displayName,
    roles: user.roles.map(({ role, department }) => ({ role, department })),
  };
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
        await refuseFloodingAddress(ctx, deps);
        const client = id ? await findApiClient(deps.db, id) : undefined;
        if (!client || !client.active || !safeEqualHex(sha256Hex(secret), client.secretHash)) {
          const reason = !client ? 'unknown API key' : !client.active ? 'API client deactivated' : 'wrong secret';
          await countFailure(ctx, deps);
          // Grouped by address and reason, not by the key id, which the caller makes up at will.
          await ctx.auditAggregator.record(ctx, `${ctx.ip}|${reason}`, {
            category: 'api-call',
            action: `${ctx.method} ${ctx.path}`,
            outcome: 'denied',
            actor: { type: 'api-client', id: id || null, name: client?.name ?? null },
            department: client?.department ?? null,
            detail: { reason },
          });
          throw unauthorized('Unknown, inactive or wrong API key; expected `ApiKey <id>.<secret>`');
        }
        ctx.state.actor = {
          kind: 'api-client',
          id: client.id,
          name: client.name,
          department: client.department,
          scopes: client.scopes,
        };
        void touchApiClient(deps.db, client.id).catch((err) =>
          ctx.log.warn({ err }, 'could not record API client use'),
        );
      } else {
        throw unauthorized('Unsupported Authorization scheme; use `Bearer <token>` or `ApiKey <id>.<secret>`');
      }
    } else if (ctx.cookies.get(HOLDER_COOKIE)) {
      // Holders: the portal's session cookie (docs/holders.md). Never a staff credential: routing
      // lets a holder call only holder and public routes.
      const session = await holderSessionOf(deps, ctx.cookies.get(HOLDER_COOKIE)!);
      if (session) {
        ctx.state.actor = {
          kind: 'holder',
          sessionHash: session.tokenHash,
          holderKind: session.holderKind,
          holderHash: session.holderHash,
          name: session.holderName,
          agentName: session.agentName,
        };
      }
    }
    await next();
  };
}

/**
 * Bad API keys per client address and lockout window: past LOGIN_MAX_FAILURES_PER_ADDRESS the
 * address gets 429 before any key is looked up. Unlike sign-in, a key is not a guessable
 * password (its secret is 256 random bits), so this limit is about floods, not guessing:
 * it reads then counts, and a cache outage lifts it rather than stopping every business system.
 */
const badKeyCounter = (ip: string) => `auth-fail:ip:${ip}`;

async function refuseFloodingAddress(ctx: Context, deps: AppDeps) {
  let failures: number;
  try {
    failures = await deps.cache.peek(badKeyCounter(ctx.ip));
  } catch (err) {
    ctx.log.warn({ err: (err as Error).message }, 'bad-key counter unavailable; not throttling');
    return;
  }
  if (failures < deps.config.auth.maxFailuresPerAddress) return;
  await ctx.auditAggregator.record(ctx, `${ctx.ip}|throttled`, {
    category: 'api-call',
    action: `${ctx.method} ${ctx.path}`,
    outcome: 'denied',
    actor: { type: 'anonymous', id: null, name: null },
    detail: { reason: 'too many bad API keys from this address' },
  });
  ctx.set('Retry-After', String(deps.config.auth.lockoutMinutes * 60));
  throw new HttpProblem(429, 'Too Many Requests', 'Too many bad API keys from this address; try again later');
}

async function countFailure(ctx: Context, deps: AppDeps) {
  await deps.cache
    .incr(badKeyCounter(ctx.ip), deps.config.auth.lockoutMinutes * 60)
    .catch((err: Error) => ctx.log.warn({ err: err.message }, 'bad-key counter unavailable'));
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
