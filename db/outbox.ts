import type { Db } from './knex';
import { isMysql, toIso } from './knex';

/**
 * The outbox (migration 008): every message to a business system, one row each, unique by
 * dedupe key, with every delivery attempt in `outbox_attempts`. Sending is services/outbox.ts.
 */

export type OutboxStatus = 'pending' | 'delivered' | 'failed';

export interface OutboxMessage {
  id: number;
  event: string;
  dedupeKey: string;
  /** The certificate number or application id the message is about. */
  subject: string;
  targetUrl: string;
  /** `api-client:<id>` or `department:<code>`, as `GET /api/v1/callbacks/signing-key` names it. */
  signingOwner: string;
  body: string;
  bodySha256: string;
  status: OutboxStatus;
  attempts: number;
  lastError: string | null;
  lastStatusCode: number | null;
  nextAttemptAt: string | null;
  createdAt: string;
  updatedAt: string;
  deliveredAt: string | null;
}

export interface OutboxAttempt {
  id: number;
  outboxId: number;
  outcome: 'delivered' | 'failed';
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  at: string;
}

const isoOrNull = (v: unknown) => (v === null || v === undefined ? null : toIso(v));

function toMessage(r: Record<string, unknown>): OutboxMessage {
  return {
    id: Number(r.id),
    event: r.event as string,
    dedupeKey: r.dedupe_key as string,
    subject: r.subject as string,
    targetUrl: r.target_url as string,
    signingOwner: r.signing_owner as string,
    body: r.body as string,
    bodySha256: r.body_sha256 as string,
    status: r.status as OutboxStatus,
    attempts: Number(r.attempts),
    lastError: (r.last_error as string | null) ?? null,
    lastStatusCode: r.last_status_code === null || r.last_status_code === undefined ? null : Number(r.last_status_code),
    nextAttemptAt: isoOrNull(r.next_attempt_at),
    createdAt: toIso(r.created_at),
    updatedAt: toIso(r.updated_at),
    deliveredAt: isoOrNull(r.delivered_at),
  };
}

function toAttempt(r: Record<string, unknown>): OutboxAttempt {
  return {
    id: Number(r.id),
    outboxId: Number(r.outbox_id),
    outcome: r.outcome as OutboxAttempt['outcome'],
    statusCode: r.status_code === null || r.status_code === undefined ? null : Number(r.status_code),
    error: (r.error as string | null) ?? null,
    durationMs: Number(r.duration_ms),
    at: toIso(r.at),
  };
}

export type NewOutboxMessage = Pick<
  OutboxMessage,
  'event' | 'dedupeKey' | 'subject' | 'targetUrl' | 'signingOwner' | 'body' | 'bodySha256'
>;

/** Inserts the message unless its dedupe key is taken; either way returns the stored row. */
export async function insertOutboxMessage(db: Db, m: NewOutboxMessage): Promise<OutboxMessage> {
  const before = await findOutboxMessageByKey(db, m.dedupeKey);
  if (before) return before;
  const now = new Date();
  await db('outbox')
    .insert({
      event: m.event,
      dedupe_key: m.dedupeKey,
      subject: m.subject,
      target_url: m.targetUrl,
      signing_owner: m.signingOwner,
      body: m.body,
      body_sha256: m.bodySha256,
      status: 'pending',
      attempts: 0,
      next_attempt_at: now,
      created_at: now,
      updated_at: now,
    })
    .onConflict('dedupe_key')
    .ignore(); // a racing enqueue of the same message won: its row is the message
  return (await findOutboxMessageByKey(db, m.dedupeKey))!;
}

export async function getOutboxMessage(db: Db, id: number): Promise<OutboxMessage | undefined> {
  const r = await db('outbox').where({ id }).first();
  return r ? toMessage(r) : undefined;
}

