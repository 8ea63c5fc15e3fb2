import type { Db } from './knex';
import { toIso } from './knex';

/**
 * Status changes waiting to be pushed to the external catalog (migration 018,
 * docs/sharing.md "Catalog status sync"). One row per certificate and status: recording twice
 * (a retried activity) changes nothing.
 */

export interface CatalogStatusPush {
  id: number;
  certificateNumber: string;
  department: string;
  status: string;
  attempts: number;
  lastError: string | null;
  lastAttemptAt: string | null;
  pushedAt: string | null;
  createdAt: string;
}

type Row = Record<string, unknown>;
const time = (v: unknown) => (v === null || v === undefined ? null : toIso(v as Date | string | number));

function toPush(r: Row): CatalogStatusPush {
  return {
    id: Number(r.id),
    certificateNumber: r.certificate_number as string,
    department: r.department as string,
    status: r.status as string,
    attempts: Number(r.attempts),
    lastError: (r.last_error as string | null) ?? null,
    lastAttemptAt: time(r.last_attempt_at),
    pushedAt: time(r.pushed_at),
    createdAt: time(r.created_at)!,
  };
}

export async function recordStatusPushes(db: Db, department: string, numbers: string[], status: string): Promise<void> {
  if (numbers.length === 0) return;
  const now = new Date();
  await db('catalog_status_pushes')
    .insert(numbers.map((n) => ({ certificate_number: n, department, status, attempts: 0, created_at: now })))
    .onConflict(['certificate_number', 'status'])
    .ignore();
}

export async function getStatusPush(db: Db, number: string, status: string): Promise<CatalogStatusPush | undefined> {
  const r = (await db('catalog_status_pushes').where({ certificate_number: number, status }).first()) as
    Row | undefined;
  return r ? toPush(r) : undefined;
}

export async function recordStatusPushAttempt(
  db: Db,
  id: number,
  outcome: { ok: true } | { ok: false; error: string },
): Promise<void> {
  const now = new Date();
  await db('catalog_status_pushes')
    .where({ id })
    .update({
      attempts: db.raw('attempts + 1'),
      last_attempt_at: now,
      ...(outcome.ok ? { pushed_at: now, last_error: null } : { last_error: outcome.error.slice(0, 500) }),
    });
}

/** Not yet pushed, oldest first; `failedOnly`: those tried at least once (the sealing officers' list). */
export async function pendingStatusPushes(
  db: Db,
  f: { departments?: string[] | null; failedOnly?: boolean; limit: number },
): Promise<CatalogStatusPush[]> {
  const q = db('catalog_status_pushes').whereNull('pushed_at');
  if (f.departments) q.whereIn('department', f.departments);
  if (f.failedOnly) q.where('attempts', '>', 0);
  return ((await q.orderBy('id').limit(f.limit)) as Row[]).map(toPush);
}

/** Each certificate's issuing department, for recording a batch of status changes. */
export async function departmentsOfCertificates(db: Db, numbers: string[]): Promise<Map<string, string>> {
  if (numbers.length === 0) return new Map();
  const rows = (await db('certificates').whereIn('number', numbers).select('number', 'department')) as {
    number: string;
    department: string;
  }[];
  return new Map(rows.map((r) => [r.number, r.department]));
}
