import type { Db } from './knex';
import { isMysql, toIso } from './knex';

/**
 * Suspension (暂停) and reinstatement (恢复) of a certificate (docs/lifecycle.md): the status
 * change and its `certificate_suspensions` row (migration 019) in one transaction each. Both
 * are safe to repeat: the workflow's activities that call them are retried.
 */

export interface Suspension {
  id: number;
  number: string;
  reason: string;
  /** The last day of the suspension (China date); null: until reinstated by hand. */
  until: string | null;
  suspendedBy: string;
  suspendedAt: string;
  reinstatedAt: string | null;
  reinstatedBy: string | null;
  reinstateReason: string | null;
}

const day = (v: unknown) =>
  v === null || v === undefined ? null : v instanceof Date ? v.toISOString().slice(0, 10) : String(v).slice(0, 10);

function toSuspension(r: Record<string, unknown>): Suspension {
  return {
    id: Number(r.id),
    number: r.number as string,
    reason: r.reason as string,
    until: day(r.until),
    suspendedBy: r.suspended_by as string,
    suspendedAt: toIso(r.suspended_at),
    reinstatedAt: r.reinstated_at === null || r.reinstated_at === undefined ? null : toIso(r.reinstated_at),
    reinstatedBy: (r.reinstated_by as string | null) ?? null,
    reinstateReason: (r.reinstate_reason as string | null) ?? null,
  };
}

export async function getSuspension(db: Db, id: number): Promise<Suspension | undefined> {
  const r = (await db('certificate_suspensions').where({ id }).first()) as Record<string, unknown> | undefined;
  return r ? toSuspension(r) : undefined;
}

/** Every suspension of a certificate, oldest first. */
export async function listSuspensions(db: Db, number: string): Promise<Suspension[]> {
  const rows = (await db('certificate_suspensions').where({ number }).orderBy('id')) as Record<string, unknown>[];
  return rows.map(toSuspension);
}

export type SuspendOutcome =
  { changed: true; suspension: Suspension } | { changed: false; previous: string; suspension?: Suspension };

/**
 * Suspends a valid certificate. `key` names the request (the workflow run): a retry with the
 * same key finds its suspension and changes nothing.
 */
export async function suspendCertificate(
  db: Db,
  s: { number: string; reason: string; until: string | null; by: string; key: string },
  /** Runs inside the transaction when the status changes (the audit entry), so both happen or neither. */
  onChange: (trx: Db, s: Suspension, department: string) => Promise<void>,
): Promise<SuspendOutcome | undefined> {
  return db.transaction(async (trx) => {
    const q = trx('certificates').where({ number: s.number }).first('status', 'department');
    const row = (await (isMysql(db) ? q.forUpdate() : q)) as { status: string; department: string } | undefined;
    if (!row) return undefined;
    const mine = (await trx('certificate_suspensions').where({ number: s.number, request_key: s.key }).first()) as
      Record<string, unknown> | undefined;
    if (mine) return { changed: true, suspension: toSuspension(mine) };
    if (row.status !== 'valid') return { changed: false, previous: row.status };
    const at = new Date();
    await trx('certificates').where({ number: s.number }).update({
      status: 'suspended',
      status_changed_at: at,
      status_reason: s.reason,
      suspended_until: s.until,
    });
    await trx('certificate_suspensions').insert({
      number: s.number,
      request_key: s.key,
      reason: s.reason,
      until: s.until,
      suspended_by: s.by,
      suspended_at: at,
    });
    const stored = (await trx('certificate_suspensions')
      .where({ number: s.number, request_key: s.key })
      .first()) as Record<string, unknown>;
    await onChange(trx, toSuspension(stored), row.department);
    return { changed: true, suspension: toSuspension(stored) };
  });
}

/**
 * Ends suspension `id`: the certificate is valid again, unless it has meanwhile been revoked,
 * superseded … (then only the suspension row is closed). Repeating it changes nothing.
 */
export async function reinstateCertificate(
  db: Db,
  r: { id: number; reason: string; by: string },
  /** Runs inside the transaction when the certificate becomes valid again (the audit entry). */
  onChange: (trx: Db, department: string) => Promise<void>,
): Promise<{ changed: boolean; status: string; reinstatedAt: string } | undefined> {
  return db.transaction(async (trx) => {
    const s = (await trx('certificate_suspensions').where({ id: r.id }).first()) as Record<string, unknown> | undefined;
    if (!s) return undefined;
    const q = trx('certificates')
      .where({ number: s.number as string })
      .first('status', 'department');
    const cert = (await (isMysql(db) ? q.forUpdate() : q)) as { status: string; department: string };
    if (s.reinstated_at !== null && s.reinstated_at !== undefined)
      return { changed: false, status: cert.status, reinstatedAt: toIso(s.reinstated_at) };
    const at = new Date();
    await trx('certificate_suspensions')
      .where({ id: r.id })
      .update({ reinstated_at: at, reinstated_by: r.by, reinstate_reason: r.reason });
    if (cert.status !== 'suspended') return { changed: false, status: cert.status, reinstatedAt: at.toISOString() };
    await trx('certificates')
      .where({ number: s.number as string })
      .update({ status: 'valid', status_changed_at: at, status_reason: r.reason, suspended_until: null });
    await onChange(trx, cert.department);
    return { changed: true, status: 'valid', reinstatedAt: at.toISOString() };
  });
}
