import { X509Certificate } from 'node:crypto';
import type { Db } from '../db/knex';
import type { Cache } from '../platform/cache';
import { sha256 } from '../platform/blobs';
import { createHolderCrypto } from '../platform/holder-crypto';
import { getActiveRoot } from '../db/trust';
import { getCertificateCached, type CachedCertificate } from '../db/certificate-cache';
import { findNumberBySignedPdf, getRegisteredRecord } from '../db/verification';
import { canonicalBytes, canonicalize, CanonicalJsonError, parseStrictJson } from '../domain/canonical-json';
import { parseCertificateNumber } from '../domain/certificate-number';
import { CERTIFICATE_STATUS_CODES, type CertificateRecord, type CertificateStatus } from '../domain/certificate-record';
import { maskHolderId, maskHolderIdPublic } from '../domain/holder';
import { checkSignerCertificate, describeCertificate, type Check } from './trust/pki';
import { inspectPdfSignature, PdfSignatureError, type PdfSignatureInspection } from './trust/sign-pdf';
import { verifyRecordSignature } from './trust/sign-record';
import { verifyTimestampToken } from './trust/tsa';
import { revocationCheck } from './trust/revocation';
import { chinaDate } from '../domain/calendar';

/**
 * Verification (docs/trust.md, "Verification"): given a PDF, a record
 * with its signature, or a certificate number, report each check separately — passed, failed
 * or indeterminate, with a reason — the way EU DSS and W3C VC verifiers do, so a relying party
 * sees *what* is wrong (the file was altered, the signer is not ours, the certificate was
 * revoked), not just "invalid". Plain functions: the public API and anything else call them.
 *
 * Which signer the signer checks (chain, signerValidity, signerProfile, issuer) are about:
 * the PDF's for a PDF; the record's for a record or a number. For a PDF the registered record
 * is checked as a whole under recordSignature.
 */

export const CHECKS = {
  integrity: { title: '文件完整性', titleEn: 'The file is exactly what was signed' },
  pdfSignature: { title: 'PDF 电子签名', titleEn: 'PDF signature' },
  recordSignature: { title: '证照记录签名', titleEn: 'Certificate record signature' },
  chain: { title: '证书链', titleEn: 'Signer chains to the platform root' },
  signerValidity: { title: '签名时证书有效', titleEn: 'Signer certificate valid at signing time' },
  signerProfile: { title: '文档签名证书', titleEn: 'Signer has the document-signing profile' },
  timestamp: { title: '签名时间戳', titleEn: 'Signature timestamp (RFC 3161) by a trusted TSA' },
  revocation: { title: '印章证书吊销', titleEn: 'Signer certificate not revoked when it signed' },
  issuer: { title: '发证机关', titleEn: 'Signed by the issuing department' },
  pdfHash: { title: '文件摘要', titleEn: 'Document hash matches the record' },
  record: { title: '证照记录', titleEn: 'Record matches the registry' },
  status: { title: '证照状态', titleEn: 'Status now' },
  // An annotated copy (加注件, docs/sharing.md): services/sharing/verify-copy.ts.
  copySignature: { title: '加注件签章', titleEn: "Annotated copy intact and signed by the platform's seal" },
  copyValidity: { title: '加注件有效期', titleEn: 'Annotated copy within its validity' },
} as const;
export type CheckId = keyof typeof CHECKS;
export type CheckStatus = 'passed' | 'failed' | 'indeterminate';
export type Verdict = 'valid' | 'invalid' | 'indeterminate';

export interface VerificationCheck {
  id: CheckId;
  title: string;
  titleEn: string;
  status: CheckStatus;
  reason: string;
}

