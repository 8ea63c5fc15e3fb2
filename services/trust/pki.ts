import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  randomBytes,
  webcrypto,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import {
  createCrl as opcuaCreateCrl,
  parsePfx,
  PfxIntegrityError,
  PfxMalformedError,
  Pkcs12UnsupportedAlgorithmError,
  x509,
  type PrivateKey as OpcuaPrivateKey,
} from 'node-opcua-crypto';
import { privateKeyEncryptionKey } from '../../platform/keys';

/**
 * The platform's PKI (docs/trust.md): one root certifies each department's
 * signing certificate; a seal is the seal image plus that department's key.
 *
 * Development: `createDevelopmentRoot` + `issueDepartmentSigningCertificate` on first
 * start. Production: certificates from the real CA, brought in with `importPem` or
 * `importPkcs12`, which refuse anything that would later fail verification.
 *
 * Keys are RSA: RSA-3072 for the root, RSA-2048 for departments. RSA PKCS#1 v1.5
 * signatures are deterministic, so signing the same bytes at the same signing time
 * gives the same PDF byte for byte — what idempotent sealing activities keyed by
 * content hash rely on (ECDSA would give a new signature on every retry). poppler's
 * pdfsig (NSS) and `openssl cms` accept it, as do PDF readers generally. Imported EC
 * P-256 department keys work too (tested with an openssl-issued certificate).
 *
 * Both certificates come from the x509 generator node-opcua-crypto re-exports
 * (@peculiar/x509). Its own createSelfSignedCertificate would give the root the OPC-UA
 * profile (EKU serverAuth+clientAuth), an EKU that chain-checking verifiers may hold
 * against every certificate below it; a plain CA profile avoids the question.
 */

const subtle = webcrypto.subtle;
type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

/** RFC 9336 id-kp-documentSigning. Not serverAuth/clientAuth: a seal key is not a TLS key. */
export const DOCUMENT_SIGNING_EKU = '1.3.6.1.5.5.7.3.36';
/**
 * Also needed, measured here: poppler (pdfsig 22.12 with NSS 3.87) checks a PDF signer
 * for NSS's email-signer usage, which wants emailProtection whenever an EKU is present.
 * With documentSigning alone pdfsig says "Unknown issue with Certificate" even with the
 * root trusted; with both it says "Certificate is Trusted". openssl's default S/MIME
 * purpose wants it too.
 */
export const EMAIL_PROTECTION_EKU = '1.3.6.1.5.5.7.3.4';

const RSA_SIGNING: webcrypto.RsaHashedKeyGenParams = {
  name: 'RSASSA-PKCS1-v1_5',
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: 'SHA-256',
};

export interface RootCa {
  privateKeyPem: string;
  certificatePem: string;
}

/** What signs: a department's key, its certificate, and the certificates above it (root last). */
export interface SigningCredential {
  privateKeyPem: string;
  certificatePem: string;
  chainPem: string[];
}

export interface Department {
  /** Department code, e.g. `market`; goes into OU so verifiers can tell departments apart. */
  code: string;
  /** Department name in Chinese, e.g. 市场监督管理局; the certificate's CN. */
  name: string;
  /** 行政区划代码 of its jurisdiction, e.g. 330100; the certificate's L. */
  regionCode: string;
}

export interface Check {
  ok: boolean;
  reason: string;
}

export class TrustError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrustError';
  }
}

// ---------------------------------------------------------------- development CA

