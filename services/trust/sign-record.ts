import {
  createDetachedSignature,
  createSignature,
  parseDetachedSignature,
  sha256,
  SignatureFormatError,
  toPem,
  verifyDetachedSignature,
} from './cms';
import { checkSignerCertificate, describeCertificate, type Check, type SigningCredential } from './pki';

/**
 * The detached signature over a certificate record — the bytes of `canonicalBytes(record)`
 * from domain/canonical-json: base64 of a DER CMS SignedData, the same structure as the
 * PDF signature, so relying parties can check it without certflow:
 *   openssl cms -verify -binary -inform DER -in record.sig.der -content record.json
 *     -CAfile root.pem -purpose any
 * (`-purpose any` because openssl's default S/MIME purpose wants the emailProtection
 * EKU: our development certificates carry it, an imported one may not.)
 */

export function signRecord(
  canonicalBytes: Uint8Array,
  signer: SigningCredential,
  opts: { signingTime?: Date } = {},
): string {
  const signingTime = opts.signingTime ?? new Date(Math.floor(Date.now() / 1000) * 1000);
  return createDetachedSignature(sha256(canonicalBytes), signer, signingTime).toString('base64');
}

/** The same, with an RFC 3161 signature timestamp token over the signature value (CAdES-T). */
export async function signRecordTimestamped(
  canonicalBytes: Uint8Array,
  signer: SigningCredential,
  opts: { signingTime: Date; timestamp: (signatureValue: Buffer) => Promise<Buffer> },
): Promise<string> {
  const der = await createSignature(sha256(canonicalBytes), signer, opts.signingTime, { timestamp: opts.timestamp });
  return der.toString('base64');
}

export interface RecordSignatureReport {
  /** Every check passed. */
  ok: boolean;
  checks: {
    /** The record bytes are the ones that were signed. */
    integrity: Check;
    /** The signer certificate's key made the signature, over attributes naming that certificate. */
    signature: Check;
    /** The signer certificate chains to the trusted root. */
    chain: Check;
    /**
     * Signer (and chain) valid at the claimed signing time. No timestamp authority yet: the time
     * is the signer's own.
     */
    validAtSigningTime: Check;
    /** digitalSignature + nonRepudiation, EKU documentSigning, not a CA. */
    documentSigningProfile: Check;
    /** Only when asked: the signer is the department the record names as issuer. */
    issuer?: Check;
  };
  signer?: ReturnType<typeof describeCertificate> & { certificatePem: string; chainPem: string[] };
  signingTime?: Date;
  /** The signature value and its RFC 3161 token, for the timestamp and revocation checks. */
  signatureValue?: Buffer;
  timestampToken?: Buffer;
}

export function verifyRecordSignature(
  canonicalBytes: Uint8Array,
  signature: string | Buffer,
  trustedRootPem: string,
  opts: { issuerDepartmentCode?: string } = {},
): RecordSignatureReport {
  const der = typeof signature === 'string' ? Buffer.from(signature, 'base64') : signature;
  let parsed;
  try {
    parsed = parseDetachedSignature(der);
  } catch (err) {
    if (!(err instanceof SignatureFormatError)) throw err;
    return allFailed(err.message, opts);
  }
  const signer = parsed.signerCertificate;
  if (!signer) return allFailed('the signer certificate is not included in the signature', opts);

  const result = verifyDetachedSignature(parsed, canonicalBytes);
  const integrity: Check = result.digestMatches
    ? { ok: true, reason: 'the record is exactly the signed bytes' }
    : { ok: false, reason: 'the record differs from what was signed' };
  const signatureCheck: Check = result.signatureValid
    ? { ok: true, reason: `signed by "${describeCertificate(signer).commonName}"` }
    : { ok: false, reason: result.reason };

  const signerCertificatePem = toPem(signer);
  const certificateChecks = checkSignerCertificate({
    signerCertificatePem,
    chainPem: parsed.certificates.filter((c) => c !== signer).map(toPem),
    trustedRootPem,
    at: parsed.signingTime ?? new Date(),
  });
  const described = describeCertificate(signer);

  const checks: RecordSignatureReport['checks'] = {
    integrity,
    signature: signatureCheck,
    chain: certificateChecks.chain,
    validAtSigningTime: parsed.signingTime
      ? certificateChecks.validAtSigningTime
      : { ok: false, reason: 'the signature has no signing time' },
    documentSigningProfile: certificateChecks.documentSigningProfile,
  };
  if (opts.issuerDepartmentCode !== undefined) {
    checks.issuer =
      described.departmentCode === opts.issuerDepartmentCode
        ? { ok: true, reason: `signed by the issuing department ${opts.issuerDepartmentCode}` }
        : {
            ok: false,
            reason: `the record's issuer is ${opts.issuerDepartmentCode} but it was signed by ${described.departmentCode ?? 'a certificate without a department code'} ("${described.commonName}")`,
          };
  }
  return {
    ok: Object.values(checks).every((c) => c.ok),
    checks,
    signer: {
      ...described,
      certificatePem: signerCertificatePem,
      chainPem: parsed.certificates.filter((c) => c !== signer).map(toPem),
    },
    signingTime: parsed.signingTime,
    signatureValue: parsed.signature,
    timestampToken: parsed.timestampToken,
  };
}

function allFailed(reason: string, opts: { issuerDepartmentCode?: string }): RecordSignatureReport {
  const failed: Check = { ok: false, reason };
  return {
    ok: false,
    checks: {
      integrity: failed,
      signature: failed,
      chain: failed,
      validAtSigningTime: failed,
      documentSigningProfile: failed,
      ...(opts.issuerDepartmentCode !== undefined ? { issuer: failed } : {}),
    },
  };
}