/** The public face of a certificate: what anyone holding the number may see. No full ID numbers. */
export interface CertificateSummary {
  number: string;
  identifier: string;
  type: { code: string; name: string };
  /** Person holders: name masked too (张*三) — numbers are sequential, so anyone can enumerate this. */
  holder: { kind: 'person' | 'entity'; name: string; idMasked: string };
  issuer: { department: string; name: string; code: string; region: string };
  issuedAt: string;
  issuedOn: string;
  validity: { from: string; until: string | null };
  /** Effective now: a valid row past its end date says `expired` even before the sweep ran. */
  status: CertificateStatus;
  statusCode: string;
  statusChangedAt: string;
  statusReason: string | null;
  /** While suspended: its last day, if it has one. */
  suspendedUntil?: string | null;
  /** A superseded certificate: the one that replaced it, and that one's status now. */
  supersededBy?: { number: string; status: CertificateStatus; statusCode: string };
}

export interface VerificationReport {
  verdict: Verdict;
  input: 'pdf' | 'record' | 'number';
  checks: VerificationCheck[];
  certificate: CertificateSummary | null;
  /** When the PDF is an annotated copy (加注件): what its annotation says (services/sharing/verify-copy.ts). */
  annotatedCopy?: AnnotatedCopySummary;
  checkedAt: string;
}

export interface AnnotatedCopySummary {
  id: string;
  certificateNumber: string;
  matter: string;
  /** The department that fetched it, and its business system when one did. */
  department: string;
  apiClientId: string | null;
  fetchedAt: string;
  validUntil: string;
  /** expired: past its validity — the certificate itself may well still be valid. */
  state: 'valid' | 'expired';
}

export interface VerifyDeps {
  db: Db;
  cache: Cache;
  masterKey: Buffer;
  /** For tests; the status check's "today" is this instant's China date. */
  now?: () => Date;
}

export interface VerifyOptions {
  /**
   * Whether the caller may read this department's certificates (staff): they see the staff
   * mask of a person's ID; everyone else the public one (domain/holder.ts maskHolderIdPublic).
   */
  readsDepartment?: (department: string) => boolean;
}

/** A PDF, a record (canonical JSON text or the object) with its base64 signature, or a certificate number. */
export type VerifyInput = Buffer | string | { record: string | Record<string, unknown>; signature: string };

/** The input is not something verification can look at (not a PDF, not JSON, not a number): a 4xx, not a report. */
export class VerifyInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'VerifyInputError';
  }
}

class Checks {
  private readonly byId = new Map<CheckId, VerificationCheck>();
  set(id: CheckId, status: CheckStatus, reason: string) {
    this.byId.set(id, { id, ...CHECKS[id], status, reason });
  }
  get(id: CheckId): VerificationCheck | undefined {
    return this.byId.get(id);
  }
  from(id: CheckId, c: Check) {
    this.set(id, c.ok ? 'passed' : 'failed', c.reason);
  }
  /** In the fixed order of CHECKS, so reports read the same every time. */
  list(): VerificationCheck[] {
    return (Object.keys(CHECKS) as CheckId[]).flatMap((id) => this.byId.get(id) ?? []);
  }
}

/** The JSON body is capped at 2 MB by api/app.ts; other callers are held to the same. */
const MAX_RECORD_CHARS = 2 * 1024 * 1024;

const isRecordObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const SIGNER_CHECKS = ['chain', 'signerValidity', 'signerProfile'] as const;