export async function createDevelopmentRoot(opts: {
  commonName: string;
  organization?: string;
  validityYears?: number;
  notBefore?: Date;
}): Promise<RootCa> {
  const keys = (await subtle.generateKey({ ...RSA_SIGNING, modulusLength: 3072 }, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const notBefore = opts.notBefore ?? minutesAgo(5);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: distinguishedName({ CN: opts.commonName, O: opts.organization ?? opts.commonName }),
    notBefore,
    notAfter: addDays(notBefore, 365 * (opts.validityYears ?? 20)),
    keys,
    extensions: [
      // pathLength 0: the development root signs department certificates only, no sub-CAs.
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { privateKeyPem: await exportPrivateKeyPem(keys.privateKey), certificatePem: pem(cert) };
}

export async function issueDepartmentSigningCertificate(opts: {
  root: RootCa;
  department: Department;
  validityDays: number;
  /** O of the department certificate; default: the root's O (the platform operator). */
  organization?: string;
  notBefore?: Date;
  /** Where relying parties fetch the root's CRL (RFC 5280 CRL distribution point). */
  crlUrl?: string;
}): Promise<SigningCredential> {
  const { root, department } = opts;
  if (!department.code || !department.name || !department.regionCode) {
    throw new TrustError('department code, name and regionCode are all required');
  }
  if (!(opts.validityDays > 0)) throw new TrustError('validityDays must be positive');
  const rootCert = new x509.X509Certificate(root.certificatePem);
  const rootKey = await importSigningKey(root.privateKeyPem);
  const keys = (await subtle.generateKey(RSA_SIGNING, true, ['sign', 'verify'])) as CryptoKeyPair;
  const rootKeyId = rootCert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const notBefore = opts.notBefore ?? minutesAgo(5);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    // The root's own encoded name, so the issuer matches its subject byte for byte.
    issuer: rootCert.subjectName,
    subject: distinguishedName({
      CN: department.name,
      OU: department.code,
      O: opts.organization ?? rootCert.subjectName.getField('O')[0] ?? department.name,
      L: department.regionCode,
    }),
    notBefore,
    // Never past the root: nothing it certified can verify once it has expired.
    notAfter: new Date(Math.min(addDays(notBefore, opts.validityDays).getTime(), rootCert.notAfter.getTime())),
    publicKey: keys.publicKey,
    signingKey: rootKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation, true),
      new x509.ExtendedKeyUsageExtension([DOCUMENT_SIGNING_EKU, EMAIL_PROTECTION_EKU], false),
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
    chainPem: [ensureNewline(root.certificatePem)],
  };
}

/** A CRL signed by the (development, RSA) root, listing the given serials (hex) as revoked. */
export async function createCrl(
  root: RootCa,
  revoked: { serialNumber: string; revocationDate?: Date; reason?: x509.X509CrlReason; invalidity?: Date }[],
  opts: { crlNumber: number; thisUpdate?: Date; nextUpdate?: Date },
): Promise<string> {
  const rootCert = new x509.X509Certificate(root.certificatePem);
  const { crl } = await opcuaCreateCrl({
    issuerName: rootCert.subjectName,
    issuerPublicKey: rootCert.publicKey,
    signingKey: await importSigningKey(root.privateKeyPem),
    signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: { name: 'SHA-256' } },
    crlNumber: opts.crlNumber,
    thisUpdate: opts.thisUpdate,
    nextUpdate: opts.nextUpdate,
    entries: revoked.map((r) => ({
      serialNumber: r.serialNumber,
      revocationDate: r.revocationDate,
      reason: r.reason,
      invalidity: r.invalidity,
    })),
  });
  return ensureNewline(crl);
}

// ---------------------------------------------------------------- production import

/**
 * A department credential from the real CA. Refuses, with the reason, a key that does
 * not match, a certificate that does not chain to the platform root, one that is not
 * valid now, or one without the document-signing profile.
 */
export function importPem(opts: {
  certificatePem: string;
  privateKeyPem: string;
  /** Intermediates (and optionally the root), as one PEM bundle or a list. */
  chainPem?: string | string[];
  trustedRootPem: string;
  at?: Date;
}): SigningCredential & { warnings: string[] } {
  const cert = parseCertificate(opts.certificatePem, 'certificatePem');
  let key: KeyObject;
  try {
    key = createPrivateKey(opts.privateKeyPem);
  } catch (err) {
    throw new TrustError(`privateKeyPem is not a readable unencrypted private key (${(err as Error).message})`);
  }
  if (!cert.checkPrivateKey(key)) {
    throw new TrustError(`the private key does not belong to the certificate "${cert.subject.replace(/\n/g, ', ')}"`);
  }
  const chainPem = splitPemBundle(opts.chainPem ?? []);
  chainPem.forEach((p, i) => parseCertificate(p, `chainPem[${i}]`));
  parseCertificate(opts.trustedRootPem, 'trustedRootPem');
  const checks = checkSignerCertificate({
    signerCertificatePem: opts.certificatePem,
    chainPem,
    trustedRootPem: opts.trustedRootPem,
    at: opts.at ?? new Date(),
  });
  if (!checks.chain.ok) throw new TrustError(`cannot import the signing certificate: ${checks.chain.reason}`);
  if (!checks.validAtSigningTime.ok) {
    throw new TrustError(
      `cannot import the signing certificate: it is not valid now: ${checks.validAtSigningTime.reason}`,
    );
  }
  if (!checks.documentSigningProfile.ok) {
    throw new TrustError(`cannot import the signing certificate: ${checks.documentSigningProfile.reason}`);
  }
  const warnings = new x509.X509Certificate(cert.raw)
    .getExtension(x509.ExtendedKeyUsageExtension)
    ?.usages.includes(EMAIL_PROTECTION_EKU)
    ? []
    : [
        'the certificate lacks the emailProtection extended key usage: poppler, LibreOffice and Firefox (NSS) will not trust its PDF signatures',
      ];
  // Embed what a relying party needs to build the path: the intermediates, then the root.
  const root = new X509Certificate(opts.trustedRootPem);
  const intermediates = chainPem.filter((p) => !new X509Certificate(p).raw.equals(root.raw));
  return {
    privateKeyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certificatePem: ensureNewline(cert.toString()),
    chainPem: [...intermediates.map(ensureNewline), ensureNewline(root.toString())],
    warnings,
  };
}

