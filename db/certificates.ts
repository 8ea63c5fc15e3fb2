import type { Db } from './knex';
import { isMysql, locked, toIso, withDeadlockRetry, type DbTime } from './knex';
import { appendAudit, type AuditInput } from './audit';
import { setApplicationStatus, toApplication, type ApplicationRecord } from './applications';
import type { CertificateStatus } from '../domain/certificate-record';
import { supersedeInTransaction, type Supersession } from './certificate-versions';

/**
 * Issued certificates, their catalog state and callback deliveries (numbers are allocated in
 * db/allocations.ts, PDF renditions kept in db/renditions.ts). Every write here is safe to
 * repeat: the sealing activities that call it are retried by Temporal after a crash at any point.
 */

/** DATE columns: mysql2 gives a Date at UTC midnight (timezone Z), SQLite the string written. */
const day = (v: unknown) =>
  v === null || v === undefined ? null : v instanceof Date ? v.toISOString().slice(0, 10) : String(v).slice(0, 10);

// ------------------------------------------------------------------ applications

export interface SealingApplication {
  id: string;
  typeCode: string;
  typeVersion: number;
  department: string;
  status: string;
  holderKind: 'person' | 'entity';
  holderName: string;
  holderIdHash: string;
  holderIdEncrypted: string;
  submitterType: string;
  submitterId: string;
  externalRef: string | null;
  callbackUrl: string | null;
  certificateNumber: string | null;
  kind: ApplicationRecordKind;
  replacesNumber: string | null;
  kindReason: string | null;
  faceData: Record<string, unknown>;
}

type ApplicationRecordKind = ReturnType<typeof toApplication>['kind'];

/** The application with the face data of its current revision. */
export async function getSealingApplication(db: Db, id: string): Promise<SealingApplication | undefined> {
  const r = (await db('applications as a')
    .join('application_revisions as r', (j) => j.on('r.application_id', 'a.id').andOn('r.revision', 'a.revision'))
    .where('a.id', id)
    .select('a.*', 'r.face_data')
    .first()) as (ApplicationRecord & { face_data: string }) | undefined;
  if (!r) return undefined;
  const a = toApplication(r);
  return {
    id: a.id,
    typeCode: a.typeCode,
    typeVersion: a.typeVersion,
    department: a.department,
    status: a.status,
    holderKind: a.holderKind,
    holderName: a.holderName,
    holderIdHash: a.holderIdHash,
    holderIdEncrypted: a.holderIdEncrypted,
    submitterType: a.submitter.type,
    submitterId: a.submitter.id,
    externalRef: a.externalRef,
    callbackUrl: a.callbackUrl,
    certificateNumber: a.certificateNumber,
    kind: a.kind,
    replacesNumber: a.replacesNumber,
    kindReason: a.kindReason,
    faceData: JSON.parse(r.face_data) as Record<string, unknown>,
  };
}

// ------------------------------------------------------------------ certificates

export interface CertificateRow {
  id: number;
  number: string;
  identifier: string;
  applicationId: string;
  typeCode: string;
  typeVersion: number;
  typeName: string;
  department: string;
  issuerName: string;
  issuerCode: string;
  regionCode: string;
  holderKind: 'person' | 'entity';
  holderCodeType: string;
  holderName: string;
  holderIdHash: string;
  holderIdEncrypted: string;
  faceData: Record<string, unknown>;
  issuedAt: string;
  validFrom: string;
  validUntil: string | null;
  status: CertificateStatus;
  statusChangedAt: string;
  statusReason: string | null;
  replacesNumber: string | null;
  /** The certificate that superseded this one (change, renewal, reissue; docs/lifecycle.md). */
  supersededBy: string | null;
  /** While suspended: the last day of the suspension, if it has one. */
  suspendedUntil: string | null;
  pdfSha256: string;
  docxSha256: string;
  recordSha256: string;
  record: string;
  recordSignature: string;
  signerSerial: string;
  /** Null for a certificate imported as it was (origin `imported`): certflow never sealed it. */
  sealId: number | null;
  sealName: string;
  sealedBy: string;
  sealedAt: string;
  catalogRegisteredAt: string | null;
  catalogAttempts: number;
  catalogLastError: string | null;
  catalogLastAttemptAt: string | null;
  /** `issued` by certflow's sealing, or `imported` as it was (docs/import.md). */
  origin: CertificateOrigin;
  /** An imported certificate's own number, when it was not a certflow number and one was allocated. */
  originalNumber: string | null;
}