export async function verifyCertificate(
  deps: VerifyDeps,
  input: VerifyInput,
  options: VerifyOptions = {},
): Promise<VerificationReport> {
  const now = deps.now?.() ?? new Date();
  const checks = new Checks();
  const rootPem = (await getActiveRoot(deps.db))?.certificatePem;
  let kind: VerificationReport['input'];
  let cert: CachedCertificate | undefined;
  if (Buffer.isBuffer(input)) {
    kind = 'pdf';
    cert = await verifyPdf(deps, input, checks, rootPem);
  } else if (typeof input === 'string') {
    kind = 'number';
    cert = await verifyNumber(deps, input, checks, rootPem);
  } else {
    kind = 'record';
    cert = await verifyRecord(deps, input, checks, rootPem);
  }
  const today = chinaDate(now.getTime());
  const status = cert ? statusNow(cert, today) : undefined;
  const staff = (c: CachedCertificate) => options.readsDepartment?.(c.department) ?? false;
  // An old version says which certificate replaced it, and how that one stands (docs/lifecycle.md).
  const successor = cert?.supersededBy ? await getCertificateCached(deps.db, deps.cache, cert.supersededBy) : undefined;
  const successorStatus = successor ? statusNow(successor, today).effective : undefined;
  if (status && successor)
    status.check = { ok: false, reason: `${status.check.reason}; ${successor.number} is ${successorStatus}` };
  if (status) checks.from('status', status.check);
  const list = checks.list();
  return {
    verdict: list.some((c) => c.status === 'failed')
      ? 'invalid'
      : list.some((c) => c.status === 'indeterminate')
        ? 'indeterminate'
        : 'valid',
    input: kind,
    checks: list,
    certificate:
      cert && status
        ? {
            ...summary(deps, cert, status.effective, staff(cert)),
            ...(successor && successorStatus
              ? {
                  supersededBy: {
                    number: successor.number,
                    status: successorStatus,
                    statusCode: CERTIFICATE_STATUS_CODES[successorStatus],
                  },
                }
              : {}),
          }
        : null,
    checkedAt: now.toISOString(),
  };
}

// ---------------------------------------------------------------- the three inputs

