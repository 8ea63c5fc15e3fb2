import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../../support/databases';
import { testWarmConverter } from '../../support/app';
import { createApplication, issue, setupSealing, type Issued, type SealingSetup } from '../sealing/helpers';
import { verifyCertificate, type VerificationReport, type VerifyDeps } from '../../../services/verify';
import { signPdf } from '../../../services/trust/sign-pdf';
import { signRecord } from '../../../services/trust/sign-record';
import { loadSealForSigning } from '../../../services/trust/seals';
import { getCertificate } from '../../../db/certificates';
import { certificateCacheKey } from '../../../db/certificate-cache';
import { getDefaultSeal } from '../../../db/trust';
import { canonicalize } from '../../../domain/canonical-json';
import { formatCertificateNumber } from '../../../domain/certificate-number';
import {
  allPassedExcept,
  foreignMarketCredential,
  NUMBER_CHECKS,
  outcomes,
  PDF_CHECKS,
  RECORD_CHECKS,
  useSealForMarket,
  untimed,
} from './helpers';

/**
 * verifyCertificate on real certificates issued through the sealing activities (SQLite; the
 * API tests run both databases): each tamper case must fail its own check — and only the
 * checks that really are affected.
 */
describe('verifyCertificate: tamper cases fail the right check', () => {
  let t: TestDatabase;
  let s: SealingSetup;
  let deps: VerifyDeps;
  let entity: Issued;
  let person: Issued;
  let pdf: Buffer;

  before(async function () {
    this.timeout(60_000);
    t = await createTestDatabase('sqlite');
    const converter = testWarmConverter();
    await converter.start();
    s = await setupSealing(t.db, converter);
    deps = s.deps;
    entity = await issue(s, await createApplication(t.db, s.deps.masterKey));
    person = await issue(
      s,
      await createApplication(t.db, s.deps.masterKey, {
        typeCode: 'PQ',
        holder: { kind: 'person', id: '11010519491231002X', name: '张三丰' },
      }),
    );
    pdf = await s.deps.blobs.get(entity.signedPdfSha);
  });
  after(() => t?.drop());

  const check = (r: VerificationReport, id: string) => r.checks.find((c) => c.id === id)!;
  const stored = async (number: string) => (await getCertificate(t.db, number))!;

  it('a genuine PDF: every check passes, with the public face summary', async () => {
    const r = await verifyCertificate(deps, pdf);
    assert.equal(r.verdict, 'valid', JSON.stringify(r.checks, null, 1));
    assert.deepEqual(outcomes(r), allPassedExcept(PDF_CHECKS, {}));
    assert.ok(r.checks.every((c) => c.title && c.titleEn && c.reason));
    assert.equal(r.certificate?.number, entity.number);
    assert.deepEqual(r.certificate?.holder, {
      kind: 'entity',
      name: '杭州西湖数字科技有限公司',
      idMasked: '913501********0Y43',
    });
    assert.deepEqual(
      [r.certificate?.issuer.department, r.certificate?.issuer.name, r.certificate?.type.code, r.certificate?.status],
      ['market', '市场监督管理局', 'BL', 'valid'],
    );
    assert.ok(!JSON.stringify(r).includes('91350100M000100Y43'), 'no full credit code in the report');
  });

  it('a PDF with one byte changed fails integrity (and so its hash), nothing about the signer', async () => {
    const tampered = Buffer.from(pdf);
    const at = Math.floor(pdf.length / 3);
    tampered[at] = tampered[at]! ^ 0x01;
    const r = await verifyCertificate(deps, tampered);
    assert.equal(r.verdict, 'invalid');
    assert.deepEqual(outcomes(r), allPassedExcept(PDF_CHECKS, { integrity: 'failed', pdfHash: 'failed' }));
    assert.match(check(r, 'integrity').reason, /changed after signing/);
    assert.equal(r.certificate?.number, entity.number, 'still identified, by the number the signature names');
  });

  it('content appended after signing fails integrity', async () => {
    const r = await verifyCertificate(deps, Buffer.concat([pdf, Buffer.from('\n1 0 obj\n<< /Evil true >>\nendobj\n')]));
    assert.deepEqual(outcomes(r), allPassedExcept(PDF_CHECKS, { integrity: 'failed', pdfHash: 'failed' }));
    assert.match(check(r, 'integrity').reason, /added after signing/);
  });

  it('the same document signed under a foreign CA fails the chain', async () => {
    const cert = await stored(entity.number);
    const resigned = await signPdf(await s.deps.blobs.get(entity.pdfSha), await foreignMarketCredential(), {
      reason: `电子证照签发 ${entity.number}`,
      name: '市场监督管理局',
      location: '330100',
      signingTime: new Date(cert.issuedAt),
    });
    const r = await verifyCertificate(deps, resigned);
    assert.deepEqual(outcomes(r), allPassedExcept(untimed(PDF_CHECKS), { chain: 'failed', pdfHash: 'failed' }));
    assert.match(check(r, 'chain').reason, /not the trusted root|not issued by the trusted root/);
  });

  it('a certificate issued with a foreign seal fails the chain, by number and as a PDF', async () => {
    const restore = await useSealForMarket(t.db, s.deps.masterKey, await foreignMarketCredential());
    let foreign: Issued;
    try {
      foreign = await issue(s, await createApplication(t.db, s.deps.masterKey));
    } finally {
      await restore();
    }
    const byNumber = await verifyCertificate(deps, foreign.number);
    assert.deepEqual(outcomes(byNumber), allPassedExcept(NUMBER_CHECKS, { chain: 'failed' }));
    const asPdf = await verifyCertificate(deps, await s.deps.blobs.get(foreign.signedPdfSha));
    assert.deepEqual(outcomes(asPdf), allPassedExcept(PDF_CHECKS, { chain: 'failed', recordSignature: 'failed' }));
    assert.match(check(asPdf, 'recordSignature').reason, /the registered record: .*trusted root/);
  });

  it('a genuine record + signature: valid as canonical text or as an object; re-indented text is not what was signed', async () => {
    const cert = await stored(person.number);
    for (const record of [cert.record, JSON.parse(cert.record) as Record<string, unknown>]) {
      const r = await verifyCertificate(deps, { record, signature: cert.recordSignature });
      assert.deepEqual(outcomes(r), allPassedExcept(RECORD_CHECKS, {}));
    }
    const pretty = JSON.stringify(JSON.parse(cert.record), null, 2);
    const p = await verifyCertificate(deps, { record: pretty, signature: cert.recordSignature });
    assert.deepEqual(outcomes(p), allPassedExcept(RECORD_CHECKS, { recordSignature: 'failed', record: 'failed' }));
    assert.match(check(p, 'recordSignature').reason, /canonical form/);
    const r = await verifyCertificate(deps, { record: cert.record, signature: cert.recordSignature });
    assert.deepEqual(r.certificate?.holder, { kind: 'person', name: '张*丰', idMasked: '11**************2X' });
    assert.ok(!JSON.stringify(r).includes('11010519491231002X'), 'no full ID number in the report');
  });

  it("a record signed by another department's key fails issuer, and only issuer", async () => {
    const cert = await stored(entity.number);
    const { credential } = await loadSealForSigning(s.deps, (await getDefaultSeal(t.db, 'health'))!);
    const signature = signRecord(Buffer.from(cert.record, 'utf8'), credential, {
      signingTime: new Date(cert.issuedAt),
    });
    const r = await verifyCertificate(deps, { record: cert.record, signature });
    assert.equal(r.verdict, 'invalid');
    assert.deepEqual(outcomes(r), allPassedExcept(untimed(RECORD_CHECKS), { issuer: 'failed' }));
    assert.match(check(r, 'issuer').reason, /issued by department market but signed by health/);
  });

  it('an altered record fails its signature and the registry, not the signer', async () => {
    const cert = await stored(entity.number);
    const altered = JSON.parse(cert.record) as { faceData: Record<string, unknown> };
    altered.faceData.registeredCapital = '人民币伍亿元整';
    const r = await verifyCertificate(deps, { record: canonicalize(altered), signature: cert.recordSignature });
    assert.deepEqual(outcomes(r), allPassedExcept(RECORD_CHECKS, { recordSignature: 'failed', record: 'failed' }));
    assert.match(check(r, 'recordSignature').reason, /differs from what was signed/);
  });

  it('a well-signed record of a number never issued here fails status: not issued by this platform', async () => {
    const cert = await stored(entity.number);
    const fake = {
      ...(JSON.parse(cert.record) as Record<string, unknown>),
      number: formatCertificateNumber({ typeCode: 'BL', region: '330100', year: 2020, serial: 1 }),
    };
    const { credential } = await loadSealForSigning(s.deps, (await getDefaultSeal(t.db, 'market'))!);
    const text = canonicalize(fake);
    const r = await verifyCertificate(deps, { record: text, signature: signRecord(Buffer.from(text), credential) });
    assert.deepEqual(
      outcomes(r),
      allPassedExcept(untimed(RECORD_CHECKS), { pdfHash: 'indeterminate', record: 'indeterminate', status: 'failed' }),
    );
    assert.match(check(r, 'status').reason, /was not issued by this platform/);
    assert.equal(r.certificate, null);
  });

  it('by number: valid, then revoked (row + cache key) fails status at once with date and reason, expired fails too', async () => {
    const app = await createApplication(t.db, s.deps.masterKey);
    const { number } = await issue(s, app);
    assert.deepEqual(outcomes(await verifyCertificate(deps, number)), allPassedExcept(NUMBER_CHECKS, {}));
    // The report above warmed the cache: without the delete, the stale "valid" would be served.
    await t
      .db('certificates')
      .where({ number })
      .update({
        status: 'revoked',
        status_changed_at: new Date('2026-03-01T02:00:00Z'),
        status_reason: '以欺骗手段取得',
      });
    await deps.cache.del(certificateCacheKey(number));
    const revoked = await verifyCertificate(deps, number);
    assert.deepEqual(outcomes(revoked), allPassedExcept(NUMBER_CHECKS, { status: 'failed' }));
    assert.equal(check(revoked, 'status').reason, 'revoked (吊销) on 2026-03-01: 以欺骗手段取得');
    assert.deepEqual(
      [revoked.verdict, revoked.certificate?.status, revoked.certificate?.statusReason],
      ['invalid', 'revoked', '以欺骗手段取得'],
    );

    // Past its end date while the row still says valid (the sweep has not run): expired.
    await t.db('certificates').where({ number: entity.number }).update({ valid_until: '2020-01-01' });
    await deps.cache.del(certificateCacheKey(entity.number));
    const expired = await verifyCertificate(deps, entity.number);
    assert.deepEqual(outcomes(expired), allPassedExcept(NUMBER_CHECKS, { status: 'failed' }));
    assert.equal(check(expired, 'status').reason, 'expired: valid until 2020-01-01');
    assert.equal(expired.certificate?.status, 'expired');
  });

  it('an unknown number: only status, failed; a PDF without a signature fails integrity', async () => {
    const r = await verifyCertificate(
      deps,
      formatCertificateNumber({ typeCode: 'BL', region: '330100', year: 2099, serial: 42 }),
    );
    assert.deepEqual(outcomes(r), { status: 'failed' });
    assert.equal(r.certificate, null);
    const unsigned = await verifyCertificate(deps, await s.deps.blobs.get(entity.pdfSha));
    assert.deepEqual(outcomes(unsigned), {
      integrity: 'failed',
      pdfSignature: 'failed',
      recordSignature: 'indeterminate',
      chain: 'indeterminate',
      signerValidity: 'indeterminate',
      signerProfile: 'indeterminate',
      issuer: 'indeterminate',
      pdfHash: 'failed',
      status: 'failed',
    });
    assert.match(check(unsigned, 'integrity').reason, /has no signature/);
  });
});
