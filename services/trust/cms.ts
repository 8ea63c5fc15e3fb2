import { createHash, createPrivateKey, sign, verify, X509Certificate } from 'node:crypto';
import { x509 } from 'node-opcua-crypto';
import {
  children,
  context,
  DerError,
  expect,
  explicit,
  integer,
  nullValue,
  octetString,
  oid,
  parse,
  readOid,
  readTime,
  retag,
  sequence,
  setOf,
  TAG,
  time,
  tlv,
  type DerNode,
} from './der';
import type { SigningCredential } from './pki';

/**
 * Detached CMS SignedData (RFC 5652), written and read here. One signer, identified by
 * issuer and serial number; signed attributes contentType, signingTime, messageDigest
 * and ESS signing-certificate-v2 (RFC 5035), which binds the signer certificate into
 * what is signed so it cannot be swapped for another with the same key — the PAdES /
 * CAdES baseline (B-B) set. Certificates: the signer's, then its chain.
 * Both PDF signatures and record signatures are this structure.
 */

export const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  /** id-aa-signatureTimeStampToken (RFC 3161 appendix A): unsigned, over the signature value. */
  signatureTimeStampToken: '1.2.840.113549.1.9.16.2.14',
  /** id-ct-TSTInfo: the content of a timestamp token. */
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  rsaEncryption: '1.2.840.113549.1.1.1',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  sha384WithRSAEncryption: '1.2.840.113549.1.1.12',
  sha512WithRSAEncryption: '1.2.840.113549.1.1.13',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  ecdsaWithSHA384: '1.2.840.10045.4.3.3',
  ecdsaWithSHA512: '1.2.840.10045.4.3.4',
} as const;

const HASH_BY_OID: Record<string, string> = {
  [OID.sha256]: 'sha256',
  [OID.sha384]: 'sha384',
  [OID.sha512]: 'sha512',
};

export const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest();

export interface SignedDataOptions {
  /** Leave out signingTime: PAdES forbids it (the time comes from /M and the timestamp). */
  pades?: boolean;
  /** Embedded content (a timestamp token's TSTInfo); detached when absent. */
  eContent?: { type: string; value: Buffer };
  /** Adds the signature timestamp token (unsigned attribute) over the signature value. */
  timestamp?: (signatureValue: Buffer) => Promise<Buffer>;
  /** No certificates in the SignedData (a TSA asked without certReq, RFC 3161 §2.4.1). */
  omitCertificates?: boolean;
}

/**
 * Signs a SHA-256 digest of the content. Without a timestamp the result depends only on its
 * inputs (RSA PKCS#1 v1.5 is deterministic), so a retried signing writes the same bytes.
 */
export function createDetachedSignature(contentDigest: Buffer, signer: SigningCredential, signingTime: Date): Buffer {
  return assemble(signedParts(contentDigest, signer, signingTime, {}), []);
}

/** The same signature, with a timestamp token over its value when `opts.timestamp` is given. */
export async function createSignature(
  contentDigest: Buffer,
  signer: SigningCredential,
  signingTime: Date | undefined,
  opts: SignedDataOptions,
): Promise<Buffer> {
  const parts = signedParts(contentDigest, signer, signingTime, opts);
  const unsigned = opts.timestamp
    ? [sequence(oid(OID.signatureTimeStampToken), setOf(await opts.timestamp(parts.signature)))]
    : [];
  return assemble(parts, unsigned);
}

interface SignedParts {
  cert: X509Certificate;
  signedAttrs: Buffer;
  signatureAlgorithm: Buffer;
  signature: Buffer;
  chain: Buffer[];
  eContent?: { type: string; value: Buffer };
  omitCertificates?: boolean;
}