async function verifyPdf(deps: VerifyDeps, pdf: Buffer, checks: Checks, rootPem: string | undefined) {
  if (pdf.subarray(0, 1024).indexOf('%PDF-') < 0)
    throw new VerifyInputError('(body)', 'not a PDF file: it does not start with %PDF-');
  const fileSha = sha256(pdf);
  let inspection: PdfSignatureInspection | undefined;
  try {
    inspection = inspectPdfSignature(pdf);
  } catch (err) {
    if (!(err instanceof PdfSignatureError)) throw err;
    checks.set('integrity', 'failed', err.message);
    checks.set('pdfSignature', 'failed', err.message);
    for (const id of SIGNER_CHECKS)
      checks.set(id, 'indeterminate', 'the file has no readable signature whose signer could be checked');
  }
  let signerDepartment: string | undefined;
  let signerName: string | undefined;
  if (inspection) {
    const i = inspection;
    checks.set(
      'integrity',
      i.byteRangeCoversWholeFile && i.digestMatches ? 'passed' : 'failed',
      !i.byteRangeCoversWholeFile
        ? `content was added after signing: the signature covers ${i.byteRange[3] + i.byteRange[2]} of ${pdf.length} bytes`
        : i.digestMatches
          ? i.dssAppended
            ? 'the signature covers the whole file but its PAdES validation data (DSS), and its digest matches'
            : 'the signature covers the whole file and its digest matches: not a byte was changed'
          : 'the file was changed after signing: its SHA-256 no longer matches the signed digest',
    );
    checks.set(
      'pdfSignature',
      i.signatureValid ? 'passed' : 'failed',
      i.signatureValid ? "the signer certificate's key made this signature" : i.reason,
    );
    if (i.signerCertificatePem) {
      const d = describeCertificate(i.signerCertificatePem);
      [signerDepartment, signerName] = [d.departmentCode, d.commonName];
      const signerPem = i.signerCertificatePem;
      const proven = await timeChecks(deps, checks, signerPem, i.timestampToken, i.signatureValue, rootPem);
      signerChecks(checks, i.signerCertificatePem, i.chainPem, proven ?? i.signingTime, rootPem, !!proven);
    } else {
      for (const id of SIGNER_CHECKS) checks.set(id, 'failed', 'the signature does not include the signer certificate');
    }
  }

  // Which certificate the file claims to be: the number the sealing step writes into the
  // signature's /Reason (covered by the signature, and still readable when a byte elsewhere
  // was changed), else the registered PDF with this very hash.
  let cert: CachedCertificate | undefined;
  const claimed = /[A-Z0-9]{2,8}-\d{6}-\d{4}-\d{7}-[0-9A-Z]/.exec(inspection?.dictionary.reason ?? '')?.[0];
  if (claimed && parseCertificateNumber(claimed).ok) cert = await getCertificateCached(deps.db, deps.cache, claimed);
  if (!cert && signerDepartment && inspection?.signingTime) {
    const n = await findNumberBySignedPdf(deps.db, {
      department: signerDepartment,
      signedAt: inspection.signingTime,
      pdfSha256: fileSha,
    });
    if (n) cert = await getCertificateCached(deps.db, deps.cache, n);
  }
  if (!cert) {
    checks.set(
      'issuer',
      'indeterminate',
      'the file is not a certificate registered here, so there is no issuing department to compare',
    );
    checks.set('recordSignature', 'indeterminate', 'no registered certificate record for this file');
    checks.set(
      'pdfHash',
      'failed',
      `no certificate issued by this platform has this file (SHA-256 ${fileSha.slice(0, 16)}…)`,
    );
    checks.set(
      'status',
      'failed',
      claimed ? `${claimed} was not issued by this platform` : 'not issued by this platform',
    );
    return undefined;
  }

  issuerCheck(checks, signerDepartment, signerName, cert.department);
  const registered = await getRegisteredRecord(deps.db, deps.cache, cert.number);
  const record = registered && parseRecord(registered.record);
  if (!registered || !record) {
    checks.set('recordSignature', 'failed', `the registered record of ${cert.number} is missing or unreadable`);
    checks.set('pdfHash', 'indeterminate', `the registered record of ${cert.number} is missing or unreadable`);
    return cert;
  }
  if (record.document?.sha256 !== cert.pdfSha256) {
    checks.set(
      'pdfHash',
      'failed',
      `the registry is inconsistent: the record of ${cert.number} names a different PDF than the catalog`,
    );
  } else {
    checks.set(
      'pdfHash',
      fileSha === cert.pdfSha256 ? 'passed' : 'failed',
      fileSha === cert.pdfSha256
        ? `the file is the PDF the signed record of ${cert.number} names (SHA-256 ${fileSha.slice(0, 16)}…)`
        : `the signed record of ${cert.number} names the PDF ${cert.pdfSha256.slice(0, 16)}…, this file is ${fileSha.slice(0, 16)}…`,
    );
  }
  if (!rootPem) {
    checks.set('recordSignature', 'indeterminate', 'no platform root is configured');
  } else {
    const rep = verifyRecordSignature(Buffer.from(registered.record, 'utf8'), registered.signature, rootPem, {
      issuerDepartmentCode: cert.department,
    });
    const bad = Object.values(rep.checks).find((c) => !c.ok);
    checks.set(
      'recordSignature',
      bad ? 'failed' : 'passed',
      bad
        ? `the registered record: ${bad.reason}`
        : `the registered record of ${cert.number} is intact and signed by its issuing department`,
    );
  }
  return cert;
}

