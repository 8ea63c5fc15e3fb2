import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { ServiceDeps } from '../deps';
import { conflictError, invalidError, ServiceError, type FieldError } from '../errors';
import type { AuditTrail } from '../issuance/submit';
import { workflowInput } from '../issuance/submit';
import { placeholderIssuerCode } from '../issuance/sealing';
import { resolveSeal } from '../trust/seals';
import { TrustError } from '../trust/pki';
import { createHolderCrypto } from '../../platform/holder-crypto';
import { createFaceCrypto } from '../../platform/face-crypto';
import { getType, getTypeId, getTypeVersion } from '../../db/certificate-types';
import { getDepartment } from '../../db/org';
import { findByDedupeKey, getApplication, insertApplication, type ApplicationRow } from '../../db/applications';
import { getCertificateByApplication } from '../../db/certificates';
import { listAttachments, type Attachment } from '../../db/imports';
import { reserveImportedNumber, storeImportedCertificate, type NumberPlan } from '../../db/imported-certificates';
import { IMPORT_COLUMNS, importRowChecker } from '../../domain/imports';
import { chinaDate } from '../../domain/calendar';
import { formatCertificateNumber } from '../../domain/certificate-number';
import { buildIdentifier, buildTypeCode } from '../../domain/identifier';
import { HOLDER_CODE_TYPES, type HolderKind } from '../../domain/holder';
import type { ActorRef } from '../../domain/issuance';
import { issuanceRunText } from '../../domain/operations';
import { issuanceWorkflow } from '../../workflows/issuance';

/**
 * Mode 3 of the proposal (docs/import.md): a business system hands over one certificate made
 * elsewhere — face data, its original PDF and signature — and certflow takes it into the
 * catalog, per the type's `importMode`: registered as it was (origin `imported`), or sealed anew
 * through the normal sealing pipeline with the original kept as an attachment. Its number is kept
 * when it has one and it is free; a taken one is refused (409), never silently replaced.
 */

export interface SingleImport {
  submitter: ActorRef;
  typeCode: string;
  holder: { kind: HolderKind; id: string; name: string };
  faceData: Record<string, unknown>;
  number?: string;
  identifier?: string;
  issueDate: string;
  validFrom?: string;
  validUntil?: string;
  status?: string;
  pdf: Buffer;
  signature?: Buffer;
  externalRef?: string;
  idempotencyKey: string;
}

export type SingleImportDeps = Pick<ServiceDeps, 'db' | 'blobs' | 'masterKey' | 'config'> & { temporal: Client };

export interface ImportedView {
  applicationId: string;
  number: string | null;
  identifier: string | null;
  /** `imported` (registered as it was) or `issued` (a certflow rendition, once sealed). */
  origin: 'imported' | 'issued';
  status: string;
  attachments: { kind: string; sha256: string }[];
}

/** Column → the request field it came from, so a refusal names what the caller sent. */
const FIELD_OF: Record<string, string> = {
  holderName: 'holder.name',
  holderId: 'holder.id',
  issueDate: 'issueDate',
  validFrom: 'validFrom',
  validUntil: 'validUntil',
  number: 'number',
  identifier: 'identifier',
  status: 'status',
};
const requestField = (column: string) =>
  (IMPORT_COLUMNS as readonly string[]).includes(column) ? FIELD_OF[column]! : `faceData.${column}`;

export async function importType(deps: Pick<ServiceDeps, 'db'>, typeCode: string) {
  const type = await getType(deps.db, typeCode);
  if (!type)
    throw invalidError('Unknown certificate type', [{ field: 'typeCode', message: `no certificate type ${typeCode}` }]);
  return type;
}