export type CertificateOrigin = 'issued' | 'imported';

export type NewCertificate = Omit<
  CertificateRow,
  | 'id'
  | 'origin'
  | 'originalNumber'
  | 'status'
  | 'statusChangedAt'
  | 'statusReason'
  | 'replacesNumber'
  | 'supersededBy'
  | 'suspendedUntil'
  | 'catalogRegisteredAt'
  | 'catalogAttempts'
  | 'catalogLastError'
  | 'catalogLastAttemptAt'
>;

/** A row of `certificates` as the drivers return it (DATE columns: see `day`). */
interface CertificateRecord {
  id: number | string;
  number: string;
  identifier: string;
  application_id: string;
  type_code: string;
  type_version: number | string;
  type_name: string;
  department: string;
  issuer_name: string;
  issuer_code: string;
  region_code: string;
  holder_kind: string;
  holder_code_type: string;
  holder_name: string;
  holder_id_hash: string;
  holder_id_encrypted: string;
  face_data: string;
  issued_at: DbTime;
  valid_from: Date | string;
  valid_until: Date | string | null;
  status: string;
  status_changed_at: DbTime;
  status_reason: string | null;
  replaces_number: string | null;
  superseded_by?: string | null;
  suspended_until?: Date | string | null;
  pdf_sha256: string;
  docx_sha256: string;
  record_sha256: string;
  record: string;
  record_signature: string;
  signer_serial: string;
  seal_id: number | string | null;
  seal_name: string;
  sealed_by: string;
  sealed_at: DbTime;
  catalog_registered_at: DbTime | null;
  catalog_attempts: number | string;
  catalog_last_error: string | null;
  catalog_last_attempt_at: DbTime | null;
  origin?: string;
  original_number?: string | null;
}

/**
 * The listing columns: never face_data, the record or its signature (the bulky part of a
 * row). The catalog (db/catalog.ts) reads only these, so that its indexes answer it.
 */
export const LISTING_COLUMNS = [
  'id',
  'number',
  'identifier',
  'type_code',
  'type_version',
  'type_name',
  'department',
  'issuer_name',
  'region_code',
  'holder_kind',
  'holder_code_type',
  'holder_name',
  'holder_id_encrypted',
  'issued_at',
  'valid_from',
  'valid_until',
  'status',
  'status_changed_at',
] as const satisfies readonly (keyof CertificateRecord)[];

export type ListingRecord = Pick<CertificateRecord, (typeof LISTING_COLUMNS)[number]>;

export type CertificateListing = Pick<
  CertificateRow,
  | 'id'
  | 'number'
  | 'identifier'
  | 'typeCode'
  | 'typeVersion'
  | 'typeName'
  | 'department'
  | 'issuerName'
  | 'regionCode'
  | 'holderKind'
  | 'holderCodeType'
  | 'holderName'
  | 'holderIdEncrypted'
  | 'issuedAt'
  | 'validFrom'
  | 'validUntil'
  | 'status'
  | 'statusChangedAt'
>;

/** The one mapper of `certificates` rows, for the listing columns (the full row adds the rest). */
export function toCertificateListing(r: ListingRecord): CertificateListing {
  return {
    id: Number(r.id),
    number: r.number,
    identifier: r.identifier,
    typeCode: r.type_code,
    typeVersion: Number(r.type_version),
    typeName: r.type_name,
    department: r.department,
    issuerName: r.issuer_name,
    regionCode: r.region_code,
    holderKind: r.holder_kind as 'person' | 'entity',
    holderCodeType: r.holder_code_type,
    holderName: r.holder_name,
    holderIdEncrypted: r.holder_id_encrypted,
    issuedAt: toIso(r.issued_at),
    validFrom: day(r.valid_from)!,
    validUntil: day(r.valid_until),
    status: r.status as CertificateStatus,
    statusChangedAt: toIso(r.status_changed_at),
  };
}

