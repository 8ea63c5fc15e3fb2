import type { Db } from './knex';
import { toIso } from './knex';
import { withDeadlockRetry } from './knex';

/**
 * Bitstring Status List positions and bits, and the offline QR signatures (migration 017,
 * docs/trust.md "Verifiable credentials").
 */

export type StatusPurpose = 'revocation' | 'suspension';
export const STATUS_PURPOSES: readonly StatusPurpose[] = ['revocation', 'suspension'];

export interface StatusEntry {
  number: string;
  department: string;
  index: number;
  revoked: boolean;
  suspended: boolean;
}

const column = (purpose: StatusPurpose) => (purpose === 'revocation' ? 'revoked' : 'suspended');

function toEntry(r: Record<string, unknown>): StatusEntry {
  return {
    number: String(r.certificate_number),
    department: String(r.department),
    index: Number(r.status_index),
    revoked: Boolean(r.revoked),
    suspended: Boolean(r.suspended),
  };
}

export async function getStatusEntry(db: Db, number: string): Promise<StatusEntry | undefined> {
  const r = (await db('credential_status_entries').where({ certificate_number: number }).first()) as
    Record<string, unknown> | undefined;
  return r ? toEntry(r) : undefined;
}

/**
 * The certificate's position, taken on first use: the department's counter is incremented with one
 * atomic upsert (which holds its row lock until commit, as db/allocations.ts allocateNumber), so
 * no index is ever given twice; a concurrent first use for the same number loses the insert and
 * reads the winner's entry (its increment is a gap, never reused). A new entry's bits start as
 * `initial`, the certificate's status at that moment; every later change goes through setStatusBit.
 */
export async function ensureStatusEntry(
  db: Db,
  number: string,
  department: string,
  initial: { revoked: boolean; suspended: boolean },
): Promise<StatusEntry> {
  const existing = await getStatusEntry(db, number);
  if (existing) return existing;
  await withDeadlockRetry(() =>
    db.transaction(async (trx) => {
      const now = new Date();
      await trx('credential_status_lists')
        .insert({ department, next_index: 1, version: 1, updated_at: now })
        .onConflict('department')
        .merge({ next_index: trx.raw('next_index + 1'), version: trx.raw('version + 1'), updated_at: now });
      const list = (await trx('credential_status_lists').where({ department }).first('next_index')) as {
        next_index: number | string;
      };
      await trx('credential_status_entries')
        .insert({
          certificate_number: number,
          department,
          status_index: Number(list.next_index) - 1,
          revoked: initial.revoked,
          suspended: initial.suspended,
          updated_at: now,
        })
        .onConflict('certificate_number')
        .ignore();
    }),
  );
  return (await getStatusEntry(db, number))!;
}

/** Sets one bit; true when it changed (the list's version then grows). */
export async function setStatusBit(
  db: Db,
  number: string,
  purpose: StatusPurpose,
  on: boolean,
): Promise<{ entry: StatusEntry; changed: boolean } | undefined> {
  return withDeadlockRetry(() =>
    db.transaction(async (trx) => {
      const now = new Date();
      const changed = await trx('credential_status_entries')
        .where({ certificate_number: number })
        .whereNot(column(purpose), on)
        .update({ [column(purpose)]: on, updated_at: now });
      const r = (await trx('credential_status_entries').where({ certificate_number: number }).first()) as
        Record<string, unknown> | undefined;
      if (!r) return undefined;
      const entry = toEntry(r);
      if (changed) {
        await trx('credential_status_lists')
          .where({ department: entry.department })
          .update({ version: trx.raw('version + 1'), updated_at: now });
      }
      return { entry, changed: changed > 0 };
    }),
  );
}

export interface StatusListState {
  department: string;
  /** Positions handed out so far: the list covers at least these. */
  size: number;
  version: number;
  updatedAt: Date;
}

export async function getStatusList(db: Db, department: string): Promise<StatusListState | undefined> {
  const r = (await db('credential_status_lists').where({ department }).first()) as Record<string, unknown> | undefined;
  if (!r) return undefined;
  return {
    department,
    size: Number(r.next_index),
    version: Number(r.version),
    updatedAt: new Date(toIso(r.updated_at)),
  };
}

/** The positions whose bit for `purpose` is set. */
export async function setIndexes(db: Db, department: string, purpose: StatusPurpose): Promise<number[]> {
  const rows = (await db('credential_status_entries')
    .where({ department, [column(purpose)]: true })
    .select('status_index')) as { status_index: number | string }[];
  return rows.map((r) => Number(r.status_index));
}

/** The certificate's QR signature: the first one stored wins, so a retried render prints the same. */
export async function keepQrSignature(db: Db, number: string, token: string): Promise<string> {
  await db('offline_qr_signatures')
    .insert({ certificate_number: number, token, created_at: new Date() })
    .onConflict('certificate_number')
    .ignore();
  const r = (await db('offline_qr_signatures').where({ certificate_number: number }).first('token')) as {
    token: string;
  };
  return r.token;
}
