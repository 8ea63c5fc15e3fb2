import { X509Certificate } from 'node:crypto';
import { SignPdf } from '@signpdf/signpdf';
import { plainAddPlaceholder } from '@signpdf/placeholder-plain';
import { Signer, SUBFILTER_ETSI_CADES_DETACHED } from '@signpdf/utils';
import {
  createSignature,
  parseDetachedSignature,
  sha256,
  SignatureFormatError,
  toPem,
  verifyDetachedSignature,
} from './cms';
import { isDssOnlyUpdate } from './pades-dss';
import type { SigningCredential } from './pki';

/**
 * The PDF signature of an issued certificate: an incremental update holding a
 * signature dictionary whose /Contents is our detached CMS (see cms.ts) over the
 * /ByteRange — the whole file except /Contents itself. Poppler's pdfsig, Acrobat and
 * the verify service all check it. Order matters (docs/trust.md): stamp the seal and QR code
 * first, sign last; any save after signing breaks the signature.
 *
 * PAdES baseline (ETSI EN 319 142-1): SubFilter ETSI.CAdES.detached, ESS
 * signing-certificate-v2, no CMS signingTime (the claimed time is /M, which the signature
 * covers). With `timestamp` the signature gets its RFC 3161 token (B-T); `appendDss` in
 * pades-dss.ts then adds the validation material (B-LT).
 */

export interface PdfSignatureInfo {
  /** Why it was signed, e.g. 电子证照签发. */
  reason: string;
  /** Where, e.g. the city. */
  location: string;
  /** Who, e.g. the department name. */
  name: string;
  contactInfo?: string;
  /** Goes into /M; fixed by the caller so that, without a timestamp, retries match. */
  signingTime: Date;
  /** Gets an RFC 3161 token over the signature value (services/trust/timestamping.ts). */
  timestamp?: (signatureValue: Buffer) => Promise<Buffer>;
}

/** @signpdf calls this with the bytes covered by the ByteRange. */
class CmsSigner extends Signer {
  constructor(
    private readonly credential: SigningCredential,
    private readonly info: PdfSignatureInfo,
  ) {
    super();
  }

  override async sign(signedContent: Buffer): Promise<Buffer> {
    const { signingTime, timestamp } = this.info;
    return createSignature(sha256(signedContent), this.credential, signingTime, { pades: true, timestamp });
  }
}

export async function signPdf(pdf: Buffer, signer: SigningCredential, info: PdfSignatureInfo): Promise<Buffer> {
  const chainBytes = [signer.certificatePem, ...signer.chainPem].reduce(
    (n, p) => n + new X509Certificate(p).raw.length,
    0,
  );
  // Room for the certificates plus signature and attributes; unused space is zero padding.
  // A timestamp token brings the TSA certificate and its chain: room for a few more.
  const signatureLength = Math.max(8192, chainBytes + 4096) + (info.timestamp ? 12_288 : 0);

  // placeholder-plain writes non-ASCII strings as UTF-8-mangled UTF-16 (node-signpdf
  // #174, #267). So it gets same-length ASCII tokens, which are then swapped for
  // <FEFF…> hex strings before anything is signed; no offset moves.
  const fields = { reason: info.reason, name: info.name, location: info.location, contactInfo: info.contactInfo ?? '' };
  const tokens = Object.fromEntries(
    Object.entries(fields).map(([k, v], i) => [k, 'QXZJ'[i]!.repeat(4 + 4 * v.length)]),
  ) as Record<keyof typeof fields, string>;
  let withPlaceholder = plainAddPlaceholder({
    pdfBuffer: pdf,
    ...tokens,
    signingTime: info.signingTime,
    signatureLength,
    subFilter: SUBFILTER_ETSI_CADES_DETACHED,
    appName: 'certflow',
  });
  const appendedFrom = Math.max(0, pdf.length - 2); // placeholder-plain drops a trailing newline
  for (const key of Object.keys(fields) as (keyof typeof fields)[]) {
    withPlaceholder = replaceOnce(withPlaceholder, `(${tokens[key]})`, pdfTextString(fields[key]), appendedFrom);
  }
  return new SignPdf().sign(withPlaceholder, new CmsSigner(signer, info));
}

/** UTF-16BE with BOM as a hex string: PDF "text string", safe for any character. */
function pdfTextString(text: string): string {
  const utf16be = Buffer.from(text, 'utf16le').swap16();
  return `<FEFF${utf16be.toString('hex').toUpperCase()}>`;
}

function replaceOnce(buf: Buffer, search: string, replacement: string, from: number): Buffer {
  const at = buf.indexOf(search, from, 'latin1');
  if (at < 0 || buf.indexOf(search, at + 1, 'latin1') >= 0 || replacement.length !== search.length) {
    throw new Error('cannot place the signature dictionary strings');
  }
  return Buffer.concat([buf.subarray(0, at), Buffer.from(replacement, 'latin1'), buf.subarray(at + search.length)]);
}

// ---------------------------------------------------------------- inspection

export interface PdfSignatureInspection {
  signerCertificatePem: string | undefined;
  /** The other certificates embedded in the signature (chain candidates). */
  chainPem: string[];
  /** From the CMS signingTime attribute, else the dictionary's /M. */
  signingTime: Date | undefined;
  byteRange: [number, number, number, number];
  /** Nothing but /Contents is left out, and nothing but a DSS (PAdES B-LT) was appended after signing. */
  byteRangeCoversWholeFile: boolean;
  /** A DSS update follows the signed bytes. */
  dssAppended: boolean;
  /** The signature value and its RFC 3161 token (unsigned attribute), when it has one. */
  signatureValue: Buffer;
  timestampToken: Buffer | undefined;
  /** The signed messageDigest equals the digest of the ByteRange bytes now. */
  digestMatches: boolean;
  /** The signer certificate's key signed the attributes (says nothing about trust). */
  signatureValid: boolean;
  /** All three above: the file is exactly what was signed. */
  intact: boolean;
  reason: string;
  dictionary: { subFilter?: string; reason?: string; name?: string; location?: string; signingTime?: Date };
}