export async function importPkcs12(
  pfx: Buffer,
  password: string,
  opts: { trustedRootPem: string; at?: Date },
): Promise<SigningCredential & { warnings: string[] }> {
  let parsed: Awaited<ReturnType<typeof parsePfx>>;
  try {
    parsed = await parsePfx(pfx, password);
  } catch (err) {
    if (err instanceof PfxIntegrityError)
      throw new TrustError('cannot open the PKCS#12 file: wrong password or damaged file');
    if (err instanceof Pkcs12UnsupportedAlgorithmError || err instanceof PfxMalformedError) {
      // Typically a legacy (3DES/RC2) file from older Windows or CA tools; Node's OpenSSL 3 lacks RC2.
      throw new TrustError(
        `cannot use the PKCS#12 file: ${err.message}. If it uses legacy encryption, convert it ` +
          '(openssl pkcs12 -legacy -in old.p12 -nodes | openssl pkcs12 -export -out new.p12) or import the PEM files',
      );
    }
    throw new TrustError(`not a PKCS#12 file (${(err as Error).message})`);
  }
  return importPem({
    certificatePem: new X509Certificate(parsed.certificate).toString(),
    privateKeyPem: privateKeyToPem(parsed.privateKey),
    chainPem: parsed.certificateChain.map((der) => new X509Certificate(der).toString()),
    trustedRootPem: opts.trustedRootPem,
    at: opts.at,
  });
}

// ---------------------------------------------------------------- verification of signers

/**
 * The certificate half of verifying any signature (PDF or record): does the signer
 * chain to the trusted root, was every certificate on the path valid at the signing
 * time, and is the signer a document-signing certificate. Each check says why.
 */
export function checkSignerCertificate(opts: {
  signerCertificatePem: string;
  /** Candidate intermediates, e.g. the certificates embedded in the signature. */
  chainPem: string[];
  trustedRootPem: string;
  at: Date;
}): { chain: Check; validAtSigningTime: Check; documentSigningProfile: Check } {
  const leaf = new X509Certificate(opts.signerCertificatePem);
  const root = new X509Certificate(opts.trustedRootPem);
  const pool = opts.chainPem.map((p) => new X509Certificate(p));
  const path = buildPath(leaf, pool, root);
  const chain: Check = path.ok
    ? { ok: true, reason: `chains to the trusted root "${dn(root.subject)}" (${path.path.length} certificates)` }
    : { ok: false, reason: path.reason };

  const datesOf = path.ok ? path.path : [leaf];
  const expired = datesOf.find((c) => !validAt(c, opts.at));
  const validAtSigningTime: Check = expired
    ? {
        ok: false,
        reason: `"${dn(expired.subject)}" is valid from ${iso(new Date(expired.validFrom))} to ${iso(new Date(expired.validTo))}, not at the signing time ${iso(opts.at)}`,
      }
    : { ok: true, reason: `every certificate on the path was valid at ${iso(opts.at)}` };

  return { chain, validAtSigningTime, documentSigningProfile: checkDocumentSigningProfile(leaf) };
}