async function verifyRecord(
  deps: VerifyDeps,
  input: { record: string | Record<string, unknown>; signature: string },
  checks: Checks,
  rootPem: string | undefined,
) {
  // Text is verified byte for byte: the signature covers exactly the bytes that were issued, so
  // a text with a key twice (two parsers, two records) or re-indented is not what was signed.
  let value: unknown = input.record;
  let bytes: Uint8Array;
  let notCanonical = false;
  try {
    if (typeof input.record === 'string') {
      if (input.record.length > MAX_RECORD_CHARS)
        throw new VerifyInputError('record', `is longer than ${MAX_RECORD_CHARS} characters`);
      value = parseStrictJson(input.record);
      bytes = Buffer.from(input.record, 'utf8');
      notCanonical = isRecordObject(value) && canonicalize(value) !== input.record;
    } else {
      bytes = canonicalBytes(value);
    }
  } catch (err) {
    if (err instanceof CanonicalJsonError)
      throw new VerifyInputError('record', err.path === '$' ? err.reason : err.message);
    throw err;
  }
  if (!isRecordObject(value)) throw new VerifyInputError('record', 'must be a JSON object: the certificate record');
  const record = value as Partial<CertificateRecord>;
  const parsed = parseCertificateNumber(record.number);
  const cert = parsed.ok ? await getCertificateCached(deps.db, deps.cache, parsed.value.number) : undefined;
  await recordChecks(deps, checks, bytes, input.signature, rootPem, cert?.department ?? record.issuer?.department);
  const sig = checks.get('recordSignature');
  if (notCanonical && sig?.status === 'failed') {
    checks.set(
      'recordSignature',
      'failed',
      `the text is not the record's canonical form (RFC 8785), so it is not what was signed: send the record byte for byte as issued (${sig.reason})`,
    );
  }
  if (!cert) {
    const why = 'the record names no certificate registered here';
    checks.set('pdfHash', 'indeterminate', why);
    checks.set('record', 'indeterminate', why);
    checks.set(
      'status',
      'failed',
      parsed.ok
        ? `${parsed.value.number} was not issued by this platform`
        : 'not issued by this platform: the record has no valid certificate number',
    );
    return undefined;
  }
  checks.set(
    'pdfHash',
    record.document?.sha256 === cert.pdfSha256 ? 'passed' : 'failed',
    record.document?.sha256 === cert.pdfSha256
      ? `the record names the PDF registered for ${cert.number}`
      : `the record names the PDF ${String(record.document?.sha256).slice(0, 16)}…, but ${cert.number}'s registered PDF is ${cert.pdfSha256.slice(0, 16)}…`,
  );
  const same = sha256(Buffer.from(bytes)) === cert.recordSha256;
  checks.set(
    'record',
    same ? 'passed' : 'failed',
    same
      ? `the record is the one registered for ${cert.number}`
      : `the record differs from the one registered for ${cert.number}`,
  );
  return cert;
}

async function verifyNumber(deps: VerifyDeps, input: string, checks: Checks, rootPem: string | undefined) {
  const parsed = parseCertificateNumber(input);
  if (!parsed.ok) throw new VerifyInputError('number', `not a certificate number: ${parsed.reason}`);
  const number = parsed.value.number;
  const cert = await getCertificateCached(deps.db, deps.cache, number);
  if (!cert) {
    checks.set('status', 'failed', `${number} was not issued by this platform`);
    return undefined;
  }
  if (cert.origin === 'imported') {
    // docs/import.md: registered as it was from an earlier system; certflow never signed it.
    const why = `${number} was imported as it was from an earlier system: certflow holds no signed record of it`;
    checks.set('recordSignature', 'indeterminate', why);
    return cert;
  }
  const registered = await getRegisteredRecord(deps.db, deps.cache, number);
  const record = registered && parseRecord(registered.record);
  if (!registered || !record) {
    checks.set('recordSignature', 'failed', `the registered record of ${number} is missing or unreadable`);
    return cert;
  }
  await recordChecks(
    deps,
    checks,
    Buffer.from(registered.record, 'utf8'),
    registered.signature,
    rootPem,
    cert.department,
  );
  const ok = record.document?.sha256 === cert.pdfSha256;
  checks.set(
    'pdfHash',
    ok ? 'passed' : 'failed',
    ok
      ? 'the signed record names the registered PDF'
      : `the registry is inconsistent: the record of ${number} names a different PDF than the catalog`,
  );
  return cert;
}

// ---------------------------------------------------------------- shared checks

/**
 * The timestamp (when the signature has one) and revocation checks; returns the time the
 * timestamp proves. A revoked seal's signatures count only when a timestamp proves them older
 * than the cut-off (services/trust/revocation.ts).
 */
