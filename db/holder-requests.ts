import type { Db } from './knex';
import type { RequestKind } from '../domain/holder-request';
import { toIso } from './knex';

/**
 * Holder requests, holder contacts and the holder's reminders (migration 016, docs/holders.md).
 * Holders appear only by their lookup hash (platform/holder-crypto.ts).
 */

export type { RequestKind };
export type RequestStatus = 'open' | 'accepted' | 'rejected';

export interface HolderRequest {
  id: number;
  certificateNumber: string;
  holderHash: string;
  department: string;
  kind: RequestKind;
  field: { key: string; label: string } | null;
  statement: string;
  status: RequestStatus;
  outcome: string | null;
  comment: string | null;
  decidedBy: string | null;
  decidedAt: string | null;
  requestedBy: string;
  createdAt: string;
}

type RequestRecord = Record<string, unknown>;

function toRequest(r: RequestRecord): HolderRequest {
  const iso = (v: unknown) => (v === null || v === undefined ? null : toIso(v));
  return {
    id: Number(r.id),
    certificateNumber: r.certificate_number as string,
    holderHash: r.holder_hash as string,
    department: r.department as string,
    kind: r.kind as RequestKind,
    field: r.field_key ? { key: r.field_key as string, label: (r.field_label as string | null) ?? '' } : null,
    statement: r.statement as string,
    status: r.status as RequestStatus,
    outcome: (r.outcome as string | null) ?? null,
    comment: (r.comment as string | null) ?? null,
    decidedBy: (r.decided_by as string | null) ?? null,
    decidedAt: iso(r.decided_at),
    requestedBy: r.requested_by as string,
    createdAt: toIso(r.created_at),
  };
}

export type NewHolderRequest = Pick<
  HolderRequest,
  'certificateNumber' | 'holderHash' | 'department' | 'kind' | 'field' | 'statement' | 'requestedBy'
>;

export async function insertHolderRequest(db: Db, r: NewHolderRequest): Promise<HolderRequest> {
  const [id] = await db('holder_requests').insert({
    certificate_number: r.certificateNumber,
    holder_hash: r.holderHash,
    department: r.department,
    kind: r.kind,
    field_key: r.field?.key ?? null,
    field_label: r.field?.label ?? null,
    statement: r.statement,
    status: 'open',
    requested_by: r.requestedBy,
    created_at: new Date(),
  });
  return (await getHolderRequest(db, Number(id)))!;
}

/** Only for a request whose workflow could not be started: nothing else refers to it yet. */
export async function deleteHolderRequest(db: Db, id: number): Promise<void> {
  await db('holder_requests').where({ id, status: 'open' }).delete();
}

export async function getHolderRequest(db: Db, id: number): Promise<HolderRequest | undefined> {
  const r = (await db('holder_requests').where({ id }).first()) as RequestRecord | undefined;
  return r ? toRequest(r) : undefined;
}

export async function listHolderRequests(db: Db, holderHash: string, limit = 200): Promise<HolderRequest[]> {
  const rows = (await db('holder_requests')
    .where({ holder_hash: holderHash })
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)) as RequestRecord[];
  return rows.map(toRequest);
}

/** An open request of this kind for this certificate (filed before `before`, if given): one at a time is enough. */
export async function findOpenRequest(
  db: Db,
  number: string,
  kind: RequestKind,
  before?: number,
): Promise<HolderRequest | undefined> {
  const q = db('holder_requests').where({ certificate_number: number, kind, status: 'open' });
  if (before !== undefined) q.where('id', '<', before);
  const r = (await q.orderBy('id').first()) as RequestRecord | undefined;
  return r ? toRequest(r) : undefined;
}

/** Records the decision once; false when the request was no longer open. */
export async function decideHolderRequest(
  db: Db,
  id: number,
  d: { status: 'accepted' | 'rejected'; outcome: string; comment: string | null; decidedBy: string },
): Promise<boolean> {
  const changed = await db('holder_requests').where({ id, status: 'open' }).update({
    status: d.status,
    outcome: d.outcome,
    comment: d.comment,
    decided_by: d.decidedBy,
    decided_at: new Date(),
  });
  return changed > 0;
}