function toCertificate(r: CertificateRecord): CertificateRow {
  const opt = (v: unknown) => (v === null || v === undefined ? null : toIso(v));
  return {
    ...toCertificateListing(r),
    applicationId: r.application_id,
    issuerCode: r.issuer_code,
    holderIdHash: r.holder_id_hash,
    faceData: JSON.parse(r.face_data) as Record<string, unknown>,
    statusReason: r.status_reason ?? null,
    replacesNumber: r.replaces_number ?? null,
    supersededBy: r.superseded_by ?? null,
    suspendedUntil: day(r.suspended_until),
    pdfSha256: r.pdf_sha256,
    docxSha256: r.docx_sha256,
    recordSha256: r.record_sha256,
    record: r.record,
    recordSignature: r.record_signature,
    signerSerial: r.signer_serial,
    sealId: r.seal_id === null ? null : Number(r.seal_id),
    sealName: r.seal_name,
    sealedBy: r.sealed_by,
    sealedAt: toIso(r.sealed_at),
    catalogRegisteredAt: opt(r.catalog_registered_at),
    catalogAttempts: Number(r.catalog_attempts),
    catalogLastError: r.catalog_last_error ?? null,
    catalogLastAttemptAt: opt(r.catalog_last_attempt_at),
    origin: r.origin === 'imported' ? 'imported' : 'issued',
    originalNumber: r.original_number ?? null,
  };
}

export async function getCertificate(db: Db, number: string): Promise<CertificateRow | undefined> {
  const r = (await db('certificates').where({ number }).first()) as CertificateRecord | undefined;
  return r ? toCertificate(r) : undefined;
}

export async function getCertificateByApplication(db: Db, applicationId: string): Promise<CertificateRow | undefined> {
  const r = (await db('certificates').where({ application_id: applicationId }).first()) as
    CertificateRecord | undefined;
  return r ? toCertificate(r) : undefined;
}

/**
 * Stores the certificate, marks the application issued and writes the audit entries — all
 * or nothing, once. A second call for the same application returns the stored row and
 * writes nothing. (The history event is the workflow's: it records 'issued' itself.)
 * With `supersede`, the certificate it replaces becomes superseded in the same transaction
 * (db/certificate-versions.ts); if it cannot be, nothing is stored.
 */
export async function storeCertificate(
  db: Db,
  c: NewCertificate,
  audit: Omit<AuditInput, 'outcome'>[],
  masterKey: Buffer,
  supersede?: Supersession,
): Promise<{ certificate: CertificateRow; created: boolean }> {
  return withDeadlockRetry(() =>
    db.transaction(async (trx) => {
      await locked(db, trx('applications').where({ id: c.applicationId }).first('id'));
      const existing = (await trx('certificates').where({ application_id: c.applicationId }).first()) as
        CertificateRecord | undefined;
      if (existing) return { certificate: toCertificate(existing), created: false };
      const now = new Date();
      await trx('certificates').insert({
        number: c.number,
        identifier: c.identifier,
        application_id: c.applicationId,
        type_code: c.typeCode,
        type_version: c.typeVersion,
        type_name: c.typeName,
        department: c.department,
        issuer_name: c.issuerName,
        issuer_code: c.issuerCode,
        region_code: c.regionCode,
        holder_kind: c.holderKind,
        holder_code_type: c.holderCodeType,
        holder_name: c.holderName,
        holder_id_hash: c.holderIdHash,
        holder_id_encrypted: c.holderIdEncrypted,
        face_data: JSON.stringify(c.faceData),
        issued_at: new Date(c.issuedAt),
        valid_from: c.validFrom,
        valid_until: c.validUntil,
        status: 'valid',
        status_changed_at: new Date(c.issuedAt),
        replaces_number: supersede?.number ?? null,
        pdf_sha256: c.pdfSha256,
        docx_sha256: c.docxSha256,
        record_sha256: c.recordSha256,
        record: c.record,
        record_signature: c.recordSignature,
        signer_serial: c.signerSerial,
        seal_id: c.sealId,
        seal_name: c.sealName,
        sealed_by: c.sealedBy,
        sealed_at: new Date(c.sealedAt),
        catalog_attempts: 0,
        created_at: now,
      });
      if (supersede) await supersedeInTransaction(trx, isMysql(db), supersede, c.number, now);
      await setApplicationStatus(trx, c.applicationId, 'issued', now);
      // Inside this transaction (a savepoint): the audit entries exist exactly when the certificate does.
      for (const entry of audit) await appendAudit(trx, { ...entry, outcome: 'success' }, masterKey);
      const stored = (await trx('certificates')
        .where({ application_id: c.applicationId })
        .first()) as CertificateRecord;
      return { certificate: toCertificate(stored), created: true };
    }),
  );
}

