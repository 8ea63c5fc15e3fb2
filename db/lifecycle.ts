import type { Db } from './knex';
import { isMysql } from './knex';

/** Status changes after issue: expiry in batches, revocation, and the notices they cause. */

export type EndStatus = 'revoked' | 'cancelled' | 'withdrawn';

/**
 * Marks up to `limit` valid certificates whose last valid day is before `asOf` as expired and
 * returns their numbers. Uses the (status, valid_until) index; each call is its own short
 * transaction, so a sweep over millions never holds locks for long.
 */
export async function expireBatch(db: Db, asOf: string, limit: number): Promise<string[]> {
  return db.transaction(async (trx) => {
    const q = trx('certificates')
      .where('status', 'valid')
      .whereNotNull('valid_until')
      .where('valid_until', '<', asOf)
      .orderBy('valid_until')
      .limit(limit)
      .select('id', 'number');
    const rows = (await (isMysql(db) ? q.forUpdate().skipLocked() : q)) as { id: number; number: string }[];
    if (rows.length === 0) return [];
    await trx('certificates')
      .whereIn(
        'id',
        rows.map((r) => r.id),
      )
      .where('status', 'valid')
      .update({ status: 'expired', status_changed_at: new Date(), status_reason: `validity ended before ${asOf}` });
    return rows.map((r) => r.number);
  });
}

/** Valid certificates whose validity ends within [from, to] and that have had no expiring notice. */
export async function dueForReminder(db: Db, from: string, to: string, limit: number) {
  return db('certificates as c')
    .leftJoin('status_notices as n', function () {
      this.on('n.number', '=', 'c.number').andOnVal('n.event', '=', 'expiring');
    })
    .join('applications as a', 'a.id', 'c.application_id')
    .where('c.status', 'valid')
    .whereBetween('c.valid_until', [from, to])
    .whereNull('n.id')
    .orderBy('c.valid_until')
    .limit(limit)
    .select('c.number', 'c.valid_until', 'c.application_id', 'a.callback_url') as Promise<
    { number: string; valid_until: string | Date; application_id: string; callback_url: string | null }[]
  >;
}

export async function addNotice(
  db: Db,
  n: { number: string; event: string; applicationId: string | null; callbackUrl: string | null; dueOn?: string | null },
): Promise<void> {
  await db('status_notices')
    .insert({
      number: n.number,
      event: n.event,
      application_id: n.applicationId,
      callback_url: n.callbackUrl,
      due_on: n.dueOn ?? null,
      created_at: new Date(),
    })
    .onConflict(['number', 'event'])
    .ignore();
}

export async function getNotice(db: Db, number: string, event: string) {
  return db('status_notices').where({ number, event }).first();
}

/**
 * Ends a certificate. Idempotent: a certificate already ended the same way is left as it is;
 * one that is expired or ended otherwise cannot be revoked again (returns its status).
 */
export async function endCertificate(
  db: Db,
  number: string,
  status: EndStatus,
  reason: string,
): Promise<{ changed: boolean; previous: string; changedAt: string } | undefined> {
  return db.transaction(async (trx) => {
    const q = trx('certificates').where({ number }).first('status', 'status_changed_at');
    const row = (await (isMysql(db) ? q.forUpdate() : q)) as
      { status: string; status_changed_at: Date | string | number } | undefined;
    if (!row) return undefined;
    if (row.status !== 'valid' && row.status !== 'suspended') {
      return { changed: false, previous: row.status, changedAt: new Date(row.status_changed_at).toISOString() };
    }
    const now = new Date();
    await trx('certificates').where({ number }).update({ status, status_changed_at: now, status_reason: reason });
    return { changed: true, previous: row.status, changedAt: now.toISOString() };
  });
}