export class PdfSignatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PdfSignatureError';
  }
}

/**
 * Reads the last signature in the PDF and checks it against the file's bytes. Trust in
 * the signer (chain, validity, profile) is checkSignerCertificate's job, given
 * signerCertificatePem and chainPem from here.
 */
export function inspectPdfSignature(pdf: Buffer): PdfSignatureInspection {
  const at = pdf.lastIndexOf('/ByteRange');
  if (at < 0) throw new PdfSignatureError('the PDF has no signature');
  const m = /^\/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/.exec(
    pdf.subarray(at, at + 120).toString('latin1'),
  );
  if (!m) throw new PdfSignatureError('the signature /ByteRange is unreadable');
  const byteRange = [m[1], m[2], m[3], m[4]].map(Number) as [number, number, number, number];
  const [start1, len1, start2, len2] = byteRange;
  if (start1 + len1 > start2 || start2 + len2 > pdf.length) {
    throw new PdfSignatureError(
      `the signature /ByteRange [${byteRange.join(' ')}] does not fit the file (${pdf.length} bytes)`,
    );
  }

  // The gap must be exactly the /Contents hex string, or the range hides real content.
  const gap = pdf.subarray(start1 + len1, start2).toString('latin1');
  if (!/^<[0-9A-Fa-f\s]*>$/.test(gap))
    throw new PdfSignatureError('the gap in the /ByteRange is not the signature /Contents');
  const dssAppended = start1 === 0 && start2 + len2 < pdf.length && isDssOnlyUpdate(pdf, start2 + len2);
  const byteRangeCoversWholeFile = start1 === 0 && (start2 + len2 === pdf.length || dssAppended);
  const der = Buffer.from(gap.slice(1, -1).replace(/\s/g, ''), 'hex');

  const dictionary = readSignatureDictionary(pdf, at);
  let parsed;
  try {
    parsed = parseDetachedSignature(der);
  } catch (err) {
    if (err instanceof SignatureFormatError)
      throw new PdfSignatureError(`the PDF signature is unreadable: ${err.message}`);
    throw err;
  }
  const check = verifyDetachedSignature(parsed, [
    pdf.subarray(start1, start1 + len1),
    pdf.subarray(start2, start2 + len2),
  ]);
  const signer = parsed.signerCertificate;
  return {
    signerCertificatePem: signer && toPem(signer),
    chainPem: parsed.certificates.filter((c) => c !== signer).map(toPem),
    signingTime: parsed.signingTime ?? dictionary.signingTime,
    byteRange,
    byteRangeCoversWholeFile,
    dssAppended,
    signatureValue: parsed.signature,
    timestampToken: parsed.timestampToken,
    digestMatches: check.digestMatches,
    signatureValid: check.signatureValid,
    intact: byteRangeCoversWholeFile && check.digestMatches && check.signatureValid,
    reason: byteRangeCoversWholeFile ? check.reason : `content was added after signing; ${check.reason}`,
    dictionary,
  };
}

function readSignatureDictionary(pdf: Buffer, byteRangeAt: number): PdfSignatureInspection['dictionary'] {
  const start = pdf.lastIndexOf('obj', byteRangeAt);
  const end = pdf.indexOf('endobj', byteRangeAt);
  const text = pdf.subarray(start < 0 ? 0 : start, end < 0 ? pdf.length : end).toString('latin1');
  const name = /\/SubFilter\s*\/([^\s/<>[\]()]+)/.exec(text)?.[1];
  const m = readPdfString(text, 'M');
  return {
    subFilter: name,
    reason: readPdfString(text, 'Reason'),
    name: readPdfString(text, 'Name'),
    location: readPdfString(text, 'Location'),
    signingTime: m ? parsePdfDate(m) : undefined,
  };
}

/** A text string value by key: hex (<FEFF…> UTF-16BE) or a literal without nested parentheses. */
function readPdfString(dict: string, key: string): string | undefined {
  const hex = new RegExp(`/${key}\\s*<([0-9A-Fa-f\\s]*)>`).exec(dict);
  if (hex) return decodeTextString(Buffer.from(hex[1]!.replace(/\s/g, ''), 'hex'));
  const lit = new RegExp(`/${key}\\s*\\(((?:\\\\.|[^\\\\)])*)\\)`).exec(dict);
  if (!lit) return undefined;
  const raw = lit[1]!.replace(/\\([nrtbf()\\]|[0-7]{1,3})/g, (_, c: string) =>
    /^[0-7]/.test(c)
      ? String.fromCharCode(parseInt(c, 8))
      : (({ n: '\n', r: '\r', t: '\t', b: '\b', f: '\f' } as Record<string, string>)[c] ?? c),
  );
  return decodeTextString(Buffer.from(raw, 'latin1'));
}

function decodeTextString(bytes: Buffer): string {
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return Buffer.from(bytes.subarray(2)).swap16().toString('utf16le');
  return bytes.toString('latin1');
}

/** D:YYYYMMDDHHmmSS with Z or ±HH'mm'. */
function parsePdfDate(s: string): Date | undefined {
  const m = /^D:(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(Z|([+-])(\d{2})'?(\d{2})'?)?/.exec(s);
  if (!m) return undefined;
  const utc = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  const offset = m[8] ? (m[8] === '+' ? 1 : -1) * (+m[9]! * 60 + +m[10]!) : 0;
  return new Date(utc - offset * 60_000);
}
