import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { createHash, X509Certificate } from 'node:crypto';
import {
  createCrl,
  createDevelopmentRoot,
  issueDepartmentSigningCertificate,
  type RootCa,
  type SigningCredential,
} from '../../../services/trust/pki';
import {
  createTimestampToken,
  encodeTimestampRequest,
  issueTsaCertificate,
  parseTimestampRequest,
  TimestampRequestError,
  timestampResponse,
  tokenFromResponse,
  verifyTimestampToken,
} from '../../../services/trust/tsa';
import { inspectPdfSignature, signPdf } from '../../../services/trust/sign-pdf';
import { appendDss } from '../../../services/trust/pades-dss';
import { makeTestPdf, nssDatabase, pdfsig, run, tempDir, writeFile } from './tools';

/**
 * RFC 3161 time-stamping and PAdES B-T / B-LT, checked with tools that share no code with
 * certflow: `openssl ts` for the TSA's replies, poppler's pdfsig and pyHanko for the PDFs.
 */
const PYHANKO = path.resolve(__dirname, '../../../.tools/pyhanko/bin/pyhanko');
/** Asynchronous: pyHanko fetches the CRL from this process's server, which must keep answering. */
const pyhanko = (args: string[]) =>
  new Promise<{ output: string }>((resolve) => {
    const env = { ...process.env, PYTHONPATH: path.dirname(path.dirname(PYHANKO)) };
    execFile(PYHANKO, args, { env, timeout: 90_000 }, (_err, stdout, stderr) =>
      resolve({ output: `${stdout}${stderr}` }),
    );
  });

/** Installed by scripts/setup.sh; missing, the pyHanko cases are skipped loudly, and fail under CI=true. */
function needPyhanko(ctx: Mocha.Context) {
  if (fs.existsSync(PYHANKO)) return;
  if (process.env.CI === 'true') throw new Error(`pyHanko is missing at ${PYHANKO}: run scripts/setup.sh`);
  console.warn(`WARNING: pyHanko is missing at ${PYHANKO} (run scripts/setup.sh): skipping the pyHanko checks`);
  ctx.skip();
}

