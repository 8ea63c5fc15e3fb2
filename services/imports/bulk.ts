import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { ServiceDeps } from '../deps';
import { invalidError, notFoundError, ServiceError } from '../errors';
import type { AuditTrail } from '../issuance/submit';
import { placeholderIssuerCode } from '../issuance/sealing';
import { cachedImportTable, readImportTable, rowCells, type ImportFormat } from './files';
import { getType, getTypeId, getTypeVersion } from '../../db/certificate-types';
import { getDepartment } from '../../db/org';
import {
  deleteUnstartedImport,
  findImportByDedupeKey,
  finishImport,
  getImport,
  insertImport,
  listImportRows,
  markImportRunning,
  writeImportBatch,
  type CertificateImport,
  type ImportedCertificate,
} from '../../db/imports';
import { checkImportHeader, importProgress, importRowChecker } from '../../domain/imports';
import { chinaDate } from '../../domain/calendar';
import { formatCertificateNumber } from '../../domain/certificate-number';
import { buildIdentifier, buildTypeCode } from '../../domain/identifier';
import { HOLDER_CODE_TYPES } from '../../domain/holder';
import type { ActorRef } from '../../domain/issuance';
import { createHolderCrypto } from '../../platform/holder-crypto';
import { createFaceCrypto } from '../../platform/face-crypto';
import { certificateImportWorkflow, type CertificateImportInput } from '../../workflows/imports';

/**
 * Bulk import of certificates issued before certflow (docs/import.md): the upload (file checked,
 * stored as a blob, workflow started) and the steps the workflow runs as activities — count the
 * rows, import a batch, finish. Each batch is idempotent by (import id, row number), so a worker
 * killed at any point and Temporal's retry import every row exactly once.
 */

export type ImportDeps = Pick<ServiceDeps, 'db' | 'blobs' | 'masterKey' | 'config' | 'logger'>;

export interface BulkUpload {
  submitter: ActorRef;
  typeCode: string;
  format: ImportFormat;
  fileName: string;
  bytes: Buffer;
  idempotencyKey: string;
}

/** How long an upload waits for Temporal to take the workflow (like submissions: services/issuance/submit.ts). */
const START_DEADLINE_MS = 5000;

export const importWorkflowId = (id: string) => `certificate-import-${id}`;

/** The published version of a type, for an import. */
async function publishedType(deps: Pick<ServiceDeps, 'db'>, typeCode: string) {
  const type = await getType(deps.db, typeCode);
  if (!type)
    throw invalidError('Unknown certificate type', [{ field: 'typeCode', message: `no certificate type ${typeCode}` }]);
  if (type.status !== 'published' || type.publishedVersion === null)
    throw invalidError(`Certificate type ${type.code} is ${type.status}; imports need a published type`, [
      { field: 'typeCode', message: type.status },
    ]);
  return { type, version: (await getTypeVersion(deps.db, type.code, type.publishedVersion))! };
}

/** The type an upload names (its department decides who may import: api/routes/imports.ts). */
export async function importType(deps: Pick<ServiceDeps, 'db'>, typeCode: string) {
  return (await publishedType(deps, typeCode)).type;
}

/**
 * Checks the file's header against the type (422 naming each bad column), stores the file and
 * starts the import workflow. The same Idempotency-Key returns the first import.
 */
export async function startBulkImport(
  deps: ImportDeps & { temporal: Client },
  u: BulkUpload,
  audit: AuditTrail,
): Promise<{ import: CertificateImport; created: boolean }> {
  const key = u.idempotencyKey.trim();
  if (key.length > 100)
    throw invalidError('Idempotency-Key is too long', [
      { field: 'Idempotency-Key', message: 'at most 100 characters' },
    ]);
  const dedupeKey = key ? `${u.submitter.type}:${u.submitter.id}:import:${key}` : null;
  const earlier = dedupeKey ? await findImportByDedupeKey(deps.db, dedupeKey) : undefined;
  if (earlier) {
    await ensureStarted(deps, earlier);
    return { import: earlier, created: false };
  }
  const { type, version } = await publishedType(deps, u.typeCode);
  const table = await readImportTable(u.format, u.bytes);
  const errors = checkImportHeader(version, table.header);
  if (errors.length) throw invalidError('The file does not fit the certificate type', errors, 'BadImportFile');

  const id = randomUUID();
  const sha = await deps.blobs.put(u.bytes);
  try {
    await insertImport(deps.db, {
      id,
      department: type.department,
      typeCode: type.code,
      typeVersion: version.version,
      format: u.format,
      fileName: u.fileName,
      fileSha256: sha,
      workflowId: importWorkflowId(id),
      createdBy: u.submitter.name,
      dedupeKey,
    });
  } catch (err) {
    const winner = dedupeKey ? await findImportByDedupeKey(deps.db, dedupeKey) : undefined;
    if (winner) return { import: winner, created: false };
    throw err;
  }
  const row = (await getImport(deps.db, id))!;
  try {
    await ensureStarted(deps, row);
  } catch (err) {
    await deleteUnstartedImport(deps.db, id);
    throw err;
  }
  await audit({
    category: 'operation',
    action: 'certificate-import.create',
    outcome: 'success',
    department: type.department,
    object: { type: 'certificate-import', id },
    detail: { typeCode: type.code, format: u.format, fileName: u.fileName, sha256: sha, rows: table.rows.length },
  });
  return { import: row, created: true };
}