/** The outcome may be completed after the decision (a cancellation that ran into an ended certificate). */
export async function setRequestOutcome(db: Db, id: number, outcome: string): Promise<void> {
  await db('holder_requests').where({ id }).update({ outcome });
}

// ------------------------------------------------------------------ contacts

export interface HolderContact {
  holderHash: string;
  holderKind: 'person' | 'entity';
  issuer: string;
  subject: string;
}

/** Kept at each sign-in: the identity provider's subject is how the notification gateway finds the holder. */
export async function saveHolderContact(db: Db, c: HolderContact): Promise<void> {
  const row = {
    holder_hash: c.holderHash,
    holder_kind: c.holderKind,
    issuer: c.issuer,
    subject: c.subject,
    updated_at: new Date(),
  };
  await db('holder_contacts').insert(row).onConflict('holder_hash').merge();
}

export async function getHolderContact(db: Db, holderHash: string): Promise<HolderContact | undefined> {
  const r = (await db('holder_contacts').where({ holder_hash: holderHash }).first()) as RequestRecord | undefined;
  if (!r) return undefined;
  return {
    holderHash: r.holder_hash as string,
    holderKind: r.holder_kind as 'person' | 'entity',
    issuer: r.issuer as string,
    subject: r.subject as string,
  };
}

// ------------------------------------------------------------------ reminders

export interface HolderReminder {
  id: number;
  certificateNumber: string;
  typeName: string;
  department: string;
  /** expiring · revoked · cancelled · withdrawn (status_notices.event) */
  event: string;
  /** For `expiring`: the certificate's last valid day. */
  dueOn: string | null;
  at: string;
  readAt: string | null;
}

/** The notices about the holder's certificates (status_notices, written by the lifecycle), newest first. */
export async function listHolderReminders(db: Db, holderHash: string, limit = 200): Promise<HolderReminder[]> {
  const rows = (await db('status_notices as n')
    .join('certificates as c', 'c.number', 'n.number')
    .where('c.holder_id_hash', holderHash)
    .orderBy('n.created_at', 'desc')
    .orderBy('n.id', 'desc')
    .limit(limit)
    .select(
      'n.id',
      'n.number',
      'n.event',
      'n.due_on',
      'n.created_at',
      'n.holder_read_at',
      'c.type_name',
      'c.department',
    )) as RequestRecord[];
  return rows.map((r) => ({
    id: Number(r.id),
    certificateNumber: r.number as string,
    typeName: r.type_name as string,
    department: r.department as string,
    event: r.event as string,
    dueOn: r.due_on ? dateOnly(r.due_on) : null,
    at: toIso(r.created_at),
    readAt: r.holder_read_at ? toIso(r.holder_read_at) : null,
  }));
}

const dateOnly = (v: unknown) => (v instanceof Date ? v.toISOString().slice(0, 10) : String(v).slice(0, 10));

/** Marks the holder's reminders read (these ids, or all); returns how many changed. */
export async function markRemindersRead(db: Db, holderHash: string, ids: number[] | null): Promise<number> {
  const mine = db('certificates').where('holder_id_hash', holderHash).select('number');
  const q = db('status_notices').whereIn('number', mine).whereNull('holder_read_at');
  if (ids) q.whereIn('id', ids);
  return q.update({ holder_read_at: new Date() });
}

/**
 * Expiry reminders of still-valid certificates whose holder has a contact (signed in once) and
 * that have no `holder.certificate-expiring` message yet: what the sweep enqueues for the gateway.
 */
export async function holderRemindersToEnqueue(db: Db, limit: number) {
  return (await db('status_notices as n')
    .join('certificates as c', 'c.number', 'n.number')
    .join('holder_contacts as h', 'h.holder_hash', 'c.holder_id_hash')
    .leftJoin('outbox as o', function () {
      this.on('o.subject', '=', 'n.number').andOnVal('o.event', '=', 'holder.certificate-expiring');
    })
    .where('n.event', 'expiring')
    .where('c.status', 'valid')
    .whereNull('o.id')
    .orderBy('n.id')
    .limit(limit)
    .select('n.number', 'c.holder_id_hash as holder_hash')) as { number: string; holder_hash: string }[];
}