async function timeChecks(
  deps: VerifyDeps,
  checks: Checks,
  signerPem: string,
  token: Buffer | undefined,
  signatureValue: Buffer | undefined,
  rootPem: string | undefined,
): Promise<Date | undefined> {
  if (!rootPem) return undefined;
  let proven: Date | undefined;
  if (token && signatureValue) {
    const t = verifyTimestampToken(token, signatureValue, rootPem);
    checks.from('timestamp', t);
    if (t.ok) proven = t.genTime;
  }
  const serial = new X509Certificate(signerPem).serialNumber;
  checks.from('revocation', await revocationCheck(deps.db, serial, proven));
  return proven;
}

function signerChecks(
  checks: Checks,
  signerPem: string,
  chainPem: string[],
  signingTime: Date | undefined,
  rootPem: string | undefined,
  proven = false,
) {
  if (!rootPem) {
    for (const id of SIGNER_CHECKS) checks.set(id, 'indeterminate', 'no platform root is configured');
    return;
  }
  const c = checkSignerCertificate({
    signerCertificatePem: signerPem,
    chainPem,
    trustedRootPem: rootPem,
    at: signingTime ?? new Date(),
  });
  checks.from('chain', c.chain);
  const validity = signingTime ? c.validAtSigningTime : { ok: false, reason: 'the signature carries no signing time' };
  const whose = proven ? " (the timestamp's time)" : " (the signer's own claim: no timestamp)";
  checks.from('signerValidity', signingTime ? { ...validity, reason: validity.reason + whose } : validity);
  checks.from('signerProfile', c.documentSigningProfile);
}

/** recordSignature, the signer checks and issuer, for a record's detached signature. */
async function recordChecks(
  deps: VerifyDeps,
  checks: Checks,
  bytes: Uint8Array,
  signature: string,
  rootPem: string | undefined,
  expectedDepartment: string | undefined,
) {
  if (!rootPem) {
    for (const id of ['recordSignature', ...SIGNER_CHECKS, 'issuer'] as const)
      checks.set(id, 'indeterminate', 'no platform root is configured');
    return;
  }
  const rep = verifyRecordSignature(bytes, signature, rootPem);
  if (!rep.signer) {
    // Nothing to judge the signer by: say so rather than fail chain, validity and profile too.
    checks.set('recordSignature', 'failed', rep.checks.signature.reason);
    for (const id of [...SIGNER_CHECKS, 'issuer'] as const)
      checks.set(id, 'indeterminate', 'the signature names no signer certificate to check');
    return;
  }
  const { integrity, signature: sig } = rep.checks;
  checks.set(
    'recordSignature',
    integrity.ok && sig.ok ? 'passed' : 'failed',
    integrity.ok && sig.ok
      ? `the record is exactly what ${rep.signer.commonName} signed`
      : [integrity, sig]
          .filter((c) => !c.ok)
          .map((c) => c.reason)
          .join('; '),
  );
  const proven = await timeChecks(
    deps,
    checks,
    rep.signer.certificatePem,
    rep.timestampToken,
    rep.signatureValue,
    rootPem,
  );
  if (proven) signerChecks(checks, rep.signer.certificatePem, rep.signer.chainPem, proven, rootPem, true);
  else {
    checks.from('chain', rep.checks.chain);
    checks.from('signerValidity', rep.checks.validAtSigningTime);
    checks.from('signerProfile', rep.checks.documentSigningProfile);
  }
  issuerCheck(checks, rep.signer.departmentCode, rep.signer.commonName, expectedDepartment);
}

function issuerCheck(
  checks: Checks,
  signerDepartment: string | undefined,
  signerName: string | undefined,
  expected: string | undefined,
) {
  if (!expected) return checks.set('issuer', 'indeterminate', 'the issuing department is unknown');
  if (signerDepartment === expected)
    return checks.set('issuer', 'passed', `signed by ${signerName ?? expected} (${expected}), the issuing department`);
  checks.set(
    'issuer',
    'failed',
    `issued by department ${expected} but signed by ${signerDepartment ?? 'a certificate without a department (OU)'} ("${signerName ?? '?'}")`,
  );
}

