import type { Knex } from 'knex';

/**
 * One certificate superseded by another (docs/lifecycle.md). Called by storeCertificate
 * (db/certificates.ts) inside the transaction that inserts the successor, so the catalog never
 * holds one without the other: the old row becomes `superseded` with its date, reason and
 * `superseded_by`, and the new row's `replaces_number` points back.
 */

/** The old certificate cannot be superseded (anymore): revoked, already superseded, suspended … */
export class SupersedeConflict extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SupersedeConflict';
  }
}

export interface Supersession {
  /** The certificate being replaced. */
  number: string;
  /** Statuses it may have now (domain/certificate-change.ts supersedableStatuses). */
  allowed: readonly string[];
  /** Shown as its status reason, e.g. "superseded by BL-… (变更)". */
  reason: string;
}

export async function supersedeInTransaction(
  trx: Knex.Transaction,
  mysql: boolean,
  s: Supersession,
  successor: string,
  at: Date,
): Promise<void> {
  const q = trx('certificates').where({ number: s.number }).first('status', 'superseded_by');
  const old = (await (mysql ? q.forUpdate() : q)) as { status: string; superseded_by: string | null } | undefined;
  if (!old) throw new SupersedeConflict(`no certificate ${s.number} to supersede`);
  if (old.superseded_by === successor) return;
  if (!s.allowed.includes(old.status))
    throw new SupersedeConflict(
      `${s.number} is ${old.status}${old.superseded_by ? ` (by ${old.superseded_by})` : ''}: it cannot be superseded`,
    );
  await trx('certificates')
    .where({ number: s.number })
    .update({
      status: 'superseded',
      status_changed_at: at,
      status_reason: s.reason.slice(0, 500),
      superseded_by: successor,
      suspended_until: null,
    });
}

/** For a list of certificates: which each replaces and which superseded it (the holder portal's chains). */
export async function versionLinks(
  db: Knex,
  numbers: readonly string[],
): Promise<Map<string, { replaces: string | null; supersededBy: string | null }>> {
  const out = new Map<string, { replaces: string | null; supersededBy: string | null }>();
  for (let i = 0; i < numbers.length; i += 500) {
    const rows = (await db('certificates')
      .whereIn('number', numbers.slice(i, i + 500))
      .select('number', 'replaces_number', 'superseded_by')) as {
      number: string;
      replaces_number: string | null;
      superseded_by: string | null;
    }[];
    for (const r of rows)
      out.set(r.number, { replaces: r.replaces_number ?? null, supersededBy: r.superseded_by ?? null });
  }
  return out;
}

/** The kind and reason of the applications that made these certificates. */
export async function kindsOf(
  db: Knex,
  applicationIds: readonly string[],
): Promise<Map<string, { kind: string; reason: string | null }>> {
  const rows = (await db('applications')
    .whereIn('id', [...applicationIds])
    .select('id', 'kind', 'kind_reason')) as { id: string; kind: string | null; kind_reason: string | null }[];
  return new Map(rows.map((r) => [r.id, { kind: r.kind ?? 'new', reason: r.kind_reason ?? null }]));
}
