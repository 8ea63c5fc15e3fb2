import type { Context, Next } from 'koa';
import { appendAudit, type AuditInput } from '../db/audit';
import { describeActor } from '../domain/access';

declare module 'koa' {
  interface DefaultState {
    /** Set by routes whose spec has `audit`: what the entry is about. */
    auditObject?: { type: string; id: string };
    auditDepartment?: string | null;
    auditDetail?: Record<string, unknown>;
  }
}

type Partial = Omit<AuditInput, 'actor' | 'requestId' | 'ip'> & { actor?: AuditInput['actor'] };

/** Appends an entry with who/where taken from the request. */
export async function recordAudit(ctx: Context, entry: Partial): Promise<void> {
  try {
    await appendAudit(
      ctx.deps.db,
      {
        ...entry,
        actor: entry.actor ?? describeActor(ctx.state.actor ?? { kind: 'anonymous' }),
        requestId: ctx.state.requestId,
        ip: ctx.ip,
      },
      ctx.deps.masterKey,
    );
  } catch (err) {
    // The action has happened; failing the response now would only hide that. Shout instead.
    ctx.log.error({ err, audit: entry }, 'AUDIT ENTRY COULD NOT BE WRITTEN');
  }
}

/**
 * Runs outside the problem middleware, so it sees the final status. It records, without any
 * route having to remember: every call by a business system, and every refused authorization.
 */
export function auditMiddleware() {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } finally {
      const actor = ctx.state.actor;
      const denial = ctx.state.denial;
      if (denial) {
        await recordAudit(ctx, {
          category: 'authorization',
          action: denial.action,
          outcome: 'denied',
          department: denial.department ?? null,
          detail: { reason: denial.reason, method: ctx.method, path: ctx.path },
        });
      }
      if (actor?.kind === 'api-client') {
        await recordAudit(ctx, {
          category: 'api-call',
          action: `${ctx.method} ${(ctx as Context & { _matchedRoute?: string })._matchedRoute ?? ctx.path}`,
          outcome: ctx.status < 400 ? 'success' : ctx.status === 403 ? 'denied' : 'failure',
          department: actor.department,
          object: ctx.state.auditObject ?? null,
          detail: { status: ctx.status, path: ctx.path },
        });
      }
    }
  };
}
