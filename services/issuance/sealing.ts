import type { ServiceDeps } from '../deps';
import { ServiceError, type ServiceErrorKind } from '../errors';
import { ConversionError } from '../documents/convert';
import { TemplateError } from '../documents/render';
import { renderCertificate, verifyUrl } from '../documents/certificate';
import { loadSealForSigning, resolveSeal } from '../trust/seals';
import { inspectPdfSignature, signPdf } from '../trust/sign-pdf';
import { signRecordTimestamped } from '../trust/sign-record';
import { appendDss } from '../trust/pades-dss';
import { timestamper, validationMaterial } from '../trust/timestamping';
import { tokenCertificates } from '../trust/tsa';
import { TrustError } from '../trust/pki';
import { OutboundError, registerCertificate } from '../outbound';
import { notifyIssued } from '../callbacks';
// The binding still lives with the activities until it moves to platform/; the import cycle is
// harmless because it is only called, never used while the modules load.
import { sha256, BlobNotFoundError } from '../../platform/blobs';
import { setJson } from '../../platform/cache';
import { createHolderCrypto, holderIdBinding } from '../../platform/holder-crypto';
import { createFaceCrypto } from '../../platform/face-crypto';
import { getTypeId, getTypeVersion } from '../../db/certificate-types';
import { getDepartment } from '../../db/org';
import { findSignedCertificate, getSeal, saveSignedCertificate } from '../../db/trust';
import { allocateNumber, findAllocation, type Allocation } from '../../db/allocations';
import { findRendition, saveRendition } from '../../db/renditions';
import {
  getCertificate,
  getCertificateByApplication,
  getSealingApplication,
  storeCertificate,
} from '../../db/certificates';
import { certificateCacheKey, CERTIFICATE_CACHE_TTL_S, cachedView } from '../../db/certificate-cache';
import { approvalsOf } from '../../db/tasks';
import { buildIdentifier, buildTypeCode } from '../../domain/identifier';
import { formatCertificateNumber } from '../../domain/certificate-number';
import { creditCodeCheckChar } from '../../domain/check-digits';
import { canonicalBytes } from '../../domain/canonical-json';
import { chinaDate } from '../../domain/calendar';
import { validityFor } from '../../domain/certificate-change';
import { supersession } from './supersede';
import { SupersedeConflict } from '../../db/certificate-versions';
import { statusChanged } from '../status-hooks';
import { HOLDER_CODE_TYPES } from '../../domain/holder';
import { buildCertificateRecord, recordFaceData, type CertificateRecord } from '../../domain/certificate-record';
import { faceDataHash, signOfflineFacts } from '../credentials/offline-qr';
import { maskPersonName } from '../verify';
import { keepQrSignature } from '../../db/credentials';

/**
 * The sealing pipeline (the last stage of workflows/issuance.ts), one activity per step, each
 * idempotent by application id or content hash so that a worker dying at any point and
 * Temporal retrying cannot make a second number, a second certificate or a stray blob:
 *
 *   allocateCertificateNumber → renderCertificate → convertCertificate (queue certflow-render)
 *   → signCertificate → storeCertificate → registerInCatalog → warmCache → notifyCallback
 *
 * - the number, issue time, issue date and seal are fixed once, in the allocation row;
 * - render and sign are deterministic given that row (fixed ZIP dates, the issue time as
 *   signing time, RSA PKCS#1 v1.5), so a retry writes the very same blobs;
 * - conversion is not deterministic (LibreOffice), so its result is remembered per DOCX
 *   hash, and the row is written before the PDF blob;
 * - the certificate row, the application's status, its history event and the audit entries
 *   are one transaction, insert-or-return by application id.
 * Errors that a retry cannot fix are thrown as ServiceErrors whose code is the failure type
 * the workflow sees (activities/failures.ts makes them non-retryable ApplicationFailures).
 * activities/sealing.ts adapts these steps to Temporal.
 */

/** What each step can fail with, as the failure types recorded in workflow histories. */
const FAILURE_KINDS = {
  NotFound: 'not-found',
  NoNumber: 'conflict',
  NotApproved: 'conflict',
  NotIssued: 'conflict',
  RecordMismatch: 'conflict',
  SealUnavailable: 'unavailable',
  NoIssuerCode: 'invalid',
  NoTypeCode: 'invalid',
  NoTemplate: 'invalid',
  TemplateError: 'invalid',
  NotDocx: 'invalid',
  BlobMissing: 'not-found',
  CatalogRefused: 'bad-gateway',
  NotSupersedable: 'conflict',
} satisfies Record<string, ServiceErrorKind>;