async function ensureStarted(deps: { config: ImportDeps['config']; temporal: Client }, i: CertificateImport) {
  const input: CertificateImportInput = { importId: i.id, typeCode: i.typeCode, department: i.department };
  try {
    await deps.temporal.connection.withDeadline(Date.now() + START_DEADLINE_MS, () =>
      deps.temporal.workflow.start(certificateImportWorkflow, {
        taskQueue: deps.config.temporal.taskQueue,
        workflowId: i.workflowId,
        args: [input],
        // What the Web UI shows: type, department, ids and counts, never a holder's data.
        staticSummary: `导入 ${i.typeCode} · ${i.department} · ${i.fileName}`.slice(0, 200),
        staticDetails: [
          `**Bulk import** of ${i.typeCode} v${i.typeVersion} certificates (docs/import.md)`,
          `- import: ${i.id}`,
          `- department: ${i.department}`,
          `- file: ${i.format}, sha256 ${i.fileSha256}`,
          '- progress: the memo `progress` and the current details',
        ].join('\n'),
      }),
    );
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return;
    throw new ServiceError(
      'unavailable',
      `The workflow service is not reachable; try again shortly (${(err as Error).message})`,
      {
        code: 'TemporalUnavailable',
        retryAfter: 10,
      },
    );
  }
}

/** The import as the API shows it: counters plus rate and ETA. */
export function importView(i: CertificateImport, nowMs = Date.now()) {
  const progress = importProgress({
    total: i.totalRows,
    done: i.rowsDone,
    startedAtMs: i.startedAt ? Date.parse(i.startedAt) : null,
    nowMs: i.finishedAt ? Date.parse(i.finishedAt) : nowMs,
  });
  return {
    id: i.id,
    typeCode: i.typeCode,
    typeVersion: i.typeVersion,
    department: i.department,
    fileName: i.fileName,
    format: i.format,
    status: i.status,
    error: i.error,
    workflowId: i.workflowId,
    createdBy: i.createdBy,
    createdAt: i.createdAt,
    startedAt: i.startedAt,
    finishedAt: i.finishedAt,
    imported: i.imported,
    rejected: i.rejected,
    progress,
  };
}

export interface BatchResult {
  total: number;
  rowsDone: number;
  imported: number;
  rejected: number;
  startedAt: string | null;
}

