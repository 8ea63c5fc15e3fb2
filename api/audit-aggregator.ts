import type { Context } from 'koa';
import { appendAudit, type AuditInput } from '../db/audit';
import type { Db } from '../db/knex';
import type { Logger } from '../platform/logger';

declare module 'koa' {
  interface DefaultContext {
    auditAggregator: AuditAggregator;
  }
}

interface Pending {
  entry: AuditInput;
  count: number;
  first: string;
  last: string;
  /** Distinct actor ids seen (made-up API key ids, say), at most SAMPLE of them. */
  actors: Set<string>;
}

const SAMPLE = 10;

/**
 * Unauthenticated failures (made-up API keys, failed or locked-out sign-ins) cost the caller
 * nothing, while each audit entry is an append serialised on the chain head: one entry each
 * would let anyone flood the log and slow every writer. So the first failure of a kind — same
 * group (source address, attempted name, reason) — is written at once, with count 1, and its
 * repeats are counted in memory and written as one entry with their count when the window
 * closes (every windowMs, and when the API shuts down). Summing detail.count over the entries
 * gives the number of failures.
 */
export class AuditAggregator {
  private pending = new Map<string, Pending>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly db: Db,
    private readonly masterKey: Buffer,
    private readonly logger: Logger,
    windowMs = 60_000,
    private readonly maxGroups = 10_000,
  ) {
    this.timer = setInterval(() => void this.flush(), windowMs);
    this.timer.unref();
  }

  async record(ctx: Context, group: string, entry: Omit<AuditInput, 'requestId' | 'ip'>): Promise<void> {
    let key = `${entry.category}|${entry.action}|${entry.outcome}|${group}`;
    let full: AuditInput = { ...entry, requestId: ctx.state.requestId ?? null, ip: ctx.ip };
    if (!this.pending.has(key) && this.pending.size >= this.maxGroups) {
      // Past maxGroups distinct groups in one window, further ones share one counter, so memory stays bounded.
      key = `${entry.category}|${entry.action}|${entry.outcome}|(many sources)`;
      full = {
        ...full,
        actor: { type: entry.actor.type, id: null, name: null },
        ip: null,
        detail: { reason: entry.detail?.reason ?? null, sources: 'many' },
      };
    }
    const now = new Date().toISOString();
    const p = this.pending.get(key);
    if (p) {
      p.count += 1;
      p.last = now;
      if (entry.actor.id && p.actors.size < SAMPLE) p.actors.add(entry.actor.id);
      return;
    }
    const actors = new Set(entry.actor.id ? [entry.actor.id] : []);
    this.pending.set(key, { entry: full, count: 0, first: now, last: now, actors });
    await this.write({ ...full, detail: { ...full.detail, count: 1 } });
  }

  /** Writes one entry per group that repeated since the last flush, and starts a new window. */
  async flush(): Promise<void> {
    const due = [...this.pending.values()].filter((p) => p.count > 0);
    this.pending.clear();
    for (const p of due) {
      const oneActor = p.actors.size <= 1;
      await this.write({
        ...p.entry,
        actor: oneActor ? p.entry.actor : { type: p.entry.actor.type, id: null, name: null },
        requestId: null,
        detail: {
          ...p.entry.detail,
          count: p.count,
          repeated: true,
          from: p.first,
          to: p.last,
          ...(oneActor ? {} : { actorIds: [...p.actors] }),
        },
      });
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private async write(entry: AuditInput) {
    try {
      await appendAudit(this.db, entry, this.masterKey);
    } catch (err) {
      this.logger.error({ err, audit: entry }, 'AUDIT ENTRY COULD NOT BE WRITTEN');
    }
  }
}
