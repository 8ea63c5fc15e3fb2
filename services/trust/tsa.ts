import { createHash, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { x509 } from 'node-opcua-crypto';
import {
  children,
  context,
  DerError,
  expect,
  integer,
  oid,
  parse,
  readOid,
  readTime,
  sequence,
  TAG,
  tlv,
  type DerNode,
} from './der';
import { createSignature, OID, parseSignature, SignatureFormatError, toPem, verifyDetachedSignature } from './cms';
import {
  addDays,
  checkSignerCertificate,
  distinguishedName,
  dn,
  ensureNewline,
  exportPrivateKeyPem,
  importSigningKey,
  minutesAgo,
  pem,
  randomSerial,
  type RootCa,
  type SigningCredential,
} from './pki';

/**
 * RFC 3161 time-stamping, both halves (docs/trust.md, "Time-stamping"): certflow's own TSA
 * (a certificate under the platform root whose only, critical, extended key usage is
 * timeStamping) answers TimeStampReq with TimeStampResp, and every signature certflow makes
 * carries such a token over its signature value (the CAdES signature-time-stamp). Tokens are
 * CMS SignedData written by cms.ts with the TSTInfo embedded, so `openssl ts -verify` and
 * pyHanko read them.
 */

export const TIME_STAMPING_EKU = '1.3.6.1.5.5.7.3.8';
/** certflow's TSA policy: a UUID-derived OID (ITU-T X.667), needing no registration. */
export const TSA_POLICY = '2.25.42706261926161478809352115041304569423';

const HASHES: Record<string, { name: string; length: number }> = {
  [OID.sha256]: { name: 'sha256', length: 32 },
  [OID.sha384]: { name: 'sha384', length: 48 },
  [OID.sha512]: { name: 'sha512', length: 64 },
};

export class TimestampRequestError extends Error {
  constructor(
    message: string,
    /** PKIFailureInfo bit (RFC 3161 §2.4.2): 0 badAlg, 2 badRequest, 5 badDataFormat, 15 unacceptedPolicy. */
    readonly failInfo: number,
  ) {
    super(message);
    this.name = 'TimestampRequestError';
  }
}

// ---------------------------------------------------------------- the TSA certificate

export async function issueTsaCertificate(opts: {
  root: RootCa;
  commonName?: string;
  validityDays?: number;
  notBefore?: Date;
  crlUrl?: string;
}): Promise<SigningCredential> {
  const rootCert = new x509.X509Certificate(opts.root.certificatePem);
  const keys = (await webcrypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    ['sign', 'verify'],
  )) as webcrypto.CryptoKeyPair;
  const notBefore = opts.notBefore ?? minutesAgo(5);
  const rootKeyId = rootCert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    issuer: rootCert.subjectName,
    subject: distinguishedName({
      CN: opts.commonName ?? 'certflow Time-Stamping Authority',
      O: rootCert.subjectName.getField('O')[0] ?? 'certflow',
    }),
    notBefore,
    notAfter: new Date(
      Math.min(addDays(notBefore, opts.validityDays ?? 365 * 10).getTime(), rootCert.notAfter.getTime()),
    ),
    publicKey: keys.publicKey,
    signingKey: await importSigningKey(opts.root.privateKeyPem),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation, true),
      // RFC 3161 §2.3: exactly one extended key usage, timeStamping, and critical.
      new x509.ExtendedKeyUsageExtension([TIME_STAMPING_EKU], true),
      rootKeyId
        ? new x509.AuthorityKeyIdentifierExtension(rootKeyId)
        : await x509.AuthorityKeyIdentifierExtension.create(rootCert.publicKey),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ...(opts.crlUrl ? [new x509.CRLDistributionPointsExtension([opts.crlUrl])] : []),
    ],
  });
  return {
    privateKeyPem: await exportPrivateKeyPem(keys.privateKey),
    certificatePem: pem(cert),
    chainPem: [ensureNewline(opts.root.certificatePem)],
  };
}

// ---------------------------------------------------------------- requests

export interface TimestampRequest {
  hashAlgorithm: string;
  hashedMessage: Buffer;
  /** The MessageImprint as sent: the token must carry the same value. */
  messageImprint: Buffer;
  policy?: string;
  /** The INTEGER as sent (DER), echoed in the token. */
  nonce?: Buffer;
  certReq: boolean;
}