// ------------------------------------------------------------------ catalog

export async function recordCatalogAttempt(
  db: Db,
  number: string,
  outcome: { ok: true } | { ok: false; error: string },
): Promise<void> {
  const now = new Date();
  await db('certificates')
    .where({ number })
    .update({
      catalog_attempts: db.raw('catalog_attempts + 1'),
      catalog_last_attempt_at: now,
      ...(outcome.ok
        ? { catalog_registered_at: now, catalog_last_error: null }
        : { catalog_last_error: outcome.error.slice(0, 1000) }),
    });
}

/** Stored but not registered after at least one attempt, oldest first; keyset-paged by id. */
export async function listCatalogFailed(
  db: Db,
  q: { departments?: string[]; afterId?: number; limit: number },
): Promise<{ items: CertificateRow[]; nextCursor: number | null }> {
  const query = db('certificates')
    .whereNull('catalog_registered_at')
    .where('catalog_attempts', '>', 0)
    .orderBy('id')
    .limit(q.limit + 1);
  if (q.departments) query.whereIn('department', q.departments);
  if (q.afterId !== undefined) query.where('id', '>', q.afterId);
  const rows = ((await query) as CertificateRecord[]).map(toCertificate);
  const items = rows.slice(0, q.limit);
  return { items, nextCursor: rows.length > q.limit ? items[items.length - 1]!.id : null };
}

// ------------------------------------------------------------------ callbacks

// Attempts made before the outbox (db/outbox.ts, migration 008): read only, so in-flight runs are not called twice.

export async function wasCallbackDelivered(db: Db, applicationId: string): Promise<boolean> {
  return Boolean(
    await db('callback_deliveries').where({ application_id: applicationId, outcome: 'delivered' }).first('id'),
  );
}

export async function listCallbackDeliveries(db: Db, applicationId: string) {
  return db('callback_deliveries').where({ application_id: applicationId }).orderBy('id');
}

/**
 * Every certificate of one holder (by the holder-ID lookup hash), across departments, for the
 * holder portal (docs/holders.md): valid ones ending soonest first, then permanent ones, then the
 * rest (expired, revoked, cancelled) newest first. Served by the certificates_holder index.
 */
export async function listHolderCertificates(db: Db, holderHash: string, limit = 500): Promise<CertificateListing[]> {
  const rows = (await db('certificates')
    .where('holder_id_hash', holderHash)
    .select(LISTING_COLUMNS)
    .limit(limit)) as ListingRecord[];
  const rank = (c: CertificateListing) => (c.status !== 'valid' ? 2 : c.validUntil ? 0 : 1);
  return rows.map(toCertificateListing).sort((a, b) => {
    const r = rank(a) - rank(b);
    if (r) return r;
    if (rank(a) === 0) return a.validUntil!.localeCompare(b.validUntil!);
    return b.issuedAt.localeCompare(a.issuedAt);
  });
}
