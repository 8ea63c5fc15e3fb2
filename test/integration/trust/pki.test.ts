import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import { exploreCertificateRevocationList } from 'node-opcua-crypto';
import {
  createCrl,
  createDevelopmentRoot,
  decryptPrivateKey,
  encryptPrivateKey,
  importPem,
  importPkcs12,
  issueDepartmentSigningCertificate,
  KeyDecryptionError,
  type RootCa,
  type SigningCredential,
} from '../../../services/trust/pki';
import { signRecord, verifyRecordSignature } from '../../../services/trust/sign-record';
import { issueTlsCertificate } from './fixtures';
import { run, tempDir, writeFile } from './tools';

const market = { code: 'market', name: '市场监督管理局', regionCode: '330100' };
const masterKey = 'a-master-key-from-CERTFLOW_KEY_MASTER';

describe('platform PKI (checked with openssl)', () => {
  let dir: string;
  let root: RootCa;
  let dept: SigningCredential;
  let rootFile: string;
  let deptFile: string;

  const x509Text = (file: string) =>
    run('openssl', ['x509', '-in', file, '-noout', '-text', '-nameopt', 'utf8,sep_comma_plus']).stdout;

  before(async () => {
    dir = tempDir('pki');
    root = await createDevelopmentRoot({
      commonName: '杭州市电子证照平台根证书（开发）',
      organization: '杭州市电子证照平台',
    });
    dept = await issueDepartmentSigningCertificate({ root, department: market, validityDays: 730 });
    rootFile = writeFile(dir, 'root.pem', root.certificatePem);
    deptFile = writeFile(dir, 'market.pem', dept.certificatePem);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe('development root', () => {
    it('is a self-signed CA that signs certificates and CRLs only', () => {
      const text = x509Text(rootFile);
      assert.match(text, /Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
      assert.match(text, /Key Usage: critical\s+Certificate Sign, CRL Sign\n/);
      assert.match(text, /Subject Key Identifier/);
      assert.match(text, /Issuer: C=CN,O=杭州市电子证照平台,CN=杭州市电子证照平台根证书（开发）/);
      assert.match(text, /Public-Key: \(3072 bit\)/);
      assert.match(run('openssl', ['verify', '-CAfile', rootFile, rootFile]).stdout, /: OK/);
    });

    it('is valid for many years', () => {
      const cert = new X509Certificate(root.certificatePem);
      const years = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / (365 * 86_400_000);
      assert.ok(years >= 19.9, `${years} years`);
    });
  });

  describe('department signing certificate', () => {
    it('has the document-signing profile, not a TLS one', () => {
      const text = x509Text(deptFile);
      assert.match(text, /Basic Constraints: critical\s+CA:FALSE/);
      assert.match(text, /Key Usage: critical\s+Digital Signature, Non Repudiation\n/);
      assert.match(text, /Extended Key Usage: \s*\n\s+1\.3\.6\.1\.5\.5\.7\.3\.36, E-mail Protection\n/);
      assert.doesNotMatch(text, /TLS Web (Server|Client) Authentication/);
      assert.match(text, /Public-Key: \(2048 bit\)/);
    });

    it('names the department: CN in Chinese as UTF8String, OU code, L region, O, C=CN', () => {
      assert.match(x509Text(deptFile), /Subject: C=CN,L=330100,O=杭州市电子证照平台,OU=market,CN=市场监督管理局/);
      const asn1 = run('openssl', ['asn1parse', '-in', deptFile]).stdout;
      assert.match(asn1, /UTF8STRING\s+:市场监督管理局/);
      assert.match(asn1, /PRINTABLESTRING\s+:CN/);
    });

    it('chains to the root, with its key identifier as authority key identifier', () => {
      assert.match(run('openssl', ['verify', '-CAfile', rootFile, deptFile]).stdout, /market\.pem: OK/);
      const rootSki = /Subject Key Identifier:\s*\n\s*([0-9A-F:]+)/.exec(x509Text(rootFile))![1];
      const deptAki = /Authority Key Identifier:\s*\n\s*(?:keyid:)?([0-9A-F:]+)/.exec(x509Text(deptFile))![1];
      assert.equal(deptAki, rootSki);
    });

    it('gets a fresh random 128-bit serial each time', async () => {
      const again = await issueDepartmentSigningCertificate({ root, department: market, validityDays: 1 });
      const a = new X509Certificate(dept.certificatePem).serialNumber;
      const b = new X509Certificate(again.certificatePem).serialNumber;
      assert.notEqual(a, b);
      assert.equal(a.length, 32);
    });
  });

  describe('importing production credentials', () => {
    it('accepts a matching key and certificate that chains to the root', () => {
      const imported = importPem({
        certificatePem: dept.certificatePem,
        privateKeyPem: dept.privateKeyPem,
        chainPem: root.certificatePem,
        trustedRootPem: root.certificatePem,
      });
      assert.equal(imported.certificatePem, dept.certificatePem);
      assert.deepEqual(imported.chainPem, [root.certificatePem]);
      assert.deepEqual(imported.warnings, []);
    });

    it('accepts an EC P-256 certificate that openssl issued from the root, and signs with it', () => {
      // openssl plays the real CA here: nothing of ours made this certificate.
      const key = writeFile(dir, 'health-ec.key', '');
      const csr = writeFile(dir, 'health-ec.csr', '');
      const cert = writeFile(dir, 'health-ec.pem', '');
      const ext = writeFile(
        dir,
        'ext.cnf',
        'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n' +
          'extendedKeyUsage=1.3.6.1.5.5.7.3.36,emailProtection\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n',
      );
      const steps = [
        [
          'req',
          '-new',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-256',
          '-nodes',
          '-keyout',
          key,
          '-utf8',
          '-subj',
          '/C=CN/O=杭州市电子证照平台/OU=health/CN=卫生健康委员会',
          '-out',
          csr,
        ],
        [
          'x509',
          '-req',
          '-in',
          csr,
          '-CA',
          rootFile,
          '-CAkey',
          writeFile(dir, 'root.key', root.privateKeyPem),
          '-set_serial',
          '0x4e21',
          '-days',
          '30',
          '-extfile',
          ext,
          '-out',
          cert,
        ],
      ];
      for (const args of steps) assert.equal(run('openssl', args).status, 0, args.join(' '));
      const imported = importPem({
        certificatePem: fs.readFileSync(cert, 'utf8'),
        privateKeyPem: fs.readFileSync(key, 'utf8'),
        trustedRootPem: root.certificatePem,
      });
      const record = Buffer.from('{"number":"卫健20260001"}');
      const signature = signRecord(record, imported);
      assert.equal(verifyRecordSignature(record, signature, root.certificatePem).ok, true);
      const r = run('openssl', [
        'cms',
        '-verify',
        '-binary',
        '-inform',
        'DER',
        '-CAfile',
        rootFile,
        '-out',
        '/dev/null',
        '-in',
        writeFile(dir, 'health.sig', Buffer.from(signature, 'base64')),
        '-content',
        writeFile(dir, 'health.json', record),
      ]);
      assert.match(r.stderr, /CMS Verification successful/);
    });

    it('refuses a key that belongs to another certificate', async () => {
      const other = await issueDepartmentSigningCertificate({ root, department: market, validityDays: 1 });
      assert.throws(
        () =>
          importPem({
            certificatePem: dept.certificatePem,
            privateKeyPem: other.privateKeyPem,
            trustedRootPem: root.certificatePem,
          }),
        /the private key does not belong to the certificate/,
      );
    });

    it('refuses a certificate from another root', async () => {
      const foreign = await createDevelopmentRoot({
        commonName: '杭州市电子证照平台根证书（开发）',
        organization: '杭州市电子证照平台',
      });
      const stranger = await issueDepartmentSigningCertificate({ root: foreign, department: market, validityDays: 30 });
      assert.throws(
        () =>
          importPem({
            certificatePem: stranger.certificatePem,
            privateKeyPem: stranger.privateKeyPem,
            trustedRootPem: root.certificatePem,
          }),
        /was not issued by the trusted root/,
      );
    });

    it('refuses a certificate without the document-signing profile', async () => {
      const tls = await issueTlsCertificate(root);
      assert.throws(
        () =>
          importPem({
            certificatePem: tls.certificatePem,
            privateKeyPem: tls.privateKeyPem,
            trustedRootPem: root.certificatePem,
          }),
        /is not a document-signing certificate: key usage lacks nonRepudiation; extended key usage lacks documentSigning/,
      );
    });

    it('refuses a certificate that is not valid now', () => {
      assert.throws(
        () =>
          importPem({
            certificatePem: dept.certificatePem,
            privateKeyPem: dept.privateKeyPem,
            trustedRootPem: root.certificatePem,
            at: new Date(Date.now() + 3 * 365 * 86_400_000),
          }),
        /it is not valid now/,
      );
    });

    it('says which input is not PEM', () => {
      assert.throws(
        () =>
          importPem({
            certificatePem: 'hello',
            privateKeyPem: dept.privateKeyPem,
            trustedRootPem: root.certificatePem,
          }),
        /certificatePem is not a PEM certificate/,
      );
    });

    it('opens a PKCS#12 file made by openssl, and names a wrong password', async () => {
      const p12 = writeFile(dir, 'market.p12', '');
      const made = run('openssl', [
        'pkcs12',
        '-export',
        '-passout',
        'pass:口令-2026',
        '-inkey',
        writeFile(dir, 'market.key', dept.privateKeyPem),
        '-in',
        deptFile,
        '-certfile',
        rootFile,
        '-out',
        p12,
      ]);
      assert.equal(made.status, 0, made.output);
      const imported = await importPkcs12(fs.readFileSync(p12), '口令-2026', { trustedRootPem: root.certificatePem });
      assert.equal(imported.certificatePem, dept.certificatePem);
      assert.ok(createPrivateKey(imported.privateKeyPem).equals(createPrivateKey(dept.privateKeyPem)));
      await assert.rejects(
        importPkcs12(fs.readFileSync(p12), 'guess', { trustedRootPem: root.certificatePem }),
        /wrong password or damaged file/,
      );
    });
  });

  describe('private keys at rest', () => {
    it('round-trips through a versioned blob', async () => {
      const blob = await encryptPrivateKey(dept.privateKeyPem, masterKey);
      assert.match(blob, /^v1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
      assert.equal(await decryptPrivateKey(blob, masterKey), dept.privateKeyPem);
    });

    it('shows nothing of the key: not the PEM, not its base64, not its DER bytes', async () => {
      const blob = await encryptPrivateKey(dept.privateKeyPem, masterKey);
      const der = createPrivateKey(dept.privateKeyPem).export({ type: 'pkcs8', format: 'der' });
      const body = dept.privateKeyPem.split('\n')[1]!; // first base64 line of the PEM
      assert.ok(!blob.includes('PRIVATE KEY'));
      assert.ok(!blob.includes(body.slice(0, 24)));
      const decoded = Buffer.concat(
        blob
          .split(':')
          .slice(1)
          .map((p) => Buffer.from(p, 'base64')),
      );
      for (let i = 0; i + 16 <= der.length; i += 16) {
        assert.equal(decoded.indexOf(der.subarray(i, i + 16)), -1, `key bytes ${i}…${i + 16} appear in the blob`);
      }
      assert.equal(decoded.indexOf(Buffer.from(dept.privateKeyPem.slice(0, 40))), -1);
    });

    it('encrypts the same key differently each time (per-record salt and IV)', async () => {
      assert.notEqual(
        await encryptPrivateKey(dept.privateKeyPem, masterKey),
        await encryptPrivateKey(dept.privateKeyPem, masterKey),
      );
    });

    it('fails clearly, never with garbage, under a wrong master key or a damaged blob', async () => {
      const blob = await encryptPrivateKey(dept.privateKeyPem, masterKey);
      const clearly = (err: unknown) =>
        err instanceof KeyDecryptionError && /wrong master key, or the stored key is damaged/.test(err.message);
      await assert.rejects(decryptPrivateKey(blob, 'another-master-key-entirely'), clearly);
      const parts = blob.split(':');
      const ciphertext = Buffer.from(parts[4]!, 'base64');
      ciphertext[10] = ciphertext[10]! ^ 1;
      parts[4] = ciphertext.toString('base64');
      await assert.rejects(decryptPrivateKey(parts.join(':'), masterKey), clearly);
    });

    it('names an unknown scheme and refuses a weak master key', async () => {
      await assert.rejects(
        decryptPrivateKey('v9:a:b:c:d', masterKey),
        /unsupported private key encryption scheme "v9"/,
      );
      await assert.rejects(decryptPrivateKey(dept.privateKeyPem, masterKey), /not an encrypted private key/);
      await assert.rejects(encryptPrivateKey(dept.privateKeyPem, 'short'), /master key must be at least 16 bytes/);
    });
  });

  describe('revocation list', () => {
    it('is signed by the root and lists the revoked serials', async () => {
      const serial = new X509Certificate(dept.certificatePem).serialNumber;
      const crl = await createCrl(root, [{ serialNumber: serial, revocationDate: new Date('2026-06-01T00:00:00Z') }], {
        crlNumber: 7,
      });
      const file = writeFile(dir, 'root.crl', crl);
      const r = run('openssl', ['crl', '-in', file, '-CAfile', rootFile, '-noout', '-text']);
      assert.match(r.stderr, /verify OK/);
      assert.match(r.stdout, new RegExp(`Serial Number: ${serial}`));
      assert.match(r.stdout, /CRL Number: \s*\n\s+7/);
      const der = Buffer.from(crl.replace(/-----[^-]+-----/g, '').replace(/\s/g, ''), 'base64');
      const explored = exploreCertificateRevocationList(der);
      assert.deepEqual(
        explored.tbsCertList.revokedCertificates.map((c) => c.userCertificate.replace(/:/g, '').toUpperCase()),
        [serial],
      );
      // And openssl refuses the certificate once the CRL is consulted.
      const chk = run('openssl', ['verify', '-crl_check', '-CAfile', rootFile, '-CRLfile', file, deptFile]);
      assert.notEqual(chk.status, 0);
      assert.match(chk.output, /certificate revoked/);
    });
  });
});