/** Reads a DER TimeStampReq; anything unusable is a TimestampRequestError naming what. */
export function parseTimestampRequest(der: Buffer): TimestampRequest {
  try {
    const fields = children(expect(parse(der), TAG.SEQUENCE, 'TimeStampReq'));
    const [version, imprint, ...rest] = fields;
    if (expect(version, TAG.INTEGER, 'version').content.toString('hex') !== '01') {
      throw new TimestampRequestError('TimeStampReq version must be 1', 2);
    }
    const [alg, hashed] = children(expect(imprint, TAG.SEQUENCE, 'messageImprint'));
    const hashAlgorithm = readOid(children(expect(alg, TAG.SEQUENCE, 'hashAlgorithm'))[0]!);
    const hashedMessage = expect(hashed, TAG.OCTET_STRING, 'hashedMessage').content;
    const hash = HASHES[hashAlgorithm];
    if (!hash)
      throw new TimestampRequestError(`unsupported hash algorithm ${hashAlgorithm}: use SHA-256, -384 or -512`, 0);
    if (hashedMessage.length !== hash.length) {
      throw new TimestampRequestError(
        `hashedMessage is ${hashedMessage.length} bytes, ${hash.name} gives ${hash.length}`,
        5,
      );
    }
    const req: TimestampRequest = { hashAlgorithm, hashedMessage, messageImprint: imprint!.raw, certReq: false };
    for (const f of rest) {
      if (f.tag === TAG.OID) req.policy = readOid(f);
      else if (f.tag === TAG.INTEGER) req.nonce = f.raw;
      else if (f.tag === TAG.BOOLEAN) req.certReq = f.content[0] !== 0;
      else if (f.tag === context(0)) throw new TimestampRequestError('request extensions are not supported', 2);
      else throw new TimestampRequestError(`unexpected field (tag 0x${f.tag.toString(16)}) in TimeStampReq`, 2);
    }
    if (req.policy && req.policy !== TSA_POLICY) {
      throw new TimestampRequestError(`policy ${req.policy} is not this TSA's (${TSA_POLICY})`, 15);
    }
    return req;
  } catch (err) {
    if (err instanceof TimestampRequestError) throw err;
    if (err instanceof DerError) throw new TimestampRequestError(`not a DER TimeStampReq: ${err.message}`, 5);
    throw err;
  }
}

/** A TimeStampReq over a SHA-256 digest, with a fresh nonce and the TSA certificate asked for. */
export function encodeTimestampRequest(sha256Digest: Buffer): { der: Buffer; nonce: Buffer } {
  const nonce = integer(randomBytes(8));
  const der = sequence(
    integer(1),
    sequence(sequence(oid(OID.sha256), Buffer.from([TAG.NULL, 0])), tlv(TAG.OCTET_STRING, sha256Digest)),
    nonce,
    Buffer.from([TAG.BOOLEAN, 1, 0xff]),
  );
  return { der, nonce };
}

// ---------------------------------------------------------------- tokens and responses

/** GeneralizedTime with whole seconds (RFC 3161 §2.4.2 wants GeneralizedTime, even before 2050). */
function generalizedTime(date: Date): Buffer {
  const digits = date.toISOString().slice(0, 19).replace(/[-:T]/g, '');
  return tlv(TAG.GENERALIZED_TIME, Buffer.from(`${digits}Z`, 'ascii'));
}

export async function createTimestampToken(
  tsa: SigningCredential,
  req: TimestampRequest,
  opts: { genTime?: Date; serial?: Buffer } = {},
): Promise<Buffer> {
  const genTime = opts.genTime ?? new Date(Math.floor(Date.now() / 1000) * 1000);
  const tstInfo = sequence(
    integer(1),
    oid(TSA_POLICY),
    req.messageImprint,
    integer(opts.serial ?? Buffer.from(randomSerial(), 'hex')),
    generalizedTime(genTime),
    sequence(integer(1)), // accuracy: one second
    ...(req.nonce ? [req.nonce] : []),
  );
  const digest = createHash('sha256').update(tstInfo).digest();
  return createSignature(digest, tsa, genTime, {
    eContent: { type: OID.tstInfo, value: tstInfo },
    omitCertificates: !req.certReq,
  });
}

/** TimeStampResp: granted with the token, or rejection with the failure bit and text. */
export function timestampResponse(result: { token: Buffer } | { error: TimestampRequestError }): Buffer {
  if ('token' in result) return sequence(sequence(integer(0)), result.token);
  const bit = result.error.failInfo;
  const bytes = Buffer.alloc(Math.floor(bit / 8) + 1);
  bytes[bytes.length - 1] = 0x80 >> (bit % 8);
  const failInfo = tlv(TAG.BIT_STRING, Buffer.concat([Buffer.from([7 - (bit % 8)]), bytes]));
  const text = sequence(tlv(TAG.UTF8_STRING, Buffer.from(result.error.message, 'utf8')));
  return sequence(sequence(integer(2), text, failInfo));
}

