import assert from 'node:assert/strict';
import { createPrivateKey, sign } from 'node:crypto';
import fs from 'node:fs';
import { canonicalBytes } from '../../../domain/canonical-json';
import { parseDetachedSignature } from '../../../services/trust/cms';
import {
  createDevelopmentRoot,
  issueDepartmentSigningCertificate,
  type RootCa,
  type SigningCredential,
} from '../../../services/trust/pki';
import { signRecord, verifyRecordSignature, type RecordSignatureReport } from '../../../services/trust/sign-record';
import { issueTlsCertificate } from './fixtures';
import { run, tempDir, writeFile } from './tools';

const market = { code: 'market', name: '市场监督管理局', regionCode: '330100' };
const health = { code: 'health', name: '卫生健康委员会', regionCode: '330100' };
const signingTime = new Date('2026-03-01T08:00:00Z');

const record = {
  number: '浙市监20260001',
  identifier: '1.2.156.3005.2.11100000000013338W011.11330100002489348H.20260001.001.U',
  type: { code: 'business-licence', version: 1 },
  holder: { kind: 'entity', name: '杭州某某科技有限公司' },
  issuer: { code: 'market', name: '市场监督管理局' },
  validity: { from: '2026-03-01', to: '2036-02-28' },
  face: { registeredCapital: '100万元', scope: '软件开发' },
  pdfSha256: 'a'.repeat(64),
};

/** Only the named checks failed; everything else passed. */
function assertFailed(report: RecordSignatureReport, ...failed: string[]) {
  const actual = Object.entries(report.checks)
    .filter(([, c]) => !c.ok)
    .map(([name]) => name);
  assert.deepEqual(actual.sort(), [...failed].sort(), JSON.stringify(report.checks, null, 2));
  assert.equal(report.ok, failed.length === 0);
}

