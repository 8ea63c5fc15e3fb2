import { getActiveRoot } from '../../db/trust';
import { getAnnotatedCopy, type AnnotatedCopy } from '../../db/sharing';
import { sha256 } from '../../platform/blobs';
import { checkSignerCertificate } from '../trust/pki';
import { inspectPdfSignature, type PdfSignatureInspection } from '../trust/sign-pdf';
import {
  CHECKS,
  verifyCertificate,
  type CheckId,
  type CheckStatus,
  type VerificationCheck,
  type VerificationReport,
  type VerifyDeps,
  type VerifyInput,
  type VerifyOptions,
} from '../verify';
import { isPlatformSeal } from './platform-seal';

/**
 * Verification that knows annotated copies (加注件, docs/sharing.md). A copy is the issuer's
 * signed PDF followed by an annotation page, all signed by the platform's seal; its signature's
 * /Reason names the copy. The report is the certificate's own checks, run on the original bytes
 * inside the copy, plus two: the copy is intact and the platform's (copySignature), and it is
 * within its validity (copyValidity) — so an expired copy fails while the certificate stays valid.
 */

const COPY_REASON = /^电子证照加注件 ([0-9a-f-]{36}) /;

export async function verifyDocument(
  deps: VerifyDeps,
  input: VerifyInput,
  options: VerifyOptions = {},
): Promise<VerificationReport> {
  if (Buffer.isBuffer(input)) {
    const report = await verifyIfAnnotatedCopy(deps, input, options);
    if (report) return report;
  }
  return verifyCertificate(deps, input, options);
}

const check = (id: CheckId, status: CheckStatus, reason: string): VerificationCheck => ({
  id,
  ...CHECKS[id],
  status,
  reason,
});

async function verifyIfAnnotatedCopy(
  deps: VerifyDeps,
  pdf: Buffer,
  options: VerifyOptions,
): Promise<VerificationReport | undefined> {
  let i: PdfSignatureInspection;
  try {
    i = inspectPdfSignature(pdf);
  } catch {
    return undefined; // no readable last signature: the ordinary report says why
  }
  const id = COPY_REASON.exec(i.dictionary.reason ?? '')?.[1];
  if (!id) return undefined;
  const now = deps.now?.() ?? new Date();
  const copy = await getAnnotatedCopy(deps.db, id);
  if (!copy) {
    const reason = `the file claims to be annotated copy ${id}, which this platform never made`;
    return {
      verdict: 'invalid',
      input: 'pdf',
      checks: [check('copySignature', 'failed', reason)],
      certificate: null,
      checkedAt: now.toISOString(),
    };
  }
  // The certificate's own checks, on the original the copy carries.
  const base = await verifyCertificate(deps, pdf.subarray(0, Math.min(copy.originalLength, pdf.length)), options);
  const checks = [...base.checks, await copySignatureCheck(deps, pdf, i, copy), copyValidityCheck(copy, now)];
  return {
    verdict: checks.some((c) => c.status === 'failed')
      ? 'invalid'
      : checks.some((c) => c.status === 'indeterminate')
        ? 'indeterminate'
        : 'valid',
    input: 'pdf',
    checks,
    certificate: base.certificate,
    annotatedCopy: {
      id: copy.id,
      certificateNumber: copy.certificateNumber,
      matter: copy.matter,
      department: copy.department,
      apiClientId: copy.apiClientId,
      fetchedAt: copy.createdAt,
      validUntil: copy.validUntil,
      state: Date.parse(copy.validUntil) > now.getTime() ? 'valid' : 'expired',
    },
    checkedAt: now.toISOString(),
  };
}

async function copySignatureCheck(
  deps: VerifyDeps,
  pdf: Buffer,
  i: PdfSignatureInspection,
  copy: AnnotatedCopy,
): Promise<VerificationCheck> {
  const problems: string[] = [];
  if (!i.byteRangeCoversWholeFile) problems.push('content was added after the platform signed the copy');
  if (!i.digestMatches) problems.push('the copy was changed after signing: its digest no longer matches');
  if (!i.signatureValid) problems.push(i.reason);
  if (sha256(pdf.subarray(0, copy.originalLength)) !== copy.originalSha256)
    problems.push(`the copy does not contain the original of ${copy.certificateNumber} it was made from`);
  const rootPem = (await getActiveRoot(deps.db))?.certificatePem;
  if (!i.signerCertificatePem) problems.push('the signature names no signer certificate');
  else if (!(await isPlatformSeal(deps.db, i.signerCertificatePem))) problems.push("not signed by the platform's seal");
  else if (rootPem) {
    const c = checkSignerCertificate({
      signerCertificatePem: i.signerCertificatePem,
      chainPem: i.chainPem,
      trustedRootPem: rootPem,
      at: i.signingTime ?? new Date(),
    });
    for (const part of [c.chain, c.validAtSigningTime, c.documentSigningProfile])
      if (!part.ok) problems.push(part.reason);
  }
  return problems.length
    ? check('copySignature', 'failed', problems.join('; '))
    : check(
        'copySignature',
        'passed',
        `annotated copy ${copy.id} of ${copy.certificateNumber} is exactly what the platform's seal signed, the issuer's original included`,
      );
}

function copyValidityCheck(copy: AnnotatedCopy, now: Date): VerificationCheck {
  const what = `for 「${copy.matter}」 by ${copy.department}`;
  return Date.parse(copy.validUntil) > now.getTime()
    ? check('copyValidity', 'passed', `valid until ${copy.validUntil} ${what}`)
    : check(
        'copyValidity',
        'failed',
        `expired copy: it was valid until ${copy.validUntil} ${what}; the certificate itself is as its own checks say`,
      );
}