/** The token from a TimeStampResp; throws with the TSA's own words when it was not granted. */
export function tokenFromResponse(der: Buffer): Buffer {
  const [status, token] = children(expect(parse(der), TAG.SEQUENCE, 'TimeStampResp'));
  const [code, text] = children(expect(status, TAG.SEQUENCE, 'PKIStatusInfo'));
  const value = expect(code, TAG.INTEGER, 'status').content.readUIntBE(0, 1);
  if (value > 1 || !token) {
    const words =
      text?.tag === TAG.SEQUENCE
        ? children(text)
            .map((t) => t.content.toString('utf8'))
            .join('; ')
        : '';
    throw new Error(`the TSA refused the request (status ${value}${words ? `: ${words}` : ''})`);
  }
  return token.raw;
}

// ---------------------------------------------------------------- checking a token

export interface TimestampCheck {
  ok: boolean;
  reason: string;
  /** The TSA's time, once the token itself is readable and signed. */
  genTime?: Date;
  tsaCertificatePem?: string;
}

/**
 * Is `token` a timestamp over `data` (for a signature timestamp: the signature value), by a
 * TSA chaining to the root with the timeStamping profile, valid at its genTime?
 */
export function verifyTimestampToken(
  token: Buffer,
  data: Buffer,
  trustedRootPem: string,
  extraCertsPem: string[] = [],
): TimestampCheck {
  let parsed;
  let info;
  try {
    parsed = parseSignature(token);
    if (parsed.eContentType !== OID.tstInfo || !parsed.eContent)
      return { ok: false, reason: 'the token holds no TSTInfo' };
    info = readTstInfo(parse(parsed.eContent));
  } catch (err) {
    const message = err instanceof SignatureFormatError || err instanceof DerError ? err.message : String(err);
    return { ok: false, reason: `the timestamp token is unreadable: ${message}` };
  }
  const at = info.genTime.toISOString();
  const hash = HASHES[info.hashAlgorithm];
  if (!hash) return { ok: false, reason: `the timestamp uses an unsupported hash ${info.hashAlgorithm}` };
  if (!createHash(hash.name).update(data).digest().equals(info.hashedMessage)) {
    return { ok: false, reason: 'the timestamp is over other data, not this signature' };
  }
  const pool = [...parsed.certificates, ...extraCertsPem.map((p) => new X509Certificate(p))];
  const issuer = parsed.signerCertificate ?? pool.find((c) => matchesSid(parsed, c));
  if (!issuer) return { ok: false, reason: 'the TSA certificate is neither in the token nor supplied' };
  const check = verifyDetachedSignature({ ...parsed, signerCertificate: issuer }, parsed.eContent);
  if (!check.signatureValid || !check.digestMatches)
    return { ok: false, reason: `the timestamp token: ${check.reason}` };
  if (!parsed.signingCertificateHashes)
    return { ok: false, reason: 'the token lacks the ESS signing-certificate attribute' };
  const chain = checkSignerCertificate({
    signerCertificatePem: toPem(issuer),
    chainPem: pool.filter((c) => c !== issuer).map(toPem),
    trustedRootPem,
    at: info.genTime,
  });
  if (!chain.chain.ok) return { ok: false, reason: `the TSA: ${chain.chain.reason}` };
  if (!chain.validAtSigningTime.ok) return { ok: false, reason: `the TSA: ${chain.validAtSigningTime.reason}` };
  const eku = new x509.X509Certificate(issuer.raw).getExtension(x509.ExtendedKeyUsageExtension);
  if (!eku?.critical || eku.usages.length !== 1 || eku.usages[0] !== TIME_STAMPING_EKU) {
    return {
      ok: false,
      reason: `"${dn(issuer.subject)}" is not a time-stamping certificate (critical EKU timeStamping only)`,
    };
  }
  return {
    ok: true,
    reason: `timestamped at ${at} by "${dn(issuer.subject)}"`,
    genTime: info.genTime,
    tsaCertificatePem: toPem(issuer),
  };
}

function matchesSid(parsed: ReturnType<typeof parseSignature>, cert: X509Certificate): boolean {
  return (
    parsed.signingCertificateHashes?.some((h) => h.equals(createHash('sha256').update(cert.raw).digest())) ?? false
  );
}

function readTstInfo(node: DerNode) {
  const [version, policy, imprint, serial, genTime] = children(expect(node, TAG.SEQUENCE, 'TSTInfo'));
  expect(version, TAG.INTEGER, 'TSTInfo version');
  const [alg, hashed] = children(expect(imprint, TAG.SEQUENCE, 'messageImprint'));
  return {
    policy: readOid(policy!),
    hashAlgorithm: readOid(children(expect(alg, TAG.SEQUENCE, 'hashAlgorithm'))[0]!),
    hashedMessage: expect(hashed, TAG.OCTET_STRING, 'hashedMessage').content,
    serial: expect(serial, TAG.INTEGER, 'serialNumber').content,
    genTime: readTime(expect(genTime, TAG.GENERALIZED_TIME, 'genTime')),
  };
}

/** The certificates a token carries (the TSA's, then its chain): what the DSS adds for them. */
export const tokenCertificates = (token: Buffer) => parseSignature(token).certificates.map(toPem);