describe('time-stamping and PAdES baseline signatures', function () {
  this.timeout(120_000);
  let dir: string;
  let root: RootCa;
  let tsa: SigningCredential;
  let signer: SigningCredential;
  let crlServer: http.Server;
  let crlDer: Buffer;
  let crlUrl: string;

  const stamp = async (value: Buffer) => {
    const req = parseTimestampRequest(encodeTimestampRequest(createHash('sha256').update(value).digest()).der);
    return tokenFromResponse(timestampResponse({ token: await createTimestampToken(tsa, req) }));
  };

  before(async () => {
    dir = tempDir('timestamp');
    // The CRL is served where the certificates' distribution point says, as certflow serves it.
    crlServer = http.createServer((_req, res) => res.end(crlDer));
    await new Promise<void>((resolve) => crlServer.listen(0, '127.0.0.1', resolve));
    crlUrl = `http://127.0.0.1:${(crlServer.address() as AddressInfo).port}/api/v1/trust/crl.crl`;
    root = await createDevelopmentRoot({ commonName: 'certflow Test Root', organization: 'certflow' });
    tsa = await issueTsaCertificate({ root, crlUrl });
    // One day: the pyHanko check below validates after it has expired.
    signer = await issueDepartmentSigningCertificate({
      root,
      department: { code: 'market', name: '市场监督管理局', regionCode: '330100' },
      validityDays: 1,
      crlUrl,
    });
    const pem = await createCrl(root, [], { crlNumber: 1 });
    crlDer = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    writeFile(dir, 'root.pem', root.certificatePem);
    writeFile(dir, 'tsa-chain.pem', tsa.certificatePem + root.certificatePem);
  });
  after(() => {
    crlServer?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('the TSA (checked with openssl ts)', () => {
    it('answers an openssl query with a token openssl verifies against the TSA chain, and refuses other data', async () => {
      writeFile(dir, 'data.txt', '电子证照 data');
      writeFile(dir, 'other.txt', 'other data');
      const q = run('openssl', [
        'ts',
        '-query',
        '-data',
        path.join(dir, 'data.txt'),
        '-sha256',
        '-cert',
        '-out',
        path.join(dir, 'q.tsq'),
      ]);
      assert.equal(q.status, 0, q.output);
      const reply = timestampResponse({
        token: await createTimestampToken(tsa, parseTimestampRequest(fs.readFileSync(path.join(dir, 'q.tsq')))),
      });
      writeFile(dir, 'r.tsr', reply);
      const ok = run('openssl', [
        'ts',
        '-verify',
        '-in',
        path.join(dir, 'r.tsr'),
        '-data',
        path.join(dir, 'data.txt'),
        '-CAfile',
        path.join(dir, 'root.pem'),
      ]);
      assert.match(ok.output, /Verification: OK/, ok.output);
      const other = run('openssl', [
        'ts',
        '-verify',
        '-in',
        path.join(dir, 'r.tsr'),
        '-data',
        path.join(dir, 'other.txt'),
        '-CAfile',
        path.join(dir, 'root.pem'),
      ]);
      assert.match(other.output, /Verification: FAILED/);
      assert.match(other.output, /message imprint mismatch/);
      const text = run('openssl', ['ts', '-reply', '-in', path.join(dir, 'r.tsr'), '-text']).output;
      assert.match(text, /Status: Granted/);
      assert.match(text, /Hash Algorithm: sha256/);
    });

    it('has a certificate whose only extended key usage, critical, is timeStamping', () => {
      const out = run('openssl', [
        'x509',
        '-noout',
        '-ext',
        'extendedKeyUsage',
        '-in',
        path.join(dir, 'tsa-chain.pem'),
      ]).output;
      assert.match(out, /X509v3 Extended Key Usage: critical\s+Time Stamping\s*$/);
    });

    it('rejects an unsupported hash with a granted-or-rejection reply, not an error', () => {
      const q = run('openssl', [
        'ts',
        '-query',
        '-data',
        path.join(dir, 'data.txt'),
        '-sha1',
        '-out',
        path.join(dir, 'sha1.tsq'),
      ]);
      assert.equal(q.status, 0, q.output);
      assert.throws(() => parseTimestampRequest(fs.readFileSync(path.join(dir, 'sha1.tsq'))), TimestampRequestError);
      const err = new TimestampRequestError('unsupported hash', 0);
      writeFile(dir, 'rej.tsr', timestampResponse({ error: err }));
      assert.match(
        run('openssl', ['ts', '-reply', '-in', path.join(dir, 'rej.tsr'), '-text']).output,
        /Status: Rejected[\s\S]*unrecognized or unsupported algorithm identifier/i,
      );
    });

    it('checks tokens itself: over this signature value, by this TSA, not over anything else', async () => {
      const value = Buffer.from('a signature value');
      const token = await stamp(value);
      const good = verifyTimestampToken(token, value, root.certificatePem);
      assert.equal(good.ok, true, good.reason);
      assert.match(verifyTimestampToken(token, Buffer.from('another'), root.certificatePem).reason, /over other data/);
      const foreign = await createDevelopmentRoot({ commonName: 'certflow Test Root', organization: 'certflow' });
      assert.match(
        verifyTimestampToken(token, value, foreign.certificatePem).reason,
        /the TSA: .*not the trusted root/,
      );
      // A department seal is no TSA.
      const bySeal = await createTimestampToken(
        signer,
        parseTimestampRequest(encodeTimestampRequest(createHash('sha256').update(value).digest()).der),
      );
      assert.match(verifyTimestampToken(bySeal, value, root.certificatePem).reason, /not a time-stamping certificate/);
    });
  });

  describe('PAdES B-T and B-LT (checked with pdfsig and pyHanko)', () => {
    let bt: Buffer;
    let lt: Buffer;
    before(async () => {
      const pdf = makeTestPdf(dir);
      const info = {
        reason: '电子证照签发',
        location: '330100',
        name: '市场监督管理局',
        signingTime: new Date(Math.floor(Date.now() / 1000) * 1000),
      };
      bt = await signPdf(pdf, signer, { ...info, timestamp: stamp });
      const certificatesPem = [signer.certificatePem, root.certificatePem, tsa.certificatePem];
      lt = appendDss(bt, { certificatesPem, crlsDer: [crlDer] });
      writeFile(dir, 'bt.pdf', bt);
      writeFile(dir, 'lt.pdf', lt);
    });

    it('is ETSI.CAdES.detached with a timestamp token, and the DSS update reads as intact', () => {
      const i = inspectPdfSignature(lt);
      assert.equal(i.dictionary.subFilter, 'ETSI.CAdES.detached');
      assert.ok(i.timestampToken);
      assert.equal(i.dssAppended, true);
      assert.equal(i.intact, true, i.reason);
      assert.equal(verifyTimestampToken(i.timestampToken, i.signatureValue, root.certificatePem).ok, true);
    });

    it('tells a DSS from anything else appended after signing', () => {
      const page = Buffer.from('\n99 0 obj\n<< /Type /Annot /Subtype /Text /Contents (added) >>\nendobj\n');
      const forged = Buffer.concat([lt.subarray(0, lt.lastIndexOf('xref')), page, lt.subarray(lt.lastIndexOf('xref'))]);
      const i = inspectPdfSignature(forged);
      assert.equal(i.dssAppended, false);
      assert.equal(i.byteRangeCoversWholeFile, false);
      assert.equal(i.intact, false);
    });

    it('is valid and trusted for pdfsig', () => {
      const out = pdfsig(dir, lt, nssDatabase(dir, [root.certificatePem]));
      assert.match(out, /Signature Type: ETSI\.CAdES\.detached/);
      assert.match(out, /Signature Validation: Signature is Valid\./);
      assert.match(out, /Certificate Validation: Certificate is Trusted\./);
    });

    it('is valid for pyHanko, timestamp included, with only the platform root trusted (CRL fetched)', async function () {
      needPyhanko(this);
      const r = await pyhanko([
        'sign',
        'validate',
        '--pretty-print',
        '--trust',
        path.join(dir, 'root.pem'),
        '--trust-replace',
        path.join(dir, 'lt.pdf'),
      ]);
      assert.match(r.output, /The signer's certificate is trusted\./, r.output);
      assert.match(r.output, /The timestamp token is cryptographically sound\./);
      assert.match(r.output, /The TSA certificate is trusted\./);
      assert.match(r.output, /All modifications relate to signature maintenance/);
      assert.match(r.output, /The signature is judged VALID\./);
    });

    it('is LTV-ready: pyHanko validates it from the DSS alone, after the signer certificate expired', async function () {
      needPyhanko(this);
      crlServer.close(); // from here on only the DSS has the CRL
      const expired = new Date(new X509Certificate(signer.certificatePem).validTo).getTime();
      const later = new Date(expired + 5 * 86_400_000).toISOString().replace(/\.\d+Z$/, '+00:00');
      const lt2 = await pyhanko([
        'sign',
        'adesverify',
        '--pretty-print',
        '--trust',
        path.join(dir, 'root.pem'),
        '--trust-replace',
        '--validation-time',
        later,
        path.join(dir, 'lt.pdf'),
      ]);
      assert.match(lt2.output, /expired/, 'the signer certificate has expired at that time');
      assert.match(lt2.output, /The signer's certificate is trusted\./, lt2.output);
      assert.match(lt2.output, /The signature is judged VALID\./);
      // Without the DSS (B-T only) the same check fails: the DSS is what carries it.
      const bt2 = await pyhanko([
        'sign',
        'adesverify',
        '--pretty-print',
        '--trust',
        path.join(dir, 'root.pem'),
        '--trust-replace',
        '--validation-time',
        later,
        path.join(dir, 'bt.pdf'),
      ]);
      assert.match(bt2.output, /The signature is judged INVALID\./);
    });
  });
});
