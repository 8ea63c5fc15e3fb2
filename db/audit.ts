import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { Db } from './knex';
import { isMysql } from './knex';
import { maskHolderId } from '../domain/holder';
import { auditAppends } from '../platform/metrics';
import { readAuditAnchors, type AuditAnchor } from './audit-anchors';

/**
 * The append-only, hash-chained audit log (docs/access.md: every login, logout, operation,
 * authorization, configuration, storing, sealing, revocation, verification and API call).
 * Each entry's hash covers its content and the previous entry's hash, so editing, removing
 * or inserting an entry anywhere breaks the chain from there on; verifyAuditChain finds it.
 *
 * A plain hash only proves consistency: whoever can write the tables can edit an entry and
 * re-hash everything after it. So the chain is keyed (hash_version 2): each hash is an
 * HMAC-SHA256 under a key derived from the master key, which is never in the database, and
 * the head carries a MAC too. Entries written before (hash_version 1, plain SHA-256, below
 * audit_head.keyed_from) still verify, and the first keyed entry after them covers their
 * last hash, so rewriting them is caught there.
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
  /**
   * The holder lookup hash of the certificate the entry is about, for the holder's usage log
   * (docs/holders.md). Left out, it is looked up when the object is a certificate.
   */
  holderHash?: string | null;
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
  hash_version?: number | string;
};

type Head = { seq: number | string; hash: string; keyed_from: number | string | null; mac: string | null };

/**
 * The chain key: HKDF-SHA256 of the master key with an info string used for nothing else.
 * Kept here, beside the only code that uses it, like the holder-ID keys in platform/holder-crypto.ts.
 */
const chainKeys = new WeakMap<Buffer, Buffer>();
export function auditChainKey(masterKey: Buffer): Buffer {
  let key = chainKeys.get(masterKey);
  if (!key) {
    key = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'certflow audit-chain hmac v2', 32));
    chainKeys.set(masterKey, key);
  }
  return key;
}

/** The exact bytes an entry's hash covers: a fixed-order JSON array of its stored columns. */
function entryContent(r: Omit<Row, 'prev_hash' | 'hash'>): string {
  return JSON.stringify([
    Number(r.seq),
    r.at,
    r.category,
    r.action,
    r.outcome,
    r.actor_type,
    r.actor_id,
    r.actor_name,
    r.department,
    r.object_type,
    r.object_id,
    r.request_id,
    r.ip,
    r.detail,
  ]);
}

/** Scheme 1 (entries before keyed_from): plain SHA-256 over the previous hash and the content. */
export function entryHash(prevHash: string, r: Omit<Row, 'prev_hash' | 'hash'>): string {
  return createHash('sha256').update(prevHash).update('\n').update(entryContent(r), 'utf8').digest('hex');
}

/** Scheme 2: the same bytes under HMAC-SHA256 with the chain key. */
export function keyedEntryHash(key: Buffer, prevHash: string, r: Omit<Row, 'prev_hash' | 'hash'>): string {
  const mac = createHmac('sha256', key).update('v2\n').update(prevHash).update('\n');
  return mac.update(entryContent(r), 'utf8').digest('hex');
}

function headMac(key: Buffer, h: { seq: number; hash: string; keyedFrom: number }): string {
  return createHmac('sha256', key).update(`head\n${h.seq}\n${h.hash}\n${h.keyedFrom}`).digest('hex');
}

const sameHex = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** Appends one entry; masterKey keys the chain (see auditChainKey). */
export async function appendAudit(db: Db, input: AuditInput, masterKey: Buffer): Promise<AuditEntry> {
  const key = auditChainKey(masterKey);
  const detail = input.detail ? maskResidentIds(JSON.stringify(input.detail)) : null;
  const objectId = input.object ? maskResidentIds(input.object.id) : null;
  const holderHash = input.holderHash !== undefined ? input.holderHash : await certificateHolderHash(db, input.object);
  const entry = await db.transaction(async (trx) => {
    // Lock the head row: appends are serialised, so 50 concurrent writers still form one chain.
    const headQuery = trx('audit_head').where({ id: 1 }).first();
    const head = (await (isMysql(db) ? headQuery.forUpdate() : headQuery)) as Head;
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
    const hash = keyedEntryHash(key, head.hash, row);
    const keyedFrom = Number(head.keyed_from ?? 1);
    await trx('audit_log').insert({ ...row, prev_hash: head.hash, hash, hash_version: 2, holder_hash: holderHash });
    const mac = headMac(key, { seq: row.seq, hash, keyedFrom });
    await trx('audit_head').where({ id: 1 }).update({ seq: row.seq, hash, keyed_from: keyedFrom, mac });
    return toEntry({ ...row, prev_hash: head.hash, hash });
  });
  // Counted once the append committed (an enclosing transaction of the caller may still roll back).
  auditAppends.inc({ category: input.category });
  return entry;
}

/** Outside the chain's lock: a read of the certificate's indexed holder hash, before the append. */
async function certificateHolderHash(db: Db, object: AuditInput['object']): Promise<string | null> {
  if (object?.type !== 'certificate') return null;
  const row = (await db('certificates').where({ number: object.id }).first('holder_id_hash')) as
    { holder_id_hash: string } | undefined;
  return row?.holder_id_hash ?? null;
}