export async function importCertificate(
  deps: SingleImportDeps,
  s: SingleImport,
  audit: AuditTrail,
): Promise<{ view: ImportedView; created: boolean }> {
  const me = s.submitter;
  const key = s.idempotencyKey.trim();
  if (key.length > 100)
    throw invalidError('Idempotency-Key is too long', [
      { field: 'Idempotency-Key', message: 'at most 100 characters' },
    ]);
  const dedupeKey = key
    ? `${me.type}:${me.id}:import-key:${key}`
    : s.externalRef
      ? `${me.type}:${me.id}:import-ref:${s.externalRef}`
      : null;
  const earlier = dedupeKey ? await findByDedupeKey(deps.db, dedupeKey) : undefined;
  if (earlier) return { view: await viewOf(deps, earlier), created: false };

  const type = await importType(deps, s.typeCode);
  if (type.status !== 'published' || type.publishedVersion === null)
    throw invalidError(`Certificate type ${type.code} is ${type.status}; imports need a published type`, [
      { field: 'typeCode', message: type.status },
    ]);
  const version = (await getTypeVersion(deps.db, type.code, type.publishedVersion))!;
  const errors: FieldError[] = [];
  if (s.holder.kind !== version.holderKind)
    errors.push({ field: 'holder.kind', message: `${type.code} is issued to a ${version.holderKind}` });
  if (!s.pdf.subarray(0, 5).equals(Buffer.from('%PDF-')))
    errors.push({ field: 'document.pdf', message: 'must be a PDF (base64 of a file starting with %PDF-)' });
  const cells = {
    holderName: s.holder.name,
    holderId: s.holder.id,
    number: s.number ?? '',
    identifier: s.identifier ?? '',
    issueDate: s.issueDate,
    validFrom: s.validFrom ?? '',
    validUntil: s.validUntil ?? '',
    status: s.status ?? '',
  };
  const check = importRowChecker(version)(cells, chinaDate(Date.now()), s.faceData);
  if (!check.ok) errors.push({ field: requestField(check.field), message: check.reason });
  if (errors.length || !check.ok) throw invalidError('The certificate has invalid fields', errors);
  const row = check.row;

  const typeId = (await getTypeId(deps.db, type.code))!;
  const department = (await getDepartment(deps.db, type.department))!;
  if (typeId > 999) throw invalidError(`type ${type.code} needs a national type code`, [], 'NoTypeCode');
  const issuerCode = department.creditCode ?? placeholderIssuerCode(department.regionCode, department.id);
  const resealing = version.importMode === 'reseal';
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  // A resealed certificate is a certflow certificate of today; a registered one keeps its own year.
  const year = Number((resealing ? chinaDate(now.getTime()) : row.issueDate).slice(0, 4));
  const plan: NumberPlan = {
    ...(row.number ? { number: row.number } : {}),
    ...(row.identifier ? { identifier: row.identifier } : {}),
    typeCode: type.code,
    regionCode: department.regionCode,
    year,
    format: (serial) => ({
      number: formatCertificateNumber({ typeCode: type.code, region: department.regionCode, year, serial }),
      identifier: buildIdentifier({
        typeCode: buildTypeCode(issuerCode, typeId),
        issuerCode,
        serial: `${year}${String(serial).padStart(7, '0')}`,
        version: 1,
      }),
    }),
  };
  const attachments: Attachment[] = [
    { kind: 'original-pdf', blobSha256: await deps.blobs.put(s.pdf), contentType: 'application/pdf' },
    ...(s.signature
      ? [
          {
            kind: 'original-signature' as const,
            blobSha256: await deps.blobs.put(s.signature),
            contentType: 'application/octet-stream',
          },
        ]
      : []),
  ];
  const holders = createHolderCrypto(deps.masterKey);
  const holder = { hash: holders.lookupHash(row.holder.id), encrypted: holders.encrypt(row.holder.id) };
  const faceData = createFaceCrypto(deps.masterKey).seal(version.faceFields, row.faceData);
  const id = randomUUID();
  const taken = (field: 'number' | 'identifier') =>
    conflictError(`The ${field} ${plan[field]} is already registered`, 'AlreadyRegistered');

  if (!resealing) {
    const issuedAt = new Date(`${row.issueDate}T00:00:00+08:00`);
    const stored = await storeImportedCertificate(
      deps.db,
      {
        plan,
        application: {
          id,
          type_code: type.code,
          type_version: version.version,
          department: type.department,
          mode: 'import',
          status: 'issued',
          holder_kind: row.holder.kind,
          holder_name: row.holder.name,
          holder_id_hash: holder.hash,
          holder_id_encrypted: holder.encrypted,
          revision: 1,
          submitter_type: me.type,
          submitter_id: me.id,
          submitter_name: me.name,
          dedupe_key: dedupeKey,
          external_ref: s.externalRef ?? null,
          workflow_id: `import-${id}`,
          created_at: now,
          updated_at: now,
        },
        faceData: JSON.stringify(faceData),
        certificate: {
          type_code: type.code,
          type_version: version.version,
          type_name: version.name,
          department: type.department,
          issuer_name: department.name,
          issuer_code: issuerCode,
          region_code: department.regionCode,
          holder_kind: row.holder.kind,
          holder_code_type: HOLDER_CODE_TYPES[row.holder.kind],
          holder_name: row.holder.name,
          holder_id_hash: holder.hash,
          holder_id_encrypted: holder.encrypted,
          face_data: JSON.stringify(faceData),
          issued_at: issuedAt,
          valid_from: row.validFrom,
          valid_until: row.validUntil,
          status: row.status,
          status_changed_at: row.status === 'valid' ? issuedAt : now,
          status_reason: row.status === 'valid' ? null : `imported as ${row.status}`,
          // The original file is the document; certflow holds no record or seal of its own for it.
          pdf_sha256: attachments[0]!.blobSha256,
          docx_sha256: '',
          record_sha256: '',
          record: '',
          record_signature: '',
          signer_serial: '',
          seal_id: null,
          seal_name: '',
          sealed_by: me.name,
          sealed_at: issuedAt,
          catalog_attempts: 0,
          created_at: now,
          origin: 'imported',
          original_number: row.originalNumber ?? null,
        },
        attachments,
        audit: {
          category: 'storing',
          action: 'certificate.import',
          actor: { type: me.type, id: me.id, name: me.name },
          department: type.department,
          detail: {
            mode: 'register',
            typeCode: type.code,
            externalRef: s.externalRef,
            pdfSha256: attachments[0]!.blobSha256,
          },
        },
      },
      deps.masterKey,
    ).catch(async (err) => {
      const winner = dedupeKey ? await findByDedupeKey(deps.db, dedupeKey) : undefined;
      if (winner) return { ok: true as const, winner };
      throw err;
    });
    if (stored.ok && 'winner' in stored) return { view: await viewOf(deps, stored.winner!), created: false };
    if (!stored.ok) throw taken(stored.field);
    return { view: await viewOf(deps, (await getApplication(deps.db, id))!), created: true };
  }

  // reseal: a new certflow rendition through the sealing pipeline, as an auto-seal application.
  const seal = await resolveSeal(deps.db, type.department, version.sealId).catch((err: Error) => {
    throw err instanceof TrustError ? conflictError(err.message, 'SealUnavailable') : err;
  });
  try {
    await insertApplication(deps.db, {
      id,
      typeCode: type.code,
      typeVersion: version.version,
      department: type.department,
      mode: 'auto-seal',
      status: 'sealing',
      holderKind: row.holder.kind,
      holderName: row.holder.name,
      holderIdHash: holder.hash,
      holderIdEncrypted: holder.encrypted,
      submitter: { type: me.type, id: me.id, name: me.name },
      externalRef: s.externalRef ?? null,
      callbackUrl: null,
      workflowId: `issuance-${id}`,
      dedupeKey,
      faceData: faceData as never,
    });
  } catch (err) {
    const winner = dedupeKey ? await findByDedupeKey(deps.db, dedupeKey) : undefined;
    if (winner) return { view: await viewOf(deps, winner), created: false };
    throw err;
  }
  const reserved = await reserveImportedNumber(deps.db, id, {
    plan,
    allocation: {
      issuerName: department.name,
      issuerCode,
      issuerCodePlaceholder: !department.creditCode,
      sealId: seal.id,
      allocatedAt: now,
      issuedOn: chinaDate(now.getTime()),
    },
    attachments,
  });
  if (!reserved.ok) {
    await deps
      .db('applications')
      .where({ id })
      .update({ status: 'withdrawn', dedupe_key: null, updated_at: new Date() });
    throw taken(reserved.field);
  }
  const app = (await getApplication(deps.db, id))!;
  try {
    await deps.temporal.workflow.start(issuanceWorkflow, {
      taskQueue: deps.config.temporal.taskQueue,
      workflowId: app.workflowId,
      args: [workflowInput(app, [])],
      ...issuanceRunText({ ...workflowInput(app, []), typeName: version.name }),
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError))
      throw new ServiceError(
        'unavailable',
        `The workflow service is not reachable; retry with the same Idempotency-Key (${(err as Error).message})`,
        {
          code: 'TemporalUnavailable',
          retryAfter: 10,
        },
      );
  }
  await audit({
    category: 'operation',
    action: 'certificate.import',
    outcome: 'success',
    department: type.department,
    object: { type: 'application', id },
    detail: { mode: 'reseal', typeCode: type.code, number: reserved.number, pdfSha256: attachments[0]!.blobSha256 },
  });
  return { view: await viewOf(deps, app), created: true };
}

/** What the import made: the certificate (registered), or the application being sealed (reseal). */
async function viewOf(deps: Pick<ServiceDeps, 'db'>, app: ApplicationRow): Promise<ImportedView> {
  const cert = await getCertificateByApplication(deps.db, app.id);
  const attachments = (await listAttachments(deps.db, app.id)).map((a) => ({ kind: a.kind, sha256: a.blobSha256 }));
  return {
    applicationId: app.id,
    number: cert?.number ?? app.certificateNumber,
    identifier: cert?.identifier ?? null,
    origin: cert?.origin ?? ((app.mode as string) === 'import' ? 'imported' : 'issued'),
    status: cert?.status ?? app.status,
    attachments,
  };
}
