import { createHash } from 'node:crypto';
import type { Db } from './knex';
import { isMysql } from './knex';
import { maskHolderId } from '../domain/holder';

/**
 * The append-only, hash-chained audit log (docs/access.md: every login, logout, operation,
 * authorization, configuration, storing, sealing, revocation, verification and API call).
 * Each entry's hash covers its content and the previous entry's hash, so editing, removing
 * or inserting an entry anywhere breaks the chain from there on; verifyAuditChain finds it.
 */

export const AUDIT_CATEGORIES = [
  'login',
  'logout',
  'operation',
  'authorization',
  'configuration',
  'storing',
  'sealing',
  'revocation',
  'verification',
  'api-call',
] as const;
export type AuditCategory = (typeof AUDIT_CATEGORIES)[number];
export type AuditOutcome = 'success' | 'failure' | 'denied';

export interface AuditInput {
  category: AuditCategory;
  action: string;
  outcome: AuditOutcome;
  actor: { type: string; id: string | null; name: string | null };
  department?: string | null;
  object?: { type: string; id: string } | null;
  requestId?: string | null;
  ip?: string | null;
  detail?: Record<string, unknown> | null;
}

export interface AuditEntry {
  seq: number;
  at: string;
  category: AuditCategory;
  action: string;
  outcome: AuditOutcome;
  actorType: string;
  actorId: string | null;
  actorName: string | null;
  department: string | null;
  objectType: string | null;
  objectId: string | null;
  requestId: string | null;
  ip: string | null;
  detail: Record<string, unknown> | null;
  prevHash: string;
  hash: string;
}

const GENESIS = '0'.repeat(64);

/** 18-character resident ID numbers anywhere in free text: keep region and last four only. */
const RESIDENT_ID = /(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])/g;
export function maskResidentIds(text: string): string {
  return text.replace(RESIDENT_ID, maskHolderId);
}

type Row = {
  seq: number | string;
  at: string;
  category: string;
  action: string;
  outcome: string;
  actor_type: string;
  actor_id: string | null;
  actor_name: string | null;
  department: string | null;
  object_type: string | null;
  object_id: string | null;
  request_id: string | null;
  ip: string | null;
  detail: string | null;
  prev_hash: string;
  hash: string;
};

/** The exact bytes an entry's hash covers: a fixed-order JSON array of its stored columns. */
export function entryHash(prevHash: string, r: Omit<Row, 'prev_hash' | 'hash'>): string {
  const content = JSON.stringify([
    Number(r.seq), r.at, r.category, r.action, r.outcome, r.actor_type, r.actor_id, r.actor_name,
    r.department, r.object_type, r.object_id, r.request_id, r.ip, r.detail,
  ]);
  return createHash('sha256').update(prevHash).update('\n').update(content, 'utf8').digest('hex');
}

export async function appendAudit(db: Db, input: AuditInput): Promise<AuditEntry> {
  const detail = input.detail ? maskResidentIds(JSON.stringify(input.detail)) : null;
  const objectId = input.object ? maskResidentIds(input.object.id) : null;
  return db.transaction(async (trx) => {
    // Lock the head row: appends are serialised, so 50 concurrent writers still form one chain.
    const headQuery = trx('audit_head').where({ id: 1 }).first();
    const head = (await (isMysql(db) ? headQuery.forUpdate() : headQuery)) as { seq: number | string; hash: string };
    const row = {
      seq: Number(head.seq) + 1,
      at: new Date().toISOString(),
      category: input.category,
      action: input.action,
      outcome: input.outcome,
      actor_type: input.actor.type,
      actor_id: input.actor.id,
      actor_name: input.actor.name,
      department: input.department ?? null,
      object_type: input.object?.type ?? null,
      object_id: objectId,
      request_id: input.requestId ?? null,
      ip: input.ip ?? null,
      detail,
    };
    const hash = entryHash(head.hash, row);
    await trx('audit_log').insert({ ...row, prev_hash: head.hash, hash });
    await trx('audit_head').where({ id: 1 }).update({ seq: row.seq, hash });
    return toEntry({ ...row, prev_hash: head.hash, hash });
  });
}

