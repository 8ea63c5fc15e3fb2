import assert from 'node:assert/strict';
import fs from 'node:fs';
import {
  checkSignerCertificate,
  createDevelopmentRoot,
  issueDepartmentSigningCertificate,
  type RootCa,
  type SigningCredential,
} from '../../../services/trust/pki';
import { parseDetachedSignature } from '../../../services/trust/cms';
import { inspectPdfSignature, PdfSignatureError, signPdf } from '../../../services/trust/sign-pdf';
import { makeTestPdf, nssDatabase, pdfsig, tamperOneByte, tempDir } from './tools';

const market = { code: 'market', name: '市场监督管理局', regionCode: '330100' };
const signingTime = new Date('2026-03-01T08:00:00Z');
const info = { reason: '电子证照签发', location: '杭州市', name: '市场监督管理局', signingTime };

/** The /Contents hex string the ByteRange leaves out. */
function hexContents(pdf: Buffer): string {
  const [, len1, start2] = inspectPdfSignature(pdf).byteRange;
  return pdf.subarray(len1 + 1, start2 - 1).toString('latin1');
}

describe('PDF signature (checked with poppler pdfsig / NSS)', () => {
  let dir: string;
  let pdf: Buffer;
  let root: RootCa;
  let signer: SigningCredential;
  let signed: Buffer;
  let trusting: string; // NSS db with the platform root
  let empty: string; // NSS db trusting nothing

  before(async () => {
    dir = tempDir('sign-pdf');
    pdf = makeTestPdf(dir);
    const notBefore = new Date('2026-01-01T00:00:00Z'); // before the fixed signing time
    root = await createDevelopmentRoot({
      commonName: '杭州市电子证照平台根证书（测试）',
      organization: '杭州市电子证照平台',
      notBefore,
    });
    signer = await issueDepartmentSigningCertificate({ root, department: market, validityDays: 730, notBefore });
    signed = await signPdf(pdf, signer, info);
    trusting = nssDatabase(dir, [root.certificatePem]);
    empty = nssDatabase(dir, []);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('is valid for pdfsig, with the department as signer', () => {
    const out = pdfsig(dir, signed, empty);
    assert.match(out, /Signature Validation: Signature is Valid\./);
    assert.match(out, /Signer Certificate Common Name: 市场监督管理局/);
    assert.match(out, /Signer full Distinguished Name: CN=市场监督管理局,OU=market,O=杭州市电子证照平台,L=330100,C=CN/);
    assert.match(out, /Signing Time: Mar 01 2026 08:00:00/);
    assert.match(out, /Signing Hash Algorithm: SHA-256/);
    assert.match(out, /Signature Type: ETSI\.CAdES\.detached/);
    assert.match(out, /Total document signed/);
    assert.match(out, /Certificate Validation: Certificate issuer isn't Trusted\./, 'nobody trusts our root yet');
  });

  it('is trusted by pdfsig once the platform root is in its NSS database', () => {
    assert.match(pdfsig(dir, signed, trusting), /Certificate Validation: Certificate is Trusted\./);
  });

  it('reads back: signer, chain, time, a ByteRange over the whole file, and a matching digest', () => {
    const r = inspectPdfSignature(signed);
    assert.equal(r.signerCertificatePem, signer.certificatePem);
    assert.deepEqual(r.chainPem, [root.certificatePem]);
    assert.deepEqual(r.signingTime, signingTime);
    assert.equal(r.byteRange[0], 0);
    assert.equal(r.byteRange[2] + r.byteRange[3], signed.length);
    assert.equal(r.byteRangeCoversWholeFile, true);
    assert.equal(r.digestMatches, true);
    assert.equal(r.signatureValid, true);
    assert.equal(r.intact, true);
    assert.deepEqual(r.dictionary, {
      subFilter: 'ETSI.CAdES.detached',
      reason: '电子证照签发',
      name: '市场监督管理局',
      location: '杭州市',
      signingTime,
    });
    const checks = checkSignerCertificate({
      signerCertificatePem: r.signerCertificatePem!,
      chainPem: r.chainPem,
      trustedRootPem: root.certificatePem,
      at: r.signingTime!,
    });
    assert.ok(
      checks.chain.ok && checks.validAtSigningTime.ok && checks.documentSigningProfile.ok,
      JSON.stringify(checks),
    );
  });

  it('appends to the document instead of rewriting it', () => {
    const original = pdf.subarray(0, pdf.length - 1); // @signpdf drops the final newline
    assert.ok(signed.subarray(0, original.length).equals(original));
  });

  it('gives the same bytes when signed again with the same inputs (retries are idempotent)', async () => {
    assert.ok((await signPdf(pdf, signer, info)).equals(signed));
  });

  it('fails when one byte of the signed content changes', () => {
    const tampered = tamperOneByte(signed);
    assert.match(pdfsig(dir, tampered, trusting), /Signature Validation: Digest Mismatch\./);
    const r = inspectPdfSignature(tampered);
    assert.equal(r.digestMatches, false);
    assert.equal(r.intact, false);
    assert.equal(r.byteRangeCoversWholeFile, true, 'the change is inside the signed range');
  });

  it('fails when the signature value itself is altered', () => {
    const value = parseDetachedSignature(Buffer.from(hexContents(signed), 'hex')).signature.toString('hex');
    const at = signed.indexOf(value, 0, 'latin1') + 100;
    const altered = Buffer.from(signed);
    altered[at] = altered[at] === 0x30 ? 0x31 : 0x30; // another hex digit
    assert.match(pdfsig(dir, altered, trusting), /Signature Validation: Signature is Invalid\./);
    const r = inspectPdfSignature(altered);
    assert.equal(r.signatureValid, false);
    assert.equal(r.digestMatches, true, 'the document itself is untouched');
    assert.equal(r.intact, false);
  });

  it('notices content appended after signing', () => {
    const appended = Buffer.concat([signed, Buffer.from('\n% added later\n')]);
    assert.match(pdfsig(dir, appended, trusting), /Not total document signed/);
    const r = inspectPdfSignature(appended);
    assert.equal(r.byteRangeCoversWholeFile, false);
    assert.equal(r.digestMatches, true, 'the signed part itself is unchanged');
    assert.equal(r.intact, false);
  });

  it("is not trusted when the department certificate comes from a foreign root with our root's name", async () => {
    const foreignRoot = await createDevelopmentRoot({
      commonName: '杭州市电子证照平台根证书（测试）',
      organization: '杭州市电子证照平台',
    });
    const impostor = await issueDepartmentSigningCertificate({
      root: foreignRoot,
      department: market,
      validityDays: 30,
    });
    const forged = await signPdf(pdf, impostor, { ...info, signingTime: new Date() });
    const out = pdfsig(dir, forged, trusting);
    assert.match(out, /Signature Validation: Signature is Valid\./, 'the maths is fine…');
    assert.doesNotMatch(out, /Certificate is Trusted/, '…but the signer is not ours');
    const r = inspectPdfSignature(forged);
    const checks = checkSignerCertificate({
      signerCertificatePem: r.signerCertificatePem!,
      chainPem: r.chainPem,
      trustedRootPem: root.certificatePem,
      at: r.signingTime!,
    });
    assert.equal(checks.chain.ok, false);
    assert.match(checks.chain.reason, /is not the trusted root/);
  });

  it('refuses a PDF without a signature, clearly', () => {
    assert.throws(
      () => inspectPdfSignature(pdf),
      (err: Error) => err instanceof PdfSignatureError && /no signature/.test(err.message),
    );
  });
});