function signedParts(
  contentDigest: Buffer,
  signer: SigningCredential,
  signingTime: Date | undefined,
  opts: SignedDataOptions,
): SignedParts {
  if (contentDigest.length !== 32) throw new RangeError('contentDigest must be a SHA-256 digest');
  const key = createPrivateKey(signer.privateKeyPem);
  const cert = new X509Certificate(signer.certificatePem);
  if (!cert.checkPrivateKey(key)) throw new Error('the private key does not belong to the signing certificate');

  const attribute = (type: string, value: Buffer) => sequence(oid(type), setOf(value));
  const signedAttrs = setOf(
    attribute(OID.contentType, oid(opts.eContent?.type ?? OID.data)),
    ...(opts.pades || !signingTime ? [] : [attribute(OID.signingTime, time(signingTime))]),
    attribute(OID.messageDigest, octetString(contentDigest)),
    // SigningCertificateV2 { certs: [ESSCertIDv2 { certHash }] }; hashAlgorithm defaults to
    // SHA-256 and so is left out (DER), issuerSerial is left out as the baseline advises.
    attribute(OID.signingCertificateV2, sequence(sequence(sequence(octetString(sha256(cert.raw)))))),
  );

  let signatureAlgorithm: Buffer;
  if (key.asymmetricKeyType === 'rsa') signatureAlgorithm = sequence(oid(OID.rsaEncryption), nullValue());
  else if (key.asymmetricKeyType === 'ec') signatureAlgorithm = sequence(oid(OID.ecdsaWithSHA256));
  else throw new Error(`unsupported signing key type ${key.asymmetricKeyType}`);
  // The signature covers the attributes encoded as a SET (tag 0x31), not as [0].
  const signature = sign('sha256', signedAttrs, key);
  const chain = signer.chainPem.map((p) => new X509Certificate(p).raw).filter((der) => !der.equals(cert.raw));
  const { eContent, omitCertificates } = opts;
  return { cert, signedAttrs, signatureAlgorithm, signature, chain, eContent, omitCertificates };
}

function assemble(p: SignedParts, unsignedAttrs: Buffer[]): Buffer {
  const { issuer, serialNumber } = issuerAndSerial(p.cert.raw);
  const signerInfo = sequence(
    integer(1),
    sequence(issuer, serialNumber),
    sequence(oid(OID.sha256)),
    retag(p.signedAttrs, context(0)),
    p.signatureAlgorithm,
    octetString(p.signature),
    ...(unsignedAttrs.length ? [retag(setOf(...unsignedAttrs), context(1))] : []),
  );
  const certificates = retag(setOf(p.cert.raw, ...dedupe(p.chain)), context(0));
  const encap = p.eContent
    ? sequence(oid(p.eContent.type), explicit(0, octetString(p.eContent.value)))
    : sequence(oid(OID.data)); // no eContent: detached
  // RFC 5652 §5.1: version 3 when the content is not id-data.
  const signedData = sequence(
    integer(p.eContent ? 3 : 1),
    setOf(sequence(oid(OID.sha256))),
    encap,
    ...(p.omitCertificates ? [] : [certificates]),
    setOf(signerInfo),
  );
  return sequence(oid(OID.signedData), explicit(0, signedData));
}

export interface ParsedSignature {
  /** Every certificate carried in the signature, signer included. */
  certificates: X509Certificate[];
  /** The one matching the SignerInfo's issuer and serial number; undefined if absent. */
  signerCertificate: X509Certificate | undefined;
  digestAlgorithm: string;
  messageDigest: Buffer | undefined;
  contentType: string | undefined;
  signingTime: Date | undefined;
  /** SHA-256 certificate hashes from signing-certificate-v2; undefined without the attribute. */
  signingCertificateHashes: Buffer[] | undefined;
  /** The signed attributes re-encoded as the SET that was signed. */
  signedAttributes: Buffer;
  signatureAlgorithm: string;
  signature: Buffer;
  /** id-data for signatures over documents; id-ct-TSTInfo for timestamp tokens. */
  eContentType: string;
  /** The embedded content (a token's TSTInfo); undefined when detached. */
  eContent: Buffer | undefined;
  /** The signature timestamp token (unsigned attribute), DER, if there is one. */
  timestampToken: Buffer | undefined;
}

export class SignatureFormatError extends Error {
  constructor(message: string) {
    super(`not a usable CMS signature: ${message}`);
    this.name = 'SignatureFormatError';
  }
}

/** Throws SignatureFormatError, and nothing else, for anything it cannot read. */
export function parseDetachedSignature(der: Buffer): ParsedSignature {
  return parseSignature(der, false);
}

/** Any one-signer SignedData, the content embedded or not (timestamp tokens embed their TSTInfo). */
export function parseSignature(der: Buffer, allowEmbedded = true): ParsedSignature {
  try {
    return parseSignedData(der, allowEmbedded);
  } catch (err) {
    if (err instanceof SignatureFormatError) throw err;
    // Parsing is pure: whatever failed (DER, an embedded certificate), the input is at fault.
    throw new SignatureFormatError(err instanceof DerError ? err.message : `unreadable (${(err as Error).message})`);
  }
}