/** The certificate's status today (China date), with when and why it changed. */
export function statusNow(cert: CachedCertificate, today: string): { check: Check; effective: CertificateStatus } {
  const on = cert.statusChangedAt.slice(0, 10);
  const why = cert.statusReason ? `: ${cert.statusReason}` : '';
  switch (cert.status) {
    case 'valid':
      if (cert.validUntil && cert.validUntil < today)
        return { effective: 'expired', check: { ok: false, reason: `expired: valid until ${cert.validUntil}` } };
      if (cert.validFrom > today)
        return { effective: 'valid', check: { ok: false, reason: `not valid before ${cert.validFrom}` } };
      return {
        effective: 'valid',
        check: { ok: true, reason: cert.validUntil ? `valid until ${cert.validUntil}` : 'valid, without end date' },
      };
    case 'expired':
      return {
        effective: 'expired',
        check: { ok: false, reason: `expired${cert.validUntil ? `: valid until ${cert.validUntil}` : ` on ${on}`}` },
      };
    case 'revoked':
      return { effective: 'revoked', check: { ok: false, reason: `revoked (吊销) on ${on}${why}` } };
    case 'cancelled':
      return { effective: 'cancelled', check: { ok: false, reason: `cancelled (注销) on ${on}${why}` } };
    case 'withdrawn':
      return { effective: 'withdrawn', check: { ok: false, reason: `withdrawn (撤销) on ${on}${why}` } };
    case 'suspended': {
      const until = cert.suspendedUntil ? ` until ${cert.suspendedUntil}` : ' until further notice';
      return { effective: 'suspended', check: { ok: false, reason: `suspended (暂停) since ${on}${until}${why}` } };
    }
    case 'superseded':
      return { effective: 'superseded', check: { ok: false, reason: `superseded on ${on}${why}` } };
    default:
      return { effective: cert.status, check: { ok: false, reason: `status ${String(cert.status)}` } };
  }
}

// ---------------------------------------------------------------- the public face

function summary(
  deps: VerifyDeps,
  cert: CachedCertificate,
  status: CertificateStatus,
  staff: boolean,
): CertificateSummary {
  let idMasked: string;
  try {
    const id = createHolderCrypto(deps.masterKey).decrypt(cert.holderIdEncrypted);
    // Credit codes are public registry data; a resident ID is shown to the public as little as can be.
    idMasked = cert.holderKind === 'person' && !staff ? maskHolderIdPublic(id) : maskHolderId(id);
  } catch {
    idMasked = '(unavailable)'; // a wrong master key must not break verification of everything else
  }
  return {
    number: cert.number,
    identifier: cert.identifier,
    type: { code: cert.typeCode, name: cert.typeName },
    holder: {
      kind: cert.holderKind,
      name: cert.holderKind === 'person' ? maskPersonName(cert.holderName) : cert.holderName,
      idMasked,
    },
    issuer: { department: cert.department, name: cert.issuerName, code: cert.issuerCode, region: cert.regionCode },
    issuedAt: cert.issuedAt,
    issuedOn: chinaDate(Date.parse(cert.issuedAt)),
    validity: { from: cert.validFrom, until: cert.validUntil },
    status,
    statusCode: CERTIFICATE_STATUS_CODES[status],
    statusChangedAt: cert.statusChangedAt,
    statusReason: cert.statusReason,
    ...(status === 'suspended' ? { suspendedUntil: cert.suspendedUntil ?? null } : {}),
  };
}

/** 张三 → 张*, 王建国 → 王*国, 欧阳娜娜 → 欧**娜: enough to match a person in front of you, not to look one up. */
export function maskPersonName(name: string): string {
  const c = [...name.trim()];
  if (c.length <= 1) return c.join('');
  if (c.length === 2) return `${c[0]}*`;
  return c[0] + '*'.repeat(c.length - 2) + c[c.length - 1];
}

function parseRecord(text: string): Partial<CertificateRecord> | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null ? (v as Partial<CertificateRecord>) : undefined;
  } catch {
    return undefined;
  }
}