function checkDocumentSigningProfile(cert: X509Certificate): Check {
  let ku: InstanceType<typeof x509.KeyUsagesExtension> | null;
  let eku: InstanceType<typeof x509.ExtendedKeyUsageExtension> | null;
  try {
    const c = new x509.X509Certificate(cert.raw);
    ku = c.getExtension(x509.KeyUsagesExtension);
    eku = c.getExtension(x509.ExtendedKeyUsageExtension);
  } catch (err) {
    return { ok: false, reason: `"${dn(cert.subject)}" has unreadable extensions (${(err as Error).message})` };
  }
  const problems: string[] = [];
  if (cert.ca) problems.push('it is a CA certificate');
  if (!ku) problems.push('it has no key usage extension');
  else {
    if (!(ku.usages & x509.KeyUsageFlags.digitalSignature)) problems.push('key usage lacks digitalSignature');
    if (!(ku.usages & x509.KeyUsageFlags.nonRepudiation)) problems.push('key usage lacks nonRepudiation');
  }
  if (!eku?.usages.includes(DOCUMENT_SIGNING_EKU)) {
    problems.push(`extended key usage lacks documentSigning (${DOCUMENT_SIGNING_EKU})`);
  }
  return problems.length
    ? { ok: false, reason: `"${dn(cert.subject)}" is not a document-signing certificate: ${problems.join('; ')}` }
    : { ok: true, reason: 'digitalSignature + nonRepudiation, extended key usage documentSigning' };
}

type PathResult = { ok: true; path: X509Certificate[] } | { ok: false; reason: string };

function buildPath(leaf: X509Certificate, pool: X509Certificate[], root: X509Certificate): PathResult {
  const path = [leaf];
  let current = leaf;
  for (let depth = 0; depth < 8; depth++) {
    // By key, not by name: a foreign root that copies our root's name still fails here.
    if (issuedBy(current, root)) return { ok: true, path: [...path, root] };
    const parent = pool.find((c) => !path.some((p) => p.raw.equals(c.raw)) && c.ca && issuedBy(current, c));
    if (!parent) {
      const selfSigned = current.checkIssued(current) && current.verify(current.publicKey);
      return {
        ok: false,
        reason: selfSigned
          ? `the chain ends at "${dn(current.subject)}", which is not the trusted root`
          : `"${dn(current.subject)}" was not issued by the trusted root "${dn(root.subject)}" nor by any certificate supplied with it`,
      };
    }
    path.push(parent);
    current = parent;
  }
  return { ok: false, reason: 'the certificate chain is longer than 8' };
}

function issuedBy(child: X509Certificate, parent: X509Certificate): boolean {
  return child.checkIssued(parent) && child.verify(parent.publicKey);
}

/** False too when a date is unreadable: NaN compares false. */
function validAt(cert: X509Certificate, at: Date): boolean {
  return new Date(cert.validFrom).getTime() <= at.getTime() && at.getTime() <= new Date(cert.validTo).getTime();
}

const iso = (d: Date) => (Number.isNaN(d.getTime()) ? 'an unreadable date' : d.toISOString());

// ---------------------------------------------------------------- keys at rest

/**
 * Private keys at rest: `v1:<salt>:<iv>:<tag>:<ciphertext>`, base64 parts.
 * v1 = scrypt(master key, per-record salt; platform/keys.ts) → AES-256-GCM key, with the
 * scheme name as associated data. The version prefix lets a later scheme (an HSM, a
 * KMS-wrapped data key) live beside old records and be migrated one at a time.
 */
const V1 = { aad: Buffer.from('certflow private key v1') };

export class KeyDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyDecryptionError';
  }
}

function masterKeyBytes(masterKey: string | Buffer): Buffer {
  const bytes = Buffer.isBuffer(masterKey) ? masterKey : Buffer.from(masterKey, 'utf8');
  if (bytes.length < 16) throw new TrustError('the master key must be at least 16 bytes');
  return bytes;
}

export async function encryptPrivateKey(privateKeyPem: string, masterKey: string | Buffer): Promise<string> {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const key = await privateKeyEncryptionKey(masterKeyBytes(masterKey), salt);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(V1.aad);
  const ciphertext = Buffer.concat([cipher.update(privateKeyPem, 'utf8'), cipher.final()]);
  return ['v1', salt, iv, cipher.getAuthTag(), ciphertext]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64')))
    .join(':');
}