export async function findOutboxMessageByKey(db: Db, dedupeKey: string): Promise<OutboxMessage | undefined> {
  const r = await db('outbox').where({ dedupe_key: dedupeKey }).first();
  return r ? toMessage(r) : undefined;
}

export async function listOutboxMessages(
  db: Db,
  filter: { subject?: string; event?: string },
): Promise<OutboxMessage[]> {
  const q = db('outbox').orderBy('id');
  if (filter.subject) q.where('subject', filter.subject);
  if (filter.event) q.where('event', filter.event);
  return (await q).map(toMessage);
}

export async function listOutboxAttempts(db: Db, outboxId: number): Promise<OutboxAttempt[]> {
  return (await db('outbox_attempts').where({ outbox_id: outboxId }).orderBy('id')).map(toAttempt);
}

/** Pending messages of one event that a relay may try now, oldest first. */
export async function duePendingMessages(db: Db, event: string, now: Date, limit: number): Promise<OutboxMessage[]> {
  const rows = await db('outbox')
    .where({ event, status: 'pending' })
    .where('next_attempt_at', '<=', now)
    .orderBy('next_attempt_at')
    .orderBy('id')
    .limit(limit);
  return rows.map(toMessage);
}

export interface AttemptOutcome {
  outcome: 'delivered' | 'failed';
  /** Only with a failure: the receiver refused the message for good. */
  permanent?: boolean;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  /** Only with a transient failure: when a relay may try again. */
  retryAt?: Date;
}

/**
 * Records one attempt and moves the message's state on. A delivered message stays delivered
 * even if a slower, overlapping attempt fails after it.
 */
export async function recordOutboxAttempt(db: Db, id: number, a: AttemptOutcome): Promise<OutboxMessage> {
  const now = new Date();
  const error = a.error?.slice(0, 1000) ?? null;
  await db.transaction(async (trx) => {
    const q = trx('outbox').where({ id }).first('status');
    const row = (await (isMysql(db) ? q.forUpdate() : q)) as { status: OutboxStatus } | undefined;
    if (!row) throw new Error(`no outbox message ${id}`);
    await trx('outbox_attempts').insert({
      outbox_id: id,
      outcome: a.outcome,
      status_code: a.statusCode,
      error,
      duration_ms: Math.round(a.durationMs),
      at: now,
    });
    const counted = { attempts: trx.raw('attempts + 1'), last_status_code: a.statusCode, updated_at: now };
    if (row.status === 'delivered') {
      await trx('outbox').where({ id }).update(counted);
    } else if (a.outcome === 'delivered') {
      await trx('outbox')
        .where({ id })
        .update({ ...counted, status: 'delivered', last_error: null, delivered_at: now, next_attempt_at: null });
    } else {
      await trx('outbox')
        .where({ id })
        .update({
          ...counted,
          status: a.permanent ? 'failed' : 'pending',
          last_error: error,
          next_attempt_at: a.permanent ? null : (a.retryAt ?? now),
        });
    }
  });
  return (await getOutboxMessage(db, id))!;
}

/**
 * Certificates reminded of their expiry (`status_notices`, written by the expiry sweep) whose
 * application has a callback URL, that are still valid and have no `certificate.expiring`
 * message yet.
 */
export async function expiryRemindersToEnqueue(db: Db, limit: number): Promise<string[]> {
  const rows = (await db('status_notices as n')
    .join('certificates as c', 'c.number', 'n.number')
    .join('applications as a', 'a.id', 'c.application_id')
    .leftJoin('outbox as o', function () {
      this.on('o.subject', '=', 'n.number').andOnVal('o.event', '=', 'certificate.expiring');
    })
    .where('n.event', 'expiring')
    .whereNotNull('a.callback_url')
    .whereNull('n.delivered_at')
    .where('c.status', 'valid')
    .whereNull('o.id')
    .orderBy('n.id')
    .limit(limit)
    .select('n.number')) as { number: string }[];
  return rows.map((r) => r.number);
}