const fail = (type: keyof typeof FAILURE_KINDS, message: string) =>
  new ServiceError(FAILURE_KINDS[type], message, { code: type });

/**
 * Development placeholder for a department without a credit code: a well-formed USCC
 * `11<region>CF<7-digit department id><check>` (registration authority 1 = 机构编制, kind 1
 * = 机关, organisation code "CF…" = certflow). Production refuses to issue without a real one.
 */
export function placeholderIssuerCode(regionCode: string, departmentId: number): string {
  const first17 = `11${regionCode}CF${String(departmentId).padStart(7, '0')}`;
  return first17 + creditCodeCheckChar(first17);
}

export interface SignedCertificate {
  signedPdfSha: string;
  recordSha: string;
  /** Base64 DER CMS over the record's canonical bytes. */
  signature: string;
}

export interface StoreInput extends SignedCertificate {
  docxSha: string;
  /** Who sealed (the sealing officer who approved); default: from the application's tasks, else `auto-seal`. */
  sealedBy?: string;
}

export function sealingSteps(deps: ServiceDeps) {
  const { db, blobs, config } = deps;
  const holders = createHolderCrypto(deps.masterKey);
  const faces = createFaceCrypto(deps.masterKey);

  /** Everything the later steps need, read fresh each attempt (activities share no memory). */
  async function context(applicationId: string) {
    const app = await getSealingApplication(db, applicationId);
    if (!app) throw fail('NotFound', `no application ${applicationId}`);
    const allocation = await findAllocation(db, applicationId);
    if (!allocation) throw fail('NoNumber', `application ${applicationId} has no certificate number yet`);
    const type = await getTypeVersion(db, app.typeCode, app.typeVersion);
    if (!type) throw fail('NotFound', `certificate type ${app.typeCode} has no version ${app.typeVersion}`);
    const department = await getDepartment(db, app.department);
    if (!department) throw fail('NotFound', `no department ${app.department}`);
    const seal = await getSeal(db, allocation.sealId);
    if (!seal) throw fail('SealUnavailable', `seal ${allocation.sealId} is gone`);
    // A renewal continues from the old end date (docs/lifecycle.md); everything else from its issue day.
    const replaced = app.replacesNumber ? await getCertificate(db, app.replacesNumber) : undefined;
    if (app.replacesNumber && !replaced) throw fail('NotFound', `no certificate ${app.replacesNumber} to replace`);
    const validity = validityFor(type.validity, allocation.issuedOn, app.kind === 'renewal' ? replaced : undefined);
    // app.faceData is as stored (idNumber values encrypted); faceData is in clear, for the
    // printed face and the signed record, which masks them itself (domain/certificate-record.ts).
    const faceData = faces.open(type.faceFields, app.faceData);
    const holderId = holders.decrypt(app.holderIdEncrypted);
    return { app, allocation, type, department, seal, validity, faceData, holderId };
  }
  type Context = Awaited<ReturnType<typeof context>>;

  function buildRecord(c: Context, signedPdfSha: string): CertificateRecord {
    const a: Allocation = c.allocation;
    return buildCertificateRecord({
      number: a.number,
      identifier: a.identifier,
      type: { code: c.type.code, version: c.type.version, name: c.type.name },
      holder: { kind: c.app.holderKind, name: c.app.holderName, id: c.holderId },
      holderIdBinding: holderIdBinding(deps.masterKey, a.number, c.holderId),
      issuer: { department: c.department.code, name: a.issuerName, code: a.issuerCode, region: a.regionCode },
      issuedAt: a.allocatedAt.toISOString(),
      validity: { from: c.validity.validFrom, until: c.validity.validUntil },
      faceFields: c.type.faceFields,
      faceData: c.faceData,
      signedPdfSha256: signedPdfSha,
      seal: { id: c.seal.id, name: c.seal.name, signerCertificateSerial: c.seal.serial },
    });
  }

  /**
   * The QR code's offline signature (services/credentials/offline-qr.ts), kept on first render:
   * ECDSA is randomised, and a retried render must give the same DOCX bytes.
   */
  async function offlineToken(c: Context): Promise<string> {
    const token = signOfflineFacts(deps.masterKey, {
      number: c.allocation.number,
      holderName: c.app.holderKind === 'person' ? maskPersonName(c.app.holderName) : c.app.holderName,
      validFrom: c.validity.validFrom,
      validUntil: c.validity.validUntil,
      department: c.department.code,
      faceHash: faceDataHash(recordFaceData(c.type.faceFields, c.faceData)),
    });
    return keepQrSignature(db, c.allocation.number, token);
  }

  return {
    /** Takes the certificate number (and GB/T 36904 identifier); a retry returns the same one. */
    async allocateCertificateNumber(applicationId: string): Promise<string> {
      const app = await getSealingApplication(db, applicationId);
      if (!app) throw fail('NotFound', `no application ${applicationId}`);
      const existing = await findAllocation(db, applicationId);
      if (existing) return existing.number;
      if (app.status === 'rejected' || app.status === 'withdrawn')
        throw fail('NotApproved', `application ${applicationId} is ${app.status}`);
      const type = await getTypeVersion(db, app.typeCode, app.typeVersion);
      const typeId = await getTypeId(db, app.typeCode);
      const department = await getDepartment(db, app.department);
      if (!type || typeId === undefined || !department)
        throw fail('NotFound', `type ${app.typeCode} v${app.typeVersion} or department ${app.department} is missing`);
      if (!department.creditCode && config.env === 'production') {
        throw fail(
          'NoIssuerCode',
          `department ${department.code} has no unified social credit code: set it before issuing (it is the identifier's issuer code)`,
        );
      }
      const seal = await resolveSeal(db, app.department, type.sealId).catch((err: Error) => {
        throw err instanceof TrustError ? fail('SealUnavailable', err.message) : err;
      });
      // Until types carry their national type code, the defining authority is the issuing
      // department and the 3-digit type sequence is the type's row id.
      const typeSequence = typeId;
      if (typeSequence > 999)
        throw fail('NoTypeCode', `type ${app.typeCode} has id ${typeSequence}: give it a national type code`);
      const allocatedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
      const issuedOn = chinaDate(allocatedAt.getTime());
      const year = Number(issuedOn.slice(0, 4));
      const issuerCode = department.creditCode ?? placeholderIssuerCode(department.regionCode, department.id);
      const { allocation, created } = await allocateNumber(db, applicationId, {
        typeCode: app.typeCode,
        regionCode: department.regionCode,
        year,
        issuerName: department.name,
        issuerCode,
        issuerCodePlaceholder: !department.creditCode,
        sealId: seal.id,
        allocatedAt,
        issuedOn,
        format: (serial) => ({
          number: formatCertificateNumber({ typeCode: app.typeCode, region: department.regionCode, year, serial }),
          identifier: buildIdentifier({
            typeCode: buildTypeCode(issuerCode, typeSequence),
            issuerCode,
            serial: `${year}${String(serial).padStart(7, '0')}`,
            version: 1,
          }),
        }),
      });
      if (created) deps.logger.info({ applicationId, number: allocation.number }, 'certificate number allocated');
      return allocation.number;
    },

    /** Fills the type version's template; the same inputs give the same DOCX bytes, so a retry is a no-op. */
    async renderCertificate(applicationId: string): Promise<string> {
      const c = await context(applicationId);
      if (!c.type.templateSha256) throw fail('NoTemplate', `type ${c.type.code} v${c.type.version} has no template`);
      // A template blob lost from the store will not come back by retrying: stop for an operator.
      const template = await blobs.get(c.type.templateSha256).catch((err) => {
        if (!(err instanceof BlobNotFoundError)) throw err;
        throw fail('BlobMissing', `template of ${c.type.code} v${c.type.version}: ${err.message}`);
      });
      try {
        // The same function renders the template preview (services/documents/certificate.ts).
        const docx = await renderCertificate({
          type: c.type,
          faceData: c.faceData,
          holder: { name: c.app.holderName, id: c.holderId },
          number: c.allocation.number,
          identifier: c.allocation.identifier,
          issuerName: c.allocation.issuerName,
          issuedAt: c.allocation.allocatedAt,
          template,
          sealImage: await blobs.get(c.seal.imageSha256),
          qrTarget: `${verifyUrl(config.http.publicUrl, c.allocation.number)}#${await offlineToken(c)}`,
        });
        return await blobs.put(docx);
      } catch (err) {
        if (err instanceof TemplateError) throw fail('TemplateError', err.message);
        throw err;
      }
    },

    /**
     * Signs the PDF (PAdES B-LT: timestamp, then the DSS) and the record (with its timestamp)
     * with the department's seal key, claiming the issue time. Timestamps make every attempt
     * differ, so the first result is remembered per application and a retry returns it.
     */
    async signCertificate(applicationId: string, pdfSha: string): Promise<SignedCertificate> {
      const done = await findSignedCertificate(db, applicationId);
      if (done) return done;
      const c = await context(applicationId);
      if (!c.seal.active)
        throw fail('SealUnavailable', `seal ${c.seal.id} was deactivated after the number was allocated`);
      const { credential } = await loadSealForSigning(deps, c.seal);
      const pdf = await blobs.get(pdfSha).catch((err) => {
        throw err instanceof BlobNotFoundError ? fail('BlobMissing', err.message) : err;
      });
      const signingTime = c.allocation.allocatedAt;
      // The number in /Reason (covered by the signature) tells a verifier which certificate a
      // file claims to be even when a byte elsewhere was changed and its hash matches nothing.
      const reason = `电子证照签发 ${c.allocation.number}`;
      const timestamp = timestamper(deps);
      const signed = await signPdf(pdf, credential, {
        reason,
        name: c.allocation.issuerName,
        location: c.allocation.regionCode,
        signingTime,
        timestamp,
      });
      const token = inspectPdfSignature(signed).timestampToken;
      const withDss = appendDss(
        signed,
        await validationMaterial(deps, credential, token ? tokenCertificates(token) : []),
      );
      const signedPdfSha = await blobs.put(withDss);
      const bytes = canonicalBytes(buildRecord(c, signedPdfSha));
      const recordSha = await blobs.put(Buffer.from(bytes));
      const signature = await signRecordTimestamped(bytes, credential, { signingTime, timestamp });
      return saveSignedCertificate(db, applicationId, { signedPdfSha, recordSha, signature });
    },

    /** Writes the certificate row and marks the application issued, once. */
    async storeCertificate(applicationId: string, input: StoreInput): Promise<{ number: string; created: boolean }> {
      const stored = await getCertificateByApplication(db, applicationId);
      if (stored) {
        // A retry after a crash right after the commit: the superseded one must still leave the cache.
        if (stored.replacesNumber)
          await statusChanged(deps, { number: stored.replacesNumber, status: 'superseded', reason: null });
        return { number: stored.number, created: false };
      }
      const c = await context(applicationId);
      for (const sha of [input.docxSha, input.signedPdfSha, input.recordSha]) {
        if (!(await blobs.has(sha))) throw fail('BlobMissing', `blob ${sha} is missing`);
      }
      const recordText = (await blobs.get(input.recordSha)).toString('utf8');
      const record = JSON.parse(recordText) as CertificateRecord;
      if (record.number !== c.allocation.number || record.document.sha256 !== input.signedPdfSha) {
        throw fail(
          'RecordMismatch',
          `record ${input.recordSha} is not the record of ${c.allocation.number} and PDF ${input.signedPdfSha}`,
        );
      }
      const sealedBy = input.sealedBy ?? (await lastApprover(applicationId)) ?? 'auto-seal';
      const a = c.allocation;
      const object = { type: 'certificate', id: a.number };
      const actor = { type: 'system', id: null, name: 'sealing-pipeline' };
      // A change, renewal or reissue supersedes the old certificate in the same transaction.
      const { supersede, audit: superseding } = supersession(c.app, a.number, c.department.code);
      const { certificate, created } = await storeCertificate(
        db,
        {
          number: a.number,
          identifier: a.identifier,
          applicationId,
          typeCode: c.type.code,
          typeVersion: c.type.version,
          typeName: c.type.name,
          department: c.department.code,
          issuerName: a.issuerName,
          issuerCode: a.issuerCode,
          regionCode: a.regionCode,
          holderKind: c.app.holderKind,
          holderCodeType: HOLDER_CODE_TYPES[c.app.holderKind],
          holderName: c.app.holderName,
          holderIdHash: c.app.holderIdHash,
          holderIdEncrypted: c.app.holderIdEncrypted,
          faceData: faces.seal(c.type.faceFields, c.app.faceData),
          issuedAt: a.allocatedAt.toISOString(),
          validFrom: c.validity.validFrom,
          validUntil: c.validity.validUntil,
          pdfSha256: input.signedPdfSha,
          docxSha256: input.docxSha,
          recordSha256: input.recordSha,
          record: recordText,
          recordSignature: input.signature,
          signerSerial: c.seal.serial,
          sealId: c.seal.id,
          sealName: c.seal.name,
          sealedBy,
          sealedAt: a.allocatedAt.toISOString(),
        },
        [
          {
            category: 'sealing',
            action: 'certificate.seal',
            actor,
            department: c.department.code,
            object,
            detail: {
              sealId: c.seal.id,
              signerSerial: c.seal.serial,
              sealedBy,
              signingTime: a.allocatedAt.toISOString(),
              pdfSha256: input.signedPdfSha,
              recordSha256: input.recordSha,
            },
          },
          {
            category: 'storing',
            action: 'certificate.store',
            actor,
            department: c.department.code,
            object,
            detail: {
              applicationId,
              identifier: a.identifier,
              typeCode: c.type.code,
              typeVersion: c.type.version,
              docxSha256: input.docxSha,
              pdfSha256: input.signedPdfSha,
              recordSha256: input.recordSha,
              ...(supersede ? { kind: c.app.kind, replaces: supersede.number } : {}),
            },
          },
          ...superseding,
        ],
        deps.masterKey,
        supersede,
      ).catch((err) => {
        throw err instanceof SupersedeConflict ? fail('NotSupersedable', err.message) : err;
      });
      if (supersede)
        await statusChanged(deps, { number: supersede.number, status: 'superseded', reason: supersede.reason });
      return { number: certificate.number, created };
    },

    /** The catalog push (see outbound.ts); throws on failure so Temporal retries. */
    async registerInCatalog(number: string) {
      try {
        return await registerCertificate(deps, number);
      } catch (err) {
        if (err instanceof OutboundError && err.permanent) throw fail('CatalogRefused', err.message);
        throw err;
      }
    },

    /** Puts the certificate where GET /certificates/:number and verification look first. */
    async warmCache(number: string): Promise<void> {
      const cert = await getCertificate(db, number);
      if (!cert) throw fail('NotFound', `no certificate ${number}`);
      await setJson(deps.cache, certificateCacheKey(number), cachedView(cert), CERTIFICATE_CACHE_TTL_S);
    },

    /** Tells the business system, once it has answered 2xx; every attempt is recorded in the outbox. */
    async notifyCallback(applicationId: string): Promise<{ delivered: boolean; skipped?: string }> {
      return notifyIssued(deps, applicationId);
    },
  };

  /** The sealing officer who approved last, else the last approver at all. */
  async function lastApprover(applicationId: string): Promise<string | undefined> {
    const rows = await approvalsOf(db, applicationId);
    return (rows.find((r) => r.role === 'sealing-officer') ?? rows[0])?.decidedBy ?? undefined;
  }
}

