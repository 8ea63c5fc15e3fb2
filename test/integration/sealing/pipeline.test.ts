import assert from 'node:assert/strict';
import { testWarmConverter } from '../../support/app';
import fs from 'node:fs';
import path from 'node:path';
import { forEachDatabase } from '../../support/databases';
import { ConversionError } from '../../../services/documents/convert';
import { renderQueueActivities } from '../../../activities/sealing';
import { holderIdBinding } from '../../../platform/holder-crypto';
import { holderIdOf } from '../../../domain/holder';
import { rootCertificatePem } from '../../../services/trust/seals';
import { verifyRecordSignature } from '../../../services/trust/sign-record';
import { inspectPdfSignature } from '../../../services/trust/sign-pdf';
import { getCertificate } from '../../../db/certificates';
import { getSeal } from '../../../db/trust';
import { parseIdentifier } from '../../../domain/identifier';
import { parseCertificateNumber } from '../../../domain/certificate-number';
import { canonicalize } from '../../../domain/canonical-json';
import { nssDatabase, pdfsig, run, tempDir, writeFile } from '../trust/tools';
import { blobFiles, createApplication, issue, referencedBlobs, setupSealing, type SealingSetup } from './helpers';

/**
 * The sealing pipeline through its activities, in the workflow's order, on SQLite and
 * MariaDB, with real LibreOffice (one warm soffice for the file), checked with tools nobody
 * here wrote: poppler's pdfsig and pdftotext, OpenSSL.
 */
/** The run's shared warm LibreOffice pool (closed by the root hook). */
const converter = testWarmConverter();