export async function decryptPrivateKey(blob: string, masterKey: string | Buffer): Promise<string> {
  const [version, ...parts] = blob.split(':');
  if (version !== 'v1') {
    throw new KeyDecryptionError(
      parts.length
        ? `unsupported private key encryption scheme "${version}"`
        : 'not an encrypted private key (expected "v1:…")',
    );
  }
  const [salt, iv, tag, ciphertext] = parts.map((p) => Buffer.from(p, 'base64'));
  if (parts.length !== 4 || salt!.length !== 16 || iv!.length !== 12 || tag!.length !== 16 || !ciphertext!.length) {
    throw new KeyDecryptionError('damaged encrypted private key (v1 needs salt, iv, tag and ciphertext)');
  }
  const key = await privateKeyEncryptionKey(masterKeyBytes(masterKey), salt!);
  const decipher = createDecipheriv('aes-256-gcm', key, iv!);
  decipher.setAAD(V1.aad);
  decipher.setAuthTag(tag!);
  try {
    return Buffer.concat([decipher.update(ciphertext!), decipher.final()]).toString('utf8');
  } catch {
    // GCM cannot tell the two apart; either way nothing half-decrypted leaves here.
    throw new KeyDecryptionError('cannot decrypt the private key: wrong master key, or the stored key is damaged');
  }
}

// ---------------------------------------------------------------- helpers

/** Splits PEM bundles into one PEM string per certificate. */
export function splitPemBundle(pems: string | string[]): string[] {
  const all = Array.isArray(pems) ? pems.join('\n') : pems;
  return (all.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((p) => `${p}\n`);
}

function parseCertificate(text: string, what: string): X509Certificate {
  try {
    const cert = new X509Certificate(text);
    void new x509.X509Certificate(cert.raw).extensions; // parsed lazily; fail here, with the name
    return cert;
  } catch (err) {
    throw new TrustError(`${what} is not a PEM certificate (${(err as Error).message})`);
  }
}

/** C as PrintableString, the rest UTF8String (RFC 5280), so Chinese names survive every tool. */
export function distinguishedName(parts: { CN: string; O: string; OU?: string; L?: string }) {
  const utf8 = (oid: string, value: string | undefined) => (value ? [{ [oid]: [{ utf8String: value }] }] : []);
  return new x509.Name([
    { '2.5.4.6': [{ printableString: 'CN' }] },
    ...utf8('2.5.4.7', parts.L),
    ...utf8('2.5.4.10', parts.O),
    ...utf8('2.5.4.11', parts.OU),
    ...utf8('2.5.4.3', parts.CN),
  ]);
}

export async function importSigningKey(privateKeyPem: string): Promise<CryptoKey> {
  const key = createPrivateKey(privateKeyPem);
  const der = key.export({ type: 'pkcs8', format: 'der' });
  if (key.asymmetricKeyType === 'rsa') {
    return subtle.importKey('pkcs8', der, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']);
  }
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const namedCurve = curve === 'prime256v1' ? 'P-256' : curve === 'secp384r1' ? 'P-384' : undefined;
  if (key.asymmetricKeyType === 'ec' && namedCurve) {
    return subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve }, false, ['sign']);
  }
  throw new TrustError(`unsupported CA key type ${key.asymmetricKeyType} ${curve ?? ''}`.trim());
}

export async function exportPrivateKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await subtle.exportKey('pkcs8', key));
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();
}

function privateKeyToPem(key: OpcuaPrivateKey): string {
  if (typeof key.hidden === 'string') return key.hidden;
  return key.hidden.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** 128 random bits, positive and without a leading zero byte (RFC 5280 §4.1.2.2). */
export function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x40;
  return b.toString('hex');
}

export const pem = (cert: { toString(format: 'pem'): string }) => ensureNewline(cert.toString('pem'));
export const ensureNewline = (s: string) => (s.endsWith('\n') ? s : `${s}\n`);
export const minutesAgo = (m: number) => new Date(Math.floor(Date.now() / 1000) * 1000 - m * 60_000);
export const addDays = (d: Date, days: number) => new Date(d.getTime() + days * 86_400_000);
/** Node prints subjects one attribute a line; one line reads better in a reason. */
export const dn = (subject: string) => subject.replace(/\n/g, ', ');

/** What a verification report shows about a certificate. */
export function describeCertificate(certificate: string | X509Certificate) {
  const cert = new x509.X509Certificate(typeof certificate === 'string' ? certificate : certificate.raw);
  const field = (name: string) => cert.subjectName.getField(name)[0];
  return {
    commonName: field('CN') ?? cert.subject,
    departmentCode: field('OU'),
    regionCode: field('L'),
    organization: field('O'),
    serialNumber: cert.serialNumber,
    issuer: cert.issuer,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
  };
}