function toEntry(r: Row): AuditEntry {
  return {
    seq: Number(r.seq),
    at: r.at,
    category: r.category as AuditCategory,
    action: r.action,
    outcome: r.outcome as AuditOutcome,
    actorType: r.actor_type,
    actorId: r.actor_id,
    actorName: r.actor_name,
    department: r.department,
    objectType: r.object_type,
    objectId: r.object_id,
    requestId: r.request_id,
    ip: r.ip,
    detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

export interface AuditQuery {
  category?: AuditCategory;
  /** Username or actor id. */
  actor?: string;
  objectType?: string;
  objectId?: string;
  outcome?: AuditOutcome;
  from?: string;
  to?: string;
  /** Restrict to these departments (the reader's scope); undefined = all. */
  departments?: string[];
  /** Entries older than this seq (cursor from the previous page). */
  before?: number;
  limit: number;
}

export async function queryAudit(db: Db, q: AuditQuery): Promise<{ entries: AuditEntry[]; nextCursor: number | null }> {
  const query = db<Row>('audit_log').orderBy('seq', 'desc').limit(q.limit + 1);
  if (q.category) query.where('category', q.category);
  if (q.actor) query.where((w) => w.where('actor_name', q.actor!).orWhere('actor_id', q.actor!));
  if (q.objectType) query.where('object_type', q.objectType);
  if (q.objectId) query.where('object_id', q.objectId);
  if (q.outcome) query.where('outcome', q.outcome);
  if (q.from) query.where('at', '>=', q.from);
  if (q.to) query.where('at', '<', q.to);
  if (q.departments) query.whereIn('department', q.departments);
  if (q.before !== undefined) query.where('seq', '<', q.before);
  const rows = (await query) as Row[];
  const page = rows.slice(0, q.limit).map(toEntry);
  return { entries: page, nextCursor: rows.length > q.limit ? page[page.length - 1]!.seq : null };
}

export type ChainReport =
  | { ok: true; entries: number; headHash: string }
  | { ok: false; entries: number; firstBroken: { seq: number; reason: string } };

/** Walks the whole chain in seq order, in batches, and names the first entry that does not hold. */
export async function verifyAuditChain(db: Db, batchSize = 2000): Promise<ChainReport> {
  let prev = GENESIS;
  let expected = 1;
  for (;;) {
    const rows = (await db<Row>('audit_log').where('seq', '>=', expected).orderBy('seq').limit(batchSize)) as Row[];
    for (const r of rows) {
      const seq = Number(r.seq);
      if (seq !== expected) {
        return { ok: false, entries: expected - 1, firstBroken: { seq: expected, reason: `entry ${expected} is missing (next present is ${seq})` } };
      }
      if (r.prev_hash !== prev) {
        return { ok: false, entries: seq - 1, firstBroken: { seq, reason: 'prev_hash does not match the hash of the entry before it' } };
      }
      const recomputed = entryHash(prev, r);
      if (recomputed !== r.hash) {
        return { ok: false, entries: seq - 1, firstBroken: { seq, reason: 'content does not match its hash: the entry was altered' } };
      }
      prev = r.hash;
      expected = seq + 1;
    }
    if (rows.length < batchSize) break;
  }
  const head = (await db('audit_head').where({ id: 1 }).first()) as { seq: number | string; hash: string };
  if (Number(head.seq) !== expected - 1 || head.hash !== prev) {
    return {
      ok: false,
      entries: expected - 1,
      firstBroken: { seq: expected, reason: `the chain head records ${Number(head.seq)} entries; entries after ${expected - 1} were removed` },
    };
  }
  return { ok: true, entries: expected - 1, headHash: prev };
}