forEachDatabase('sealing pipeline', (get) => {
  let s: SealingSetup;
  let dir: string;
  before(async () => {
    s = await setupSealing(get().db, converter);
    dir = tempDir('sealing');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('issues a certificate that pdfsig, pdftotext and openssl accept', async () => {
    const { db } = get();
    const appId = await createApplication(db, s.deps.masterKey);
    const out = await issue(s, appId);
    const root = (await rootCertificatePem(db))!;
    const cert = (await getCertificate(db, out.number))!;
    const seal = (await getSeal(db, cert.sealId!))!;

    // The number: BL-<market's region>-<year>-<serial>-<check>, and a GB/T 36904 identifier.
    const parsed = parseCertificateNumber(out.number);
    assert.ok(parsed.ok);
    assert.deepEqual([parsed.value.typeCode, parsed.value.region, parsed.value.serial], ['BL', '330100', 1]);
    assert.ok(parseIdentifier(cert.identifier).ok, cert.identifier);
    assert.equal((await db('applications').where({ id: appId }).first()).certificate_number, out.number);

    const pdf = await s.deps.blobs.get(out.signedPdfSha);
    const file = writeFile(dir, `${out.number}.pdf`, pdf);
    const sig = pdfsig(dir, pdf, nssDatabase(dir, [root]));
    assert.match(sig, /Signature Validation: Signature is Valid\./);
    assert.match(sig, /Certificate Validation: Certificate is Trusted\./);
    assert.match(sig, /Signer Certificate Common Name: 市场监督管理局/);
    // PAdES B-LT: the signature covers everything but the DSS update appended after it.
    assert.match(sig, /Signature Type: ETSI\.CAdES\.detached/);
    const inspected = inspectPdfSignature(pdf);
    assert.equal(inspected.signerCertificatePem, seal.certificatePem, 'signed with the department seal');
    assert.equal(inspected.dssAppended, true, 'a DSS follows the signature');
    assert.equal(inspected.intact, true, inspected.reason);
    assert.ok(inspected.timestampToken, 'the signature carries its timestamp');

    const text = run('pdftotext', ['-layout', file, '-']).stdout;
    assert.match(text, /杭州西湖数字科技有限公司/);
    assert.match(text, new RegExp(out.number));
    assert.match(text, /市场监督管理局/);

    // The record: canonical bytes as stored, signed by the department, chaining to the root.
    const record = (await s.deps.blobs.get(out.recordSha)).toString('utf8');
    assert.equal(canonicalize(JSON.parse(record)), record);
    const content = writeFile(dir, 'record.json', record);
    const der = writeFile(dir, 'record.sig.der', Buffer.from(out.signature, 'base64'));
    const rootFile = writeFile(dir, 'root.pem', root);
    const deptFile = writeFile(dir, 'market.pem', seal.certificatePem);
    const cms = run('openssl', [
      'cms',
      '-verify',
      '-binary',
      '-inform',
      'DER',
      '-in',
      der,
      '-content',
      content,
      '-nointern',
      '-certfile',
      deptFile,
      '-CAfile',
      rootFile,
      '-purpose',
      'any',
      '-out',
      '/dev/null',
    ]);
    assert.equal(cms.status, 0, cms.output);
    assert.match(cms.stderr, /CMS Verification successful/);
    const chain = run('openssl', ['verify', '-CAfile', rootFile, deptFile]);
    assert.equal(chain.status, 0, chain.output);
    assert.equal(
      verifyRecordSignature(Buffer.from(record), out.signature, root, { issuerDepartmentCode: 'market' }).ok,
      true,
    );

    const r = JSON.parse(record);
    assert.equal(r.document.sha256, out.signedPdfSha);
    assert.deepEqual(r.holder, {
      kind: 'entity',
      codeType: '001',
      name: '杭州西湖数字科技有限公司',
      id: '91350100M000100Y43',
    });
    assert.deepEqual(r.validity, { from: cert.validFrom, until: null });
    assert.deepEqual(r.type, { code: 'BL', version: 1, name: '营业执照' });
    assert.equal(r.issuedAt, cert.issuedAt);
    assert.equal(cert.status, 'valid');
    assert.equal(cert.record, record);
    assert.equal(cert.sealedBy, 'auto-seal');
  });

  it('writes one sealing and one storing audit entry and marks the application issued', async () => {
    const { db } = get();
    const appId = await createApplication(db, s.deps.masterKey);
    const { number } = await issue(s, appId);
    await s.acts.storeCertificate(appId, {
      docxSha: 'x'.repeat(64),
      signedPdfSha: 'x',
      recordSha: 'x',
      signature: 'x',
    });
    const audit = await db('audit_log')
      .where({ object_type: 'certificate', object_id: number })
      .orderBy('seq')
      .select('category', 'action', 'department');
    assert.deepEqual(
      audit.map((a) => `${a.category}:${a.action}:${a.department}`),
      ['sealing:certificate.seal:market', 'storing:certificate.store:market'],
    );
    assert.equal((await db('applications').where({ id: appId }).first()).status, 'issued');
  });

  it('a person holder: the record has the masked ID and a per-certificate binding, never the ID', async () => {
    const { db } = get();
    const holder = { kind: 'person' as const, id: '11010519491231002X', name: '张三' };
    const appId = await createApplication(db, s.deps.masterKey, { typeCode: 'PQ', holder });
    const out = await issue(s, appId);
    const record = (await s.deps.blobs.get(out.recordSha)).toString('utf8');
    assert.doesNotMatch(record, /11010519491231002X/);
    const r = JSON.parse(record);
    const idBinding = holderIdBinding(s.deps.masterKey, out.number, holderIdOf('person', holder.id));
    assert.deepEqual(r.holder, {
      kind: 'person',
      codeType: '111',
      name: '张三',
      idMasked: '110105********002X',
      idBinding,
    });
    assert.notEqual(
      r.holder.idBinding,
      (await getCertificate(db, out.number))!.holderIdHash,
      'not the lookup hash: records cannot be linked',
    );
    const cert = (await getCertificate(db, out.number))!;
    assert.equal(cert.holderCodeType, '111');
    assert.match(cert.validUntil!, /^\d{4}-\d{2}-\d{2}$/, '36-month term');
  });

  it('every step run twice, as after a crash: one number, one certificate, identical blobs, no stray blobs', async () => {
    const { db } = get();
    const appId = await createApplication(db, s.deps.masterKey);
    const twice = async <T>(f: () => Promise<T>) => {
      const a = await f();
      assert.deepEqual(await f(), a);
      return a;
    };
    const number = await twice(() => s.acts.allocateCertificateNumber(appId));
    const docxSha = await twice(() => s.acts.renderCertificate(appId));
    // Crash after the rendition row but before the PDF blob: the retry converts again.
    const pdfSha = await s.render.convertCertificate(docxSha);
    const pdfFile = path.join(s.blobDir, pdfSha.slice(0, 2), pdfSha.slice(2, 4), pdfSha);
    fs.rmSync(pdfFile);
    const pdfSha2 = await twice(() => s.render.convertCertificate(docxSha));
    assert.ok(fs.existsSync(path.join(s.blobDir, pdfSha2.slice(0, 2), pdfSha2.slice(2, 4), pdfSha2)));
    const signed = await twice(() => s.acts.signCertificate(appId, pdfSha2));
    const first = await s.acts.storeCertificate(appId, { docxSha, ...signed });
    const second = await s.acts.storeCertificate(appId, { docxSha, ...signed });
    assert.deepEqual([first.created, second.created, first.number, second.number], [true, false, number, number]);
    await twice(() => s.acts.registerInCatalog(number).then((r) => r.registeredAt));
    await twice(() => s.acts.warmCache(number));

    assert.equal((await db('certificates').where({ application_id: appId })).length, 1);
    assert.equal((await db('certificate_allocations').where({ application_id: appId })).length, 1);
    assert.deepEqual(
      blobFiles(s.blobDir),
      await referencedBlobs(db),
      'every blob is named by a row, and no temp files',
    );
  });

  it('conversion: a timeout is retried, input that is no DOCX is not', async () => {
    const failing = (code: 'timeout' | 'not_docx') =>
      renderQueueActivities({
        ...s.deps,
        converter: {
          convert: async () => {
            throw new ConversionError(code, `simulated ${code}`);
          },
          close: async () => {},
        },
      });
    const docxSha = await s.deps.blobs.put(Buffer.from(`PK\x03\x04 not really a docx ${Date.now()}`));
    await assert.rejects(
      failing('timeout').convertCertificate(docxSha),
      (err: Error) => err instanceof ConversionError && err.code === 'timeout' && !('nonRetryable' in err),
    );
    await assert.rejects(
      failing('not_docx').convertCertificate(docxSha),
      (err: Error & { nonRetryable?: boolean; type?: string }) => err.nonRetryable === true && err.type === 'NotDocx',
    );
    assert.equal(
      await get().db('pdf_renditions').where({ docx_sha256: docxSha }).first(),
      undefined,
      'nothing remembered for a failed conversion',
    );
  });

  it('refuses, without retrying, an application that was rejected', async () => {
    const { db } = get();
    const appId = await createApplication(db, s.deps.masterKey, { status: 'rejected' });
    await assert.rejects(
      s.acts.allocateCertificateNumber(appId),
      (err: Error & { nonRetryable?: boolean; type?: string }) =>
        err.nonRetryable === true && err.type === 'NotApproved',
    );
  });
});
