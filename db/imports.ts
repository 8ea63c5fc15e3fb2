import type { Knex } from 'knex';
import type { Db } from './knex';
import { isMysql, toIso } from './knex';
import { appendAudit, type AuditInput } from './audit';
import { withDeadlockRetry } from './knex';
import { parseCertificateNumber } from '../domain/certificate-number';

/**
 * Bulk imports of existing certificates (docs/import.md, migration 020): the import, its
 * row-level results, and the batch write that makes a row's certificate and its result one
 * transaction, keyed by (import id, row number), so that no row is ever imported twice.
 */

type DbTime = Date | string | number;

export type ImportStatusName = 'pending' | 'running' | 'completed' | 'failed';

interface ImportRecord {
  id: string;
  department: string;
  type_code: string;
  type_version: number | string;
  format: string;
  file_name: string;
  file_sha256: string;
  status: string;
  error: string | null;
  total_rows: number | string | null;
  rows_done: number | string;
  imported: number | string;
  rejected: number | string;
  workflow_id: string;
  created_by: string;
  dedupe_key: string | null;
  created_at: DbTime;
  started_at: DbTime | null;
  finished_at: DbTime | null;
}

export interface CertificateImport {
  id: string;
  department: string;
  typeCode: string;
  typeVersion: number;
  format: 'csv' | 'xlsx';
  fileName: string;
  fileSha256: string;
  status: ImportStatusName;
  error: string | null;
  totalRows: number | null;
  rowsDone: number;
  imported: number;
  rejected: number;
  workflowId: string;
  createdBy: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

function toImport(r: ImportRecord): CertificateImport {
  return {
    id: r.id,
    department: r.department,
    typeCode: r.type_code,
    typeVersion: Number(r.type_version),
    format: r.format as 'csv' | 'xlsx',
    fileName: r.file_name,
    fileSha256: r.file_sha256,
    status: r.status as ImportStatusName,
    error: r.error ?? null,
    totalRows: r.total_rows === null ? null : Number(r.total_rows),
    rowsDone: Number(r.rows_done),
    imported: Number(r.imported),
    rejected: Number(r.rejected),
    workflowId: r.workflow_id,
    createdBy: r.created_by,
    createdAt: toIso(r.created_at),
    startedAt: r.started_at === null ? null : toIso(r.started_at),
    finishedAt: r.finished_at === null ? null : toIso(r.finished_at),
  };
}

export type NewImport = Pick<
  CertificateImport,
  'id' | 'department' | 'typeCode' | 'typeVersion' | 'format' | 'fileName' | 'fileSha256' | 'workflowId' | 'createdBy'
> & { dedupeKey: string | null };

export async function insertImport(db: Db, i: NewImport): Promise<void> {
  await db('certificate_imports').insert({
    id: i.id,
    department: i.department,
    type_code: i.typeCode,
    type_version: i.typeVersion,
    format: i.format,
    file_name: i.fileName,
    file_sha256: i.fileSha256,
    status: 'pending',
    workflow_id: i.workflowId,
    created_by: i.createdBy,
    dedupe_key: i.dedupeKey,
    created_at: new Date(),
  });
}

export async function getImport(db: Db, id: string): Promise<CertificateImport | undefined> {
  const r = (await db('certificate_imports').where({ id }).first()) as ImportRecord | undefined;
  return r ? toImport(r) : undefined;
}

export async function findImportByDedupeKey(db: Db, key: string): Promise<CertificateImport | undefined> {
  const r = (await db('certificate_imports').where({ dedupe_key: key }).first()) as ImportRecord | undefined;
  return r ? toImport(r) : undefined;
}

export async function deleteUnstartedImport(db: Db, id: string): Promise<void> {
  await db('certificate_imports').where({ id, status: 'pending', rows_done: 0 }).delete();
}

/** Newest first; `departments` null: all. */
export async function listImports(db: Db, departments: string[] | null, limit = 50): Promise<CertificateImport[]> {
  const q = db('certificate_imports').orderBy('created_at', 'desc').limit(limit);
  if (departments) q.whereIn('department', departments);
  return ((await q) as ImportRecord[]).map(toImport);
}

/** The file was counted: running, with its total; the first start time is kept across retries. */
export async function markImportRunning(db: Db, id: string, totalRows: number): Promise<void> {
  await db('certificate_imports').where({ id }).whereNull('started_at').update({ started_at: new Date() });
  await db('certificate_imports')
    .where({ id })
    .whereIn('status', ['pending', 'running'])
    .update({ status: 'running', total_rows: totalRows });
}

export async function finishImport(
  db: Db,
  id: string,
  outcome: { status: 'completed' } | { status: 'failed'; error: string },
) {
  await db('certificate_imports')
    .where({ id })
    .whereIn('status', ['pending', 'running'])
    .update({
      status: outcome.status,
      error: 'error' in outcome ? outcome.error.slice(0, 1000) : null,
      finished_at: new Date(),
    });
}

// ------------------------------------------------------------------ rows

export interface ImportRowResult {
  rowNumber: number;
  outcome: 'imported' | 'rejected';
  certificateNumber: string | null;
  field: string | null;
  reason: string | null;
}

/** Row results in file order, a page at a time (keyset on the row number). */
export async function listImportRows(db: Db, importId: string, afterRow = 0, limit = 5000): Promise<ImportRowResult[]> {
  const rows = (await db('certificate_import_rows')
    .where({ import_id: importId })
    .where('row_number', '>', afterRow)
    .orderBy('row_number')
    .limit(limit)) as {
    row_number: number | string;
    outcome: string;
    certificate_number: string | null;
    field: string | null;
    reason: string | null;
  }[];
  return rows.map((r) => ({
    rowNumber: Number(r.row_number),
    outcome: r.outcome as 'imported' | 'rejected',
    certificateNumber: r.certificate_number,
    field: r.field,
    reason: r.reason,
  }));
}

/** A certificate made from one row: everything but the number and identifier when those are to be allocated. */
export interface ImportedCertificate {
  rowNumber: number;
  /** Kept from the file; absent: allocated from the counter of `year`. */
  number?: string;
  identifier?: string;
  year: number;
  /** The `applications` row (mode `import`) and its revision's face data. */
  application: Record<string, unknown>;
  faceData: string;
  /** The `certificates` row without number, identifier and application_id. */
  certificate: Record<string, unknown>;
}

export interface ImportBatch {
  importId: string;
  typeCode: string;
  regionCode: string;
  /** The certflow number and GB/T 36904 identifier of a serial taken from the counter. */
  format(year: number, serial: number): { number: string; identifier: string };
  certificates: ImportedCertificate[];
  rejected: { rowNumber: number; field: string; reason: string }[];
  audit: Omit<AuditInput, 'outcome'>;
}

/**
 * Takes `count` serials from the counter issuance uses (db/allocations.ts allocateNumber), in
 * one upsert that holds the counter row until the transaction ends; returns the first.
 */
export async function takeSerials(
  trx: Knex.Transaction,
  k: { typeCode: string; regionCode: string; year: number },
  count: number,
): Promise<number> {
  const key = { type_code: k.typeCode, region_code: k.regionCode, year: k.year };
  await trx('certificate_numbers')
    .insert({ ...key, last_serial: count })
    .onConflict(['type_code', 'region_code', 'year'])
    .merge({ last_serial: trx.raw('last_serial + ?', [count]) });
  const counter = (await trx('certificate_numbers').where(key).first('last_serial')) as {
    last_serial: number | string;
  };
  return Number(counter.last_serial) - count + 1;
}

/**
 * Kept certflow-format numbers raise their (type, region, year) counter to at least their serial,
 * so a number allocated later can never be one already kept.
 */
export async function raiseCounters(trx: Knex.Transaction, numbers: string[]): Promise<void> {
  const highest = new Map<string, { type_code: string; region_code: string; year: number; serial: number }>();
  for (const n of numbers) {
    const p = parseCertificateNumber(n);
    if (!p.ok) continue;
    const k = `${p.value.typeCode}|${p.value.region}|${p.value.year}`;
    const serial = Math.max(highest.get(k)?.serial ?? 0, p.value.serial);
    highest.set(k, { type_code: p.value.typeCode, region_code: p.value.region, year: p.value.year, serial });
  }
  const max = isMysql(trx) ? 'GREATEST' : 'MAX';
  for (const { serial, ...key } of highest.values()) {
    await trx('certificate_numbers')
      .insert({ ...key, last_serial: serial })
      .onConflict(['type_code', 'region_code', 'year'])
      .merge({ last_serial: trx.raw(`${max}(last_serial, ?)`, [serial]) });
  }
}

const CHUNK = 250;

async function insertChunked(trx: Knex.Transaction, table: string, rows: Record<string, unknown>[]) {
  for (let i = 0; i < rows.length; i += CHUNK) await trx(table).insert(rows.slice(i, i + CHUNK));
}

/**
 * Writes one batch in one transaction: the certificates (with their `applications` rows), every
 * row's result, the import's counters and one audit entry. Rows whose result already exists
 * (a batch retried after a crash, or run twice at once) are skipped; a kept number or
 * identifier that is already registered, or repeats within the batch, rejects its row. Numbers
 * to allocate are taken from the same counter as issuance's, `+ k` in one upsert.
 */
export async function writeImportBatch(
  db: Db,
  b: ImportBatch,
  masterKey: Buffer,
): Promise<{ imported: number; rejected: number; skipped: number }> {
  return withDeadlockRetry(() =>
    db.transaction(async (trx) => {
      // One batch of an import at a time: a second attempt waits here, then finds the rows done.
      const lock = trx('certificate_imports').where({ id: b.importId }).first('id');
      await (isMysql(db) ? lock.forUpdate() : lock);
      const rowNumbers = [...b.certificates.map((c) => c.rowNumber), ...b.rejected.map((r) => r.rowNumber)];
      const done = new Set<number>();
      for (let i = 0; i < rowNumbers.length; i += 500) {
        const got = (await trx('certificate_import_rows')
          .where({ import_id: b.importId })
          .whereIn('row_number', rowNumbers.slice(i, i + 500))
          .select('row_number')) as { row_number: number | string }[];
        got.forEach((r) => done.add(Number(r.row_number)));
      }
      const results: Record<string, unknown>[] = [];
      const reject = (rowNumber: number, field: string, reason: string) =>
        results.push({
          import_id: b.importId,
          row_number: rowNumber,
          outcome: 'rejected',
          field,
          reason: reason.slice(0, 500),
        });
      for (const r of b.rejected) if (!done.has(r.rowNumber)) reject(r.rowNumber, r.field, r.reason);

      // Kept numbers and identifiers: unique in the catalog and within the batch.
      const todo = b.certificates.filter((c) => !done.has(c.rowNumber));
      const taken = async (column: 'number' | 'identifier', values: string[]) => {
        const found = new Set<string>();
        for (let i = 0; i < values.length; i += 500) {
          const got = (await trx('certificates')
            .whereIn(column, values.slice(i, i + 500))
            .select(column)) as Record<string, string>[];
          got.forEach((r) => found.add(r[column]!));
        }
        return found;
      };
      const numbersTaken = await taken(
        'number',
        todo.flatMap((c) => (c.number ? [c.number] : [])),
      );
      const identifiersTaken = await taken(
        'identifier',
        todo.flatMap((c) => (c.identifier ? [c.identifier] : [])),
      );
      const seenNumber = new Map<string, number>();
      const seenIdentifier = new Map<string, number>();
      const accepted: ImportedCertificate[] = [];
      for (const c of todo) {
        if (c.number && numbersTaken.has(c.number)) reject(c.rowNumber, 'number', `${c.number} is already registered`);
        else if (c.number && seenNumber.has(c.number))
          reject(c.rowNumber, 'number', `${c.number} repeats row ${seenNumber.get(c.number)}`);
        else if (c.identifier && identifiersTaken.has(c.identifier))
          reject(c.rowNumber, 'identifier', `${c.identifier} is already registered`);
        else if (c.identifier && seenIdentifier.has(c.identifier))
          reject(c.rowNumber, 'identifier', `${c.identifier} repeats row ${seenIdentifier.get(c.identifier)}`);
        else {
          if (c.number) seenNumber.set(c.number, c.rowNumber);
          if (c.identifier) seenIdentifier.set(c.identifier, c.rowNumber);
          accepted.push(c);
        }
      }

      await raiseCounters(
        trx,
        accepted.flatMap((c) => (c.number ? [c.number] : [])),
      );
      // Serials for rows that lack a number or an identifier, per year of issue.
      const needing = new Map<number, ImportedCertificate[]>();
      for (const c of accepted) {
        if (c.number && c.identifier) continue;
        needing.set(c.year, [...(needing.get(c.year) ?? []), c]);
      }
      const assigned = new Map<number, { number: string; identifier: string }>();
      for (const [year, list] of needing) {
        const first = await takeSerials(trx, { typeCode: b.typeCode, regionCode: b.regionCode, year }, list.length);
        list.forEach((c, i) => assigned.set(c.rowNumber, b.format(year, first + i)));
      }

      const apps: Record<string, unknown>[] = [];
      const revisions: Record<string, unknown>[] = [];
      const certificates: Record<string, unknown>[] = [];
      for (const c of accepted) {
        const made = assigned.get(c.rowNumber);
        const number = c.number ?? made!.number;
        const identifier = c.identifier ?? made!.identifier;
        const appId = c.application.id as string;
        apps.push({ ...c.application, certificate_number: number });
        revisions.push({
          application_id: appId,
          revision: 1,
          face_data: c.faceData,
          created_by: c.application.submitter_name ?? c.application.submitter_id,
          created_at: c.application.created_at,
        });
        certificates.push({ ...c.certificate, number, identifier, application_id: appId });
        results.push({
          import_id: b.importId,
          row_number: c.rowNumber,
          outcome: 'imported',
          certificate_number: number,
        });
      }
      await insertChunked(trx, 'applications', apps);
      await insertChunked(trx, 'application_revisions', revisions);
      await insertChunked(trx, 'certificates', certificates);
      await insertChunked(trx, 'certificate_import_rows', results);
      const imported = accepted.length;
      const rejected = results.length - imported;
      await trx('certificate_imports')
        .where({ id: b.importId })
        .update({
          rows_done: trx.raw('rows_done + ?', [results.length]),
          imported: trx.raw('imported + ?', [imported]),
          rejected: trx.raw('rejected + ?', [rejected]),
        });
      if (results.length) {
        await appendAudit(
          trx,
          { ...b.audit, outcome: 'success', detail: { ...b.audit.detail, imported, rejected }, holderHash: null },
          masterKey,
        );
      }
      return { imported, rejected, skipped: done.size };
    }),
  );
}

// ------------------------------------------------------------------ attachments

export interface Attachment {
  kind: 'original-pdf' | 'original-signature';
  blobSha256: string;
  contentType: string;
}

export async function listAttachments(db: Db, applicationId: string): Promise<Attachment[]> {
  const rows = (await db('certificate_attachments').where({ application_id: applicationId }).orderBy('kind')) as {
    kind: string;
    blob_sha256: string;
    content_type: string;
  }[];
  return rows.map((r) => ({
    kind: r.kind as Attachment['kind'],
    blobSha256: r.blob_sha256,
    contentType: r.content_type,
  }));
}

export const attachmentRows = (applicationId: string, list: Attachment[], at: Date) =>
  list.map((a) => ({
    application_id: applicationId,
    kind: a.kind,
    blob_sha256: a.blobSha256,
    content_type: a.contentType,
    created_at: at,
  }));