describe('certificate record signature (checked with openssl cms)', () => {
  let dir: string;
  let root: RootCa;
  let marketSigner: SigningCredential;
  let healthSigner: SigningCredential;
  let bytes: Buffer;
  let signature: string;

  /** `openssl cms -verify` against our root only: what a relying party without certflow runs. */
  function opensslVerify(content: Uint8Array, sig: string) {
    const name = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
    return run('openssl', [
      'cms',
      '-verify',
      '-binary',
      '-inform',
      'DER',
      '-in',
      writeFile(dir, `${name}.sig.der`, Buffer.from(sig, 'base64')),
      '-content',
      writeFile(dir, `${name}.json`, Buffer.from(content)),
      '-CAfile',
      writeFile(dir, 'root.pem', root.certificatePem),
      '-purpose',
      'any',
      '-out',
      '/dev/null',
    ]);
  }

  before(async () => {
    dir = tempDir('sign-record');
    const notBefore = new Date('2026-01-01T00:00:00Z');
    root = await createDevelopmentRoot({ commonName: '杭州市电子证照平台根证书（测试）', notBefore });
    marketSigner = await issueDepartmentSigningCertificate({ root, department: market, validityDays: 730, notBefore });
    healthSigner = await issueDepartmentSigningCertificate({ root, department: health, validityDays: 730, notBefore });
    bytes = Buffer.from(canonicalBytes(record));
    signature = signRecord(bytes, marketSigner, { signingTime });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('verifies with openssl cms against the platform root', () => {
    const r = opensslVerify(bytes, signature);
    assert.equal(r.status, 0, r.output);
    assert.match(r.stderr, /CMS Verification successful/);
  });

  it('carries contentType, signingTime, messageDigest and ESS signing-certificate-v2, as openssl reads them', () => {
    const der = writeFile(dir, 'attrs.der', Buffer.from(signature, 'base64'));
    const out = run('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', der]).stdout;
    for (const attr of ['contentType', 'signingTime', 'messageDigest', 'id-smime-aa-signingCertificateV2']) {
      assert.match(out, new RegExp(`object: ${attr} `), attr);
    }
    assert.match(out, /UTCTIME:Mar {2}1 08:00:00 2026 GMT/);
  });

  it('passes every check, naming the signing department', () => {
    const report = verifyRecordSignature(bytes, signature, root.certificatePem, { issuerDepartmentCode: 'market' });
    assertFailed(report);
    assert.equal(report.signer?.commonName, '市场监督管理局');
    assert.equal(report.signer?.departmentCode, 'market');
    assert.deepEqual(report.signingTime, signingTime);
  });

  it('is the same signature when the same record is signed again at the same time', () => {
    assert.equal(signRecord(bytes, marketSigner, { signingTime }), signature);
  });

  it('fails integrity, and openssl, when one byte of the record changes', () => {
    const changed = Buffer.from(bytes);
    const at = changed.indexOf('2036');
    changed[at + 3] = '7'.charCodeAt(0); // valid to 2037 instead of 2036
    assertFailed(verifyRecordSignature(changed, signature, root.certificatePem), 'integrity');
    assert.notEqual(opensslVerify(changed, signature).status, 0);
  });

  it('fails the issuer check when another department signed the record', () => {
    const byHealth = signRecord(bytes, healthSigner, { signingTime });
    const report = verifyRecordSignature(bytes, byHealth, root.certificatePem, { issuerDepartmentCode: 'market' });
    assertFailed(report, 'issuer');
    assert.match(report.checks.issuer!.reason, /issuer is market but it was signed by health/);
  });

  it("fails the signature check when another department's key signed under the market certificate", () => {
    // Forgery: keep market's certificate and attributes, put health's signature over them.
    const der = Buffer.from(signature, 'base64');
    const parsed = parseDetachedSignature(der);
    const forgedValue = sign('sha256', parsed.signedAttributes, createPrivateKey(healthSigner.privateKeyPem));
    const at = der.indexOf(parsed.signature);
    forgedValue.copy(der, at);
    const forged = der.toString('base64');
    const report = verifyRecordSignature(bytes, forged, root.certificatePem);
    assertFailed(report, 'signature');
    assert.match(report.checks.signature.reason, /does not verify with the signer certificate's public key/);
    assert.notEqual(opensslVerify(bytes, forged).status, 0);
  });

  it("fails the chain check for a department certificate from a foreign root, even one copying our root's name", async () => {
    const foreignRoot = await createDevelopmentRoot({
      commonName: '杭州市电子证照平台根证书（测试）',
      notBefore: new Date('2026-01-01T00:00:00Z'),
    });
    const impostor = await issueDepartmentSigningCertificate({
      root: foreignRoot,
      department: market,
      validityDays: 730,
      notBefore: new Date('2026-01-01T00:00:00Z'),
    });
    const forged = signRecord(bytes, impostor, { signingTime });
    const report = verifyRecordSignature(bytes, forged, root.certificatePem, { issuerDepartmentCode: 'market' });
    assertFailed(report, 'chain');
    assert.match(report.checks.chain.reason, /the chain ends at "C=CN, O=.*", which is not the trusted root/);
    const r = opensslVerify(bytes, forged);
    assert.notEqual(r.status, 0);
    assert.match(r.output, /certificate verify error|self-signed certificate|unable to get local issuer/);
  });

  it('fails the validity check when the certificate had expired at the signing time', async () => {
    const shortLived = await issueDepartmentSigningCertificate({
      root,
      department: market,
      validityDays: 30,
      notBefore: new Date('2026-01-01T00:00:00Z'),
    });
    const late = signRecord(bytes, shortLived, { signingTime });
    const report = verifyRecordSignature(bytes, late, root.certificatePem);
    assertFailed(report, 'validAtSigningTime');
    assert.match(report.checks.validAtSigningTime.reason, /not at the signing time 2026-03-01T08:00:00.000Z/);
  });

  it('fails the profile check for a TLS certificate, though our own root issued it', async () => {
    const tls = await issueTlsCertificate(root);
    const report = verifyRecordSignature(bytes, signRecord(bytes, tls), root.certificatePem);
    assertFailed(report, 'documentSigningProfile');
    assert.match(report.checks.documentSigningProfile.reason, /lacks nonRepudiation.*lacks documentSigning/);
  });

  it('answers with a report, never an exception, whichever byte of the signature is damaged', () => {
    const der = Buffer.from(signature, 'base64');
    for (let i = 0; i < der.length; i += 11) {
      // a sample across every part of it
      const damaged = Buffer.from(der);
      damaged[i] = damaged[i]! ^ 0xff;
      const report = verifyRecordSignature(bytes, damaged.toString('base64'), root.certificatePem);
      assert.equal(typeof report.ok, 'boolean');
    }
  });

  it('fails every check, saying why, for something that is not a signature', () => {
    const report = verifyRecordSignature(bytes, Buffer.from('not a signature').toString('base64'), root.certificatePem);
    assertFailed(report, 'integrity', 'signature', 'chain', 'validAtSigningTime', 'documentSigningProfile');
    assert.match(report.checks.signature.reason, /not a usable CMS signature/);
  });
});