/** Runs on the `certflow-render` task queue, so conversion concurrency is bounded apart from everything else. */
export function renderQueueSteps(deps: ServiceDeps) {
  return {
    /** DOCX blob → PDF blob; remembered per DOCX so that a retry returns the PDF already made. */
    async convertCertificate(docxSha: string): Promise<string> {
      const known = await findRendition(deps.db, docxSha);
      if (known && (await deps.blobs.has(known))) return known;
      const docx = await deps.blobs.get(docxSha).catch((err) => {
        throw err instanceof BlobNotFoundError ? fail('BlobMissing', err.message) : err;
      });
      const t0 = performance.now();
      let pdf: Buffer;
      try {
        pdf = await deps.converter.convert(docx);
      } catch (err) {
        // A hung soffice was killed (timeout) or crashed: another attempt usually works. Bad input never will.
        if (err instanceof ConversionError && err.code === 'not_docx') throw fail('NotDocx', err.message);
        throw err;
      }
      const pdfSha = sha256(pdf);
      await saveRendition(deps.db, docxSha, pdfSha, performance.now() - t0);
      await deps.blobs.put(pdf);
      return pdfSha;
    },
  };
}

export type SealingSteps = ReturnType<typeof sealingSteps>;
export type RenderQueueSteps = ReturnType<typeof renderQueueSteps>;