/** The activities of certificateImportWorkflow. `beat` heartbeats (Temporal), a no-op elsewhere. */
export function importSteps(deps: ImportDeps, beat: () => void = () => {}) {
  const { db, blobs } = deps;
  const holders = createHolderCrypto(deps.masterKey);
  const faces = createFaceCrypto(deps.masterKey);

  async function load(importId: string) {
    const i = await getImport(db, importId);
    if (!i) throw notFoundError(`no import ${importId}`);
    const table = await cachedImportTable(i.fileSha256, i.format, () => blobs.get(i.fileSha256));
    beat();
    return { i, table };
  }

  const counters = (i: CertificateImport): BatchResult => ({
    total: i.totalRows ?? 0,
    rowsDone: i.rowsDone,
    imported: i.imported,
    rejected: i.rejected,
    startedAt: i.startedAt,
  });

  return {
    /** Counts the rows and marks the import running; the first start time is kept. */
    async prepareImport(importId: string): Promise<BatchResult> {
      const { table } = await load(importId);
      await markImportRunning(db, importId, table.rows.length);
      return counters((await getImport(db, importId))!);
    },

    /** Imports rows [fromRow, fromRow + limit); rows already done are skipped. */
    async importBatch(input: { importId: string; fromRow: number; limit: number }): Promise<BatchResult> {
      const { i, table } = await load(input.importId);
      const version = await getTypeVersion(db, i.typeCode, i.typeVersion);
      const typeId = await getTypeId(db, i.typeCode);
      const department = await getDepartment(db, i.department);
      if (!version || typeId === undefined || !department)
        throw notFoundError(`type ${i.typeCode} v${i.typeVersion} or department ${i.department} is gone`);
      if (typeId > 999)
        throw new ServiceError('invalid', `type ${i.typeCode} needs a national type code`, { code: 'NoTypeCode' });
      const issuerCode = department.creditCode ?? placeholderIssuerCode(department.regionCode, department.id);
      const today = chinaDate(Date.now());
      const now = new Date();
      const certificates: ImportedCertificate[] = [];
      const rejected: { rowNumber: number; field: string; reason: string }[] = [];
      const checkRow = importRowChecker(version);
      const last = Math.min(table.rows.length, input.fromRow + input.limit - 1);
      for (let n = input.fromRow; n <= last; n++) {
        const check = checkRow(rowCells(table.header, table.rows[n - 1]!), today);
        if (!check.ok) {
          rejected.push({ rowNumber: n, field: check.field, reason: check.reason });
          continue;
        }
        const r = check.row;
        const appId = randomUUID();
        const issuedAt = new Date(`${r.issueDate}T00:00:00+08:00`);
        const faceData = JSON.stringify(faces.seal(version.faceFields, r.faceData));
        const holder = { hash: holders.lookupHash(r.holder.id), encrypted: holders.encrypt(r.holder.id) };
        certificates.push({
          rowNumber: n,
          ...(r.number ? { number: r.number } : {}),
          ...(r.identifier ? { identifier: r.identifier } : {}),
          year: Number(r.issueDate.slice(0, 4)),
          faceData,
          application: {
            id: appId,
            type_code: i.typeCode,
            type_version: i.typeVersion,
            department: i.department,
            mode: 'import',
            status: 'issued',
            holder_kind: r.holder.kind,
            holder_name: r.holder.name,
            holder_id_hash: holder.hash,
            holder_id_encrypted: holder.encrypted,
            revision: 1,
            submitter_type: 'system',
            submitter_id: `import:${i.id}`.slice(0, 64),
            submitter_name: i.createdBy,
            workflow_id: i.workflowId,
            created_at: now,
            updated_at: now,
          },
          certificate: {
            type_code: i.typeCode,
            type_version: i.typeVersion,
            type_name: version.name,
            department: i.department,
            issuer_name: department.name,
            issuer_code: issuerCode,
            region_code: department.regionCode,
            holder_kind: r.holder.kind,
            holder_code_type: HOLDER_CODE_TYPES[r.holder.kind],
            holder_name: r.holder.name,
            holder_id_hash: holder.hash,
            holder_id_encrypted: holder.encrypted,
            face_data: faceData,
            issued_at: issuedAt,
            valid_from: r.validFrom,
            valid_until: r.validUntil,
            status: r.status,
            status_changed_at: r.status === 'valid' ? issuedAt : now,
            status_reason: r.status === 'valid' ? null : `imported as ${r.status} (import ${i.id}, row ${n})`,
            // Registered as it was: no certflow PDF, record or seal (docs/import.md).
            pdf_sha256: '',
            docx_sha256: '',
            record_sha256: '',
            record: '',
            record_signature: '',
            signer_serial: '',
            seal_id: null,
            seal_name: '',
            sealed_by: i.createdBy,
            sealed_at: issuedAt,
            catalog_attempts: 0,
            created_at: now,
            origin: 'imported',
            original_number: r.originalNumber ?? null,
          },
        });
      }
      const typeCode = buildTypeCode(issuerCode, typeId);
      await writeImportBatch(
        db,
        {
          importId: i.id,
          typeCode: i.typeCode,
          regionCode: department.regionCode,
          format: (year, serial) => ({
            number: formatCertificateNumber({ typeCode: i.typeCode, region: department.regionCode, year, serial }),
            identifier: buildIdentifier({
              typeCode,
              issuerCode,
              serial: `${year}${String(serial).padStart(7, '0')}`,
              version: 1,
            }),
          }),
          certificates,
          rejected,
          audit: {
            category: 'storing',
            action: 'certificate-import.batch',
            actor: { type: 'system', id: null, name: 'certificate-import' },
            department: i.department,
            object: { type: 'certificate-import', id: i.id },
            detail: { rows: `${input.fromRow}-${last}`, importedBy: i.createdBy },
          },
        },
        deps.masterKey,
      );
      return counters((await getImport(db, i.id))!);
    },

    /** Marks the import completed (or failed, with the reason the workflow got). */
    async finishImport(input: { importId: string; error?: string }): Promise<BatchResult> {
      await finishImport(
        db,
        input.importId,
        input.error ? { status: 'failed', error: input.error } : { status: 'completed' },
      );
      const i = await getImport(db, input.importId);
      if (!i) throw notFoundError(`no import ${input.importId}`);
      return counters(i);
    },
  };
}

export type ImportSteps = ReturnType<typeof importSteps>;

/** The row-level report as CSV: every row, imported with its number or rejected with field and reason. */
export async function importReportCsv(deps: Pick<ServiceDeps, 'db'>, importId: string): Promise<string> {
  const quote = (v: string | number | null) => {
    const s = v === null ? '' : String(v);
    // Also defuses spreadsheet formulas: a cell starting with = + - @ is kept as text.
    const safe = /^[=+\-@]/.test(s) ? `'${s}` : s;
    return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  const lines = ['row,outcome,certificateNumber,field,reason'];
  for (let after = 0; ;) {
    const page = await listImportRows(deps.db, importId, after);
    if (page.length === 0) break;
    for (const r of page)
      lines.push([r.rowNumber, r.outcome, r.certificateNumber, r.field, r.reason].map(quote).join(','));
    after = page[page.length - 1]!.rowNumber;
  }
  return '\uFEFF' + lines.join('\r\n') + '\r\n';
}