function parseSignedData(der: Buffer, allowEmbedded: boolean): ParsedSignature {
  const [type, wrapped] = children(expect(parse(der), TAG.SEQUENCE, 'ContentInfo'));
  if (readOid(expect(type, TAG.OID, 'contentType')) !== OID.signedData)
    throw new SignatureFormatError('not SignedData');
  const [signedData] = children(expect(wrapped, context(0), 'content'));
  const fields = children(expect(signedData, TAG.SEQUENCE, 'SignedData'));
  const [, , encap] = fields;
  const [eType, eWrapped] = children(expect(encap, TAG.SEQUENCE, 'encapContentInfo'));
  if (!allowEmbedded && (eWrapped || readOid(expect(eType, TAG.OID, 'eContentType')) !== OID.data)) {
    throw new SignatureFormatError(
      'the content is embedded or not id-data; a detached document signature was expected',
    );
  }
  const eContent =
    eWrapped && expect(children(expect(eWrapped, context(0), 'eContent'))[0], TAG.OCTET_STRING, 'eContent');
  const certNode = fields.find((f) => f.tag === context(0));
  const certificates = certNode ? children(certNode).map((c) => readCertificate(c.raw)) : [];
  const signerInfos = children(expect(fields[fields.length - 1], TAG.SET, 'signerInfos'));
  if (signerInfos.length !== 1) throw new SignatureFormatError(`expected one signer, found ${signerInfos.length}`);
  const si = children(expect(signerInfos[0], TAG.SEQUENCE, 'SignerInfo'));
  const [, sid, digestAlg, attrs, sigAlg, sigValue, unsignedAttrs] = si;
  if (!attrs || attrs.tag !== context(0)) throw new SignatureFormatError('signed attributes are missing');

  const sidNode = expect(sid, TAG.SEQUENCE, 'signer identifier (issuerAndSerialNumber)');
  const signerCertificate = certificates.find((c) => {
    const { issuer, serialNumber } = issuerAndSerial(c.raw);
    return Buffer.concat([issuer, serialNumber]).equals(sidNode.content);
  });

  const result: ParsedSignature = {
    certificates,
    signerCertificate,
    digestAlgorithm: readOid(children(expect(digestAlg, TAG.SEQUENCE, 'digestAlgorithm'))[0]!),
    messageDigest: undefined,
    contentType: undefined,
    signingTime: undefined,
    signingCertificateHashes: undefined,
    signedAttributes: tlv(TAG.SET, attrs.content),
    signatureAlgorithm: readOid(children(expect(sigAlg, TAG.SEQUENCE, 'signatureAlgorithm'))[0]!),
    signature: expect(sigValue, TAG.OCTET_STRING, 'signature').content,
    eContentType: readOid(expect(eType, TAG.OID, 'eContentType')),
    eContent: eContent?.content,
    timestampToken: undefined,
  };
  if (unsignedAttrs && unsignedAttrs.tag === context(1)) {
    for (const attr of children(unsignedAttrs)) {
      const [attrType, values] = children(attr);
      if (readOid(attrType!) !== OID.signatureTimeStampToken) continue;
      result.timestampToken = children(expect(values, TAG.SET, 'attribute values'))[0]?.raw;
    }
  }
  for (const attr of children(attrs)) {
    const [attrType, values] = children(attr);
    const value = children(expect(values, TAG.SET, 'attribute values'))[0];
    if (!value) continue;
    switch (readOid(attrType!)) {
      case OID.contentType:
        result.contentType = readOid(value);
        break;
      case OID.messageDigest:
        result.messageDigest = expect(value, TAG.OCTET_STRING, 'messageDigest').content;
        break;
      case OID.signingTime:
        result.signingTime = readTime(value);
        break;
      case OID.signingCertificateV2:
        result.signingCertificateHashes = essCertHashes(value);
        break;
    }
  }
  return result;
}

