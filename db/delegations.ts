import type { Db } from './knex';
import { toIso } from './knex';

/**
 * Delegations (docs/issuance.md, "Assignment and delegation"): while one is in force, the
 * principal's tasks appear in the delegate's inbox and the delegate decides "acting for" them.
 */

type DbTime = Date | string | number;

interface DelegationRecord {
  id: number | string;
  user_id: number | string;
  delegate_id: number | string;
  starts_at: DbTime;
  ends_at: DbTime;
  reason: string | null;
  created_at: DbTime;
  revoked_at: DbTime | null;
  user_name?: string;
  delegate_name?: string;
}

export interface DelegationRow {
  id: number;
  user: { id: number; name: string };
  delegate: { id: number; name: string };
  startsAt: string;
  endsAt: string;
  reason: string | null;
  createdAt: string;
  revokedAt: string | null;
}

function toDelegation(r: DelegationRecord): DelegationRow {
  return {
    id: Number(r.id),
    user: { id: Number(r.user_id), name: r.user_name ?? '' },
    delegate: { id: Number(r.delegate_id), name: r.delegate_name ?? '' },
    startsAt: toIso(r.starts_at),
    endsAt: toIso(r.ends_at),
    reason: r.reason ?? null,
    createdAt: toIso(r.created_at),
    revokedAt: r.revoked_at ? toIso(r.revoked_at) : null,
  };
}

function withNames(db: Db) {
  return db('delegations as g')
    .join('users as u', 'u.id', 'g.user_id')
    .join('users as d', 'd.id', 'g.delegate_id')
    .select('g.*', 'u.username as user_name', 'd.username as delegate_name');
}

export async function createDelegation(
  db: Db,
  g: { userId: number; delegateId: number; startsAt: Date; endsAt: Date; reason: string | null },
): Promise<DelegationRow> {
  const [id] = await db('delegations').insert({
    user_id: g.userId,
    delegate_id: g.delegateId,
    starts_at: g.startsAt,
    ends_at: g.endsAt,
    reason: g.reason,
    created_at: new Date(),
  });
  return (await getDelegation(db, Number(id)))!;
}

export async function getDelegation(db: Db, id: number): Promise<DelegationRow | undefined> {
  const r = (await withNames(db).where('g.id', id).first()) as DelegationRecord | undefined;
  return r ? toDelegation(r) : undefined;
}

/** Delegations the user gave or received that have not ended or been revoked, soonest first. */
export async function delegationsOf(db: Db, userId: number, now = new Date()): Promise<DelegationRow[]> {
  const rows = (await withNames(db)
    .where((w) => w.where('g.user_id', userId).orWhere('g.delegate_id', userId))
    .whereNull('g.revoked_at')
    .where('g.ends_at', '>', now)
    .orderBy('g.starts_at')) as DelegationRecord[];
  return rows.map(toDelegation);
}

/** Whose tasks this delegate works now: the principals of delegations in force. */
export async function principalsOf(db: Db, delegateId: number, now = new Date()): Promise<number[]> {
  const ids = (await db('delegations')
    .where({ delegate_id: delegateId })
    .whereNull('revoked_at')
    .where('starts_at', '<=', now)
    .where('ends_at', '>', now)
    .distinct()
    .pluck('user_id')) as (number | string)[];
  return ids.map(Number);
}

export async function revokeDelegation(db: Db, id: number): Promise<boolean> {
  const changed = await db('delegations').where({ id }).whereNull('revoked_at').update({ revoked_at: new Date() });
  return changed === 1;
}