/** Entries about one holder's certificates, newest first (the usage log, docs/holders.md). */
export async function queryAuditByHolder(
  db: Db,
  q: { holderHash: string; before?: number; limit: number; excludeActorType?: string },
): Promise<{ entries: AuditEntry[]; nextCursor: number | null }> {
  const query = db<Row>('audit_log')
    .where('holder_hash', q.holderHash)
    .orderBy('seq', 'desc')
    .limit(q.limit + 1);
  if (q.excludeActorType) query.whereNot('actor_type', q.excludeActorType);
  if (q.before !== undefined) query.where('seq', '<', q.before);
  const rows = (await query) as Row[];
  const page = rows.slice(0, q.limit).map(toEntry);
  return { entries: page, nextCursor: rows.length > q.limit ? page[page.length - 1]!.seq : null };
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
  const query = db<Row>('audit_log')
    .orderBy('seq', 'desc')
    .limit(q.limit + 1);
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
  /** keyedFrom: the first keyed entry; it only moves if someone rewrote the head, so auditors may note it. */
  | { ok: true; entries: number; headHash: string; keyedFrom: number }
  | { ok: false; entries: number; firstBroken: { seq: number; reason: string } };

/**
 * Walks the whole chain in seq order, in batches, and names the first entry that does not hold.
 * With anchorsDir (DATA_DIR/audit-anchors, db/audit-anchors.ts), every signed checkpoint there
 * must still match the chain, and keyed hashing must not start later than a checkpoint saw it start.
 */
export async function verifyAuditChain(
  db: Db,
  masterKey: Buffer,
  batchSize = 2000,
  anchorsDir?: string,
): Promise<ChainReport> {
  const key = auditChainKey(masterKey);
  const head = (await db('audit_head').where({ id: 1 }).first()) as Head;
  const keyedFrom = Number(head.keyed_from ?? 1);
  const anchors = new Map<number, AuditAnchor[]>();
  if (anchorsDir) {
    const read = readAuditAnchors(anchorsDir, masterKey);
    if (!read.ok) return { ok: false, entries: 0, firstBroken: { seq: 0, reason: read.reason } };
    for (const a of read.anchors) {
      const named = `checkpoint of entry ${a.seq} (${a.at})`;
      if (a.keyedFrom <= a.seq && keyedFrom > a.keyedFrom) {
        const reason =
          `${named} saw keyed hashing begin at entry ${a.keyedFrom}, but the head now says ${keyedFrom}: ` +
          'the chain was downgraded to unkeyed hashes';
        return { ok: false, entries: 0, firstBroken: { seq: a.keyedFrom, reason } };
      }
      if (a.seq > Number(head.seq)) {
        const reason = `${named} is beyond the chain head (${Number(head.seq)}): entries were removed`;
        return { ok: false, entries: Number(head.seq), firstBroken: { seq: Number(head.seq) + 1, reason } };
      }
      anchors.set(a.seq, [...(anchors.get(a.seq) ?? []), a]);
    }
  }
  let prev = GENESIS;
  let expected = 1;
  for (;;) {
    const rows = (await db<Row>('audit_log').where('seq', '>=', expected).orderBy('seq').limit(batchSize)) as Row[];
    for (const r of rows) {
      const seq = Number(r.seq);
      if (seq !== expected) {
        return {
          ok: false,
          entries: expected - 1,
          firstBroken: { seq: expected, reason: `entry ${expected} is missing (next present is ${seq})` },
        };
      }
      if (r.prev_hash !== prev) {
        return {
          ok: false,
          entries: seq - 1,
          firstBroken: { seq, reason: 'prev_hash does not match the hash of the entry before it' },
        };
      }
      const keyed = seq >= keyedFrom;
      if (keyed && Number(r.hash_version ?? 1) !== 2) {
        const reason = 'the entry is not keyed although it was written after keyed hashing began: it was rewritten';
        return { ok: false, entries: seq - 1, firstBroken: { seq, reason } };
      }
      const recomputed = keyed ? keyedEntryHash(key, prev, r) : entryHash(prev, r);
      if (!sameHex(recomputed, r.hash)) {
        return {
          ok: false,
          entries: seq - 1,
          firstBroken: { seq, reason: 'content does not match its hash: the entry was altered' },
        };
      }
      for (const a of anchors.get(seq) ?? []) {
        if (!sameHex(a.hash, r.hash)) {
          const reason = `checkpoint of entry ${seq} (${a.at}) does not match the chain: the log was rewritten up to there`;
          return { ok: false, entries: seq - 1, firstBroken: { seq, reason } };
        }
      }
      prev = r.hash;
      expected = seq + 1;
    }
    if (rows.length < batchSize) break;
  }
  const last = (await db('audit_head').where({ id: 1 }).first()) as Head;
  if (Number(last.seq) !== expected - 1 || last.hash !== prev) {
    return {
      ok: false,
      entries: expected - 1,
      firstBroken: {
        seq: expected,
        reason: `the chain head records ${Number(last.seq)} entries; entries after ${expected - 1} were removed`,
      },
    };
  }
  // Keyed entries exist: the head must carry the MAC that only the key holder can make.
  if (expected - 1 >= keyedFrom) {
    const mac = headMac(key, { seq: expected - 1, hash: prev, keyedFrom });
    if (!last.mac || !sameHex(mac, last.mac) || Number(last.keyed_from) !== keyedFrom) {
      const reason = "the chain head's MAC does not match: the head was rewritten";
      return { ok: false, entries: expected - 1, firstBroken: { seq: expected - 1, reason } };
    }
  }
  return { ok: true, entries: expected - 1, headHash: prev, keyedFrom };
}