/** SHA-256 hashes from SigningCertificateV2; other hash algorithms are not produced here. */
function essCertHashes(value: DerNode): Buffer[] {
  const [certs] = children(expect(value, TAG.SEQUENCE, 'SigningCertificateV2'));
  return children(expect(certs, TAG.SEQUENCE, 'certs')).flatMap((id) => {
    const parts = children(id);
    const hasAlg = parts[0]?.tag === TAG.SEQUENCE;
    const alg = hasAlg ? readOid(children(parts[0]!)[0]!) : OID.sha256;
    const hash = parts[hasAlg ? 1 : 0];
    return alg === OID.sha256 && hash?.tag === TAG.OCTET_STRING ? [hash.content] : [];
  });
}

export interface SignatureVerification {
  /** messageDigest equals the digest of the content. */
  digestMatches: boolean;
  /** The signer's key signed the attributes, and the attributes name that signer certificate. */
  signatureValid: boolean;
  reason: string;
}

/** Checks a parsed signature against the content it claims to sign (given as bytes or ranges). */
export function verifyDetachedSignature(
  parsed: ParsedSignature,
  content: Uint8Array | Uint8Array[],
): SignatureVerification {
  const hashName = HASH_BY_OID[parsed.digestAlgorithm];
  if (!hashName)
    return {
      digestMatches: false,
      signatureValid: false,
      reason: `unsupported digest algorithm ${parsed.digestAlgorithm}`,
    };
  const h = createHash(hashName);
  for (const part of Array.isArray(content) ? content : [content]) h.update(part);
  const digest = h.digest();
  const digestMatches = !!parsed.messageDigest && parsed.messageDigest.equals(digest);

  const fail = (reason: string) => ({ digestMatches, signatureValid: false, reason });
  const signer = parsed.signerCertificate;
  if (!signer) return fail('the signer certificate is not included in the signature');
  if (parsed.contentType !== parsed.eContentType)
    return fail('the contentType attribute does not name the content type');
  if (parsed.signingCertificateHashes && !parsed.signingCertificateHashes.some((x) => x.equals(sha256(signer.raw)))) {
    return fail('the signing-certificate-v2 attribute names a different certificate than the signer');
  }
  const algorithmHash = signatureHash(parsed.signatureAlgorithm, hashName);
  if (!algorithmHash) return fail(`unsupported signature algorithm ${parsed.signatureAlgorithm}`);
  let valid: boolean;
  try {
    valid = verify(algorithmHash, parsed.signedAttributes, signer.publicKey, parsed.signature);
  } catch {
    valid = false;
  }
  if (!valid) return fail("the signature does not verify with the signer certificate's public key");
  return {
    digestMatches,
    signatureValid: true,
    reason: digestMatches ? 'signature valid and the content is unchanged' : 'the signed content has been changed',
  };
}

function signatureHash(algorithm: string, digestHash: string): string | undefined {
  switch (algorithm) {
    case OID.rsaEncryption:
      return digestHash;
    case OID.sha256WithRSAEncryption:
    case OID.ecdsaWithSHA256:
      return 'sha256';
    case OID.sha384WithRSAEncryption:
    case OID.ecdsaWithSHA384:
      return 'sha384';
    case OID.sha512WithRSAEncryption:
    case OID.ecdsaWithSHA512:
      return 'sha512';
    default:
      return undefined;
  }
}

/**
 * Both readers must accept it: node:crypto checks chains, @peculiar/x509 reads the
 * extensions (lazily, so they are touched here) — a damaged one is caught now, not later.
 */
function readCertificate(der: Buffer): X509Certificate {
  const cert = new X509Certificate(der);
  void new x509.X509Certificate(der).extensions;
  return cert;
}

/** The issuer Name and serialNumber INTEGER of a certificate, as encoded in it. */
export function issuerAndSerial(certDer: Buffer): { issuer: Buffer; serialNumber: Buffer } {
  const [tbs] = children(parse(certDer));
  const fields = children(tbs!);
  const offset = fields[0]!.tag === context(0) ? 1 : 0; // [0] version
  return { serialNumber: fields[offset]!.raw, issuer: fields[offset + 2]!.raw };
}

export const toPem = (cert: X509Certificate) =>
  cert.toString().endsWith('\n') ? cert.toString() : `${cert.toString()}\n`;

function dedupe(ders: Buffer[]): Buffer[] {
  return ders.filter((d, i) => ders.findIndex((e) => e.equals(d)) === i);
}
