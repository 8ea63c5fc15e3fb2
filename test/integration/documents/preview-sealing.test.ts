import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import PizZip from 'pizzip';
import { testWarmConverter, startTestApp, type TestApp } from '../../support/app';
import { createTestDatabase, type TestDatabase } from '../../support/databases';
import { temporalEnv } from '../../support/temporal';
import { createApplication, FACE_DATA, issue, setupSealing, type Issued, type SealingSetup } from '../sealing/helpers';
import { findAllocation, type Allocation } from '../../../db/allocations';
import { getTypeVersion } from '../../../db/certificate-types';
import { getSeal } from '../../../db/trust';
import { chinaDate, printedDate } from '../../../domain/calendar';
import {
  renderCertificate,
  SAMPLE_MARK,
  sampleCertificateNumber,
  verifyUrl,
  type CertificateDocumentInput,
} from '../../../services/documents/certificate';

/**
 * The template preview (POST /certificate-types/:code/preview) and the sealing step
 * (activities/sealing.ts renderCertificate) render through one function: given the same face,
 * holder and issue instant, the two documents differ only in what sealing allocates (the
 * number, the identifier and the QR code pointing at the number). Real LibreOffice (the run's
 * warm pool), real poppler.
 */
const converter = testWarmConverter();

const HOLDER = { kind: 'entity' as const, id: '91350100M000100Y43', name: '杭州西湖数字科技有限公司' };
const FACE: Record<string, string> = { ...(FACE_DATA.BL as Record<string, string>), establishedOn: '2026-03-01' };

const zipEntries = (docx: Buffer) => {
  const files = new PizZip(docx).files;
  return Object.fromEntries(
    Object.keys(files)
      .sort()
      .map((name) => [name, Buffer.from(files[name]!.asUint8Array())]),
  );
};
/** pdftotext's lines, trimmed and with runs of spaces collapsed, empty lines dropped. */
const pdfLines = (pdf: Buffer) =>
  execFileSync('pdftotext', ['-layout', '-', '-'], { input: pdf })
    .toString('utf8')
    .split('\n')
    .map((l) => l.trim().replace(/\s+/g, ' '))
    .filter(Boolean);

describe('preview and sealing render one certificate the same way', () => {
  let tdb: TestDatabase;
  let s: SealingSetup;
  let app: TestApp;
  let admin: string;
  let sealed: Issued;
  let allocation: Allocation;

  before(async () => {
    tdb = await createTestDatabase('sqlite');
    s = await setupSealing(tdb.db, converter);
    app = await startTestApp({ db: tdb.db, temporal: (await temporalEnv()).client, deps: s.deps });
    admin = await app.login('market-admin');
    const appId = await createApplication(tdb.db, s.deps.masterKey, { holder: HOLDER, faceData: FACE });
    sealed = await issue(s, appId);
    allocation = (await findAllocation(tdb.db, appId))!;
  });
  after(async () => {
    await app?.close();
    await tdb?.drop();
    if (s) fs.rmSync(s.blobDir, { recursive: true, force: true });
  });

  const preview = async (format: 'docx' | 'pdf') => {
    const json = {
      faceData: FACE,
      holder: { name: HOLDER.name, id: HOLDER.id },
      issuedAt: allocation.allocatedAt.toISOString(),
    };
    const r = await app.fetch(`/api/v1/certificate-types/BL/preview?format=${format}&version=1`, {
      token: admin,
      json,
    });
    assert.equal(r.status, 200, await r.clone().text());
    return Buffer.from(await r.arrayBuffer());
  };

  /** What the sealing step rendered from, read back from the tables it rendered from. */
  async function sealingInput(): Promise<CertificateDocumentInput> {
    const type = (await getTypeVersion(tdb.db, 'BL', 1))!;
    const seal = (await getSeal(tdb.db, allocation.sealId))!;
    return {
      type,
      faceData: FACE,
      holder: { name: HOLDER.name, id: HOLDER.id },
      number: allocation.number,
      identifier: allocation.identifier,
      issuerName: allocation.issuerName,
      issuedAt: allocation.allocatedAt,
      template: await s.deps.blobs.get(type.templateSha256!),
      sealImage: await s.deps.blobs.get(seal.imageSha256),
      // The QR code also carries the offline signature the sealing step kept (docs/trust.md, "Offline QR").
      qrTarget: `${verifyUrl(s.deps.config.http.publicUrl, allocation.number)}#${(await tdb.db('offline_qr_signatures').where({ certificate_number: allocation.number }).first()).token}`,
    };
  }

  it('same input gives the same DOCX bytes, whether sealing, the preview route or a direct call renders it', async () => {
    const input = await sealingInput();
    const sealedDocx = await s.deps.blobs.get(sealed.docxSha);
    assert.ok(
      (await renderCertificate(input)).equals(sealedDocx),
      'the sealing step renders through renderCertificate',
    );

    const previewDocx = await preview('docx');
    assert.ok((await preview('docx')).equals(previewDocx), 'a preview of the same input renders the same bytes');
    const sample = sampleCertificateNumber('BL', allocation.regionCode, allocation.allocatedAt);
    const asPreview = {
      ...input,
      number: sample,
      identifier: SAMPLE_MARK,
      qrTarget: verifyUrl(s.deps.config.http.publicUrl, sample),
    };
    assert.ok(
      (await renderCertificate(asPreview)).equals(previewDocx),
      'the preview renders through renderCertificate',
    );
  });

  it('the preview differs from the sealed DOCX only in the number and its QR code', async () => {
    const sample = sampleCertificateNumber('BL', allocation.regionCode, allocation.allocatedAt);
    assert.notEqual(sample, allocation.number);
    const seen = zipEntries(await preview('docx'));
    const real = zipEntries(await s.deps.blobs.get(sealed.docxSha));
    assert.deepEqual(Object.keys(seen), Object.keys(real));
    const differing = Object.keys(real).filter((name) => !seen[name]!.equals(real[name]!));
    assert.equal(differing.length, 2, `differ: ${differing.join(', ')}`);
    assert.ok(differing.includes('word/document.xml'));
    assert.match(
      differing.find((n) => n !== 'word/document.xml')!,
      /^word\/media\/.*\.png$/,
      'the other is the QR image',
    );
    const xml = (entries: Record<string, Buffer>) => entries['word/document.xml']!.toString('utf8');
    assert.ok(xml(seen).includes(sample));
    assert.equal(
      xml(seen).split(sample).join(allocation.number),
      xml(real),
      'with the number put back, the faces are the same',
    );
  });

  it('both PDFs show the same face text and the same printed dates', async () => {
    const previewText = pdfLines(await preview('pdf'));
    const sealedText = pdfLines(await s.deps.blobs.get(sealed.signedPdfSha));
    const issuedOn = printedDate(chinaDate(allocation.allocatedAt.getTime()));
    for (const [name, text] of [
      ['preview', previewText],
      ['sealed', sealedText],
    ] as const) {
      const all = text.join('\n');
      // pdftotext puts a space between CJK and Latin runs ("2026 年 03 月"): compare without spaces.
      const compact = all.replace(/\s+/g, '');
      assert.ok(compact.includes('2026年03月01日'), `${name}: the face date prints as 年月日: ${all}`);
      assert.ok(compact.includes(issuedOn), `${name}: the China issue day ${issuedOn}`);
      assert.ok(compact.includes(FACE.entityName!) && compact.includes(FACE.businessScope!), `${name}: the face text`);
      assert.ok(!/\d{4}-\d{2}-\d{2}/.test(all), `${name}: no ISO date left: ${all}`);
    }
    const sample = sampleCertificateNumber('BL', allocation.regionCode, allocation.allocatedAt);
    assert.ok(previewText.join('\n').includes(sample));
    const normalised = previewText.map((l) => l.split(sample).join(allocation.number));
    assert.deepEqual(normalised, sealedText, 'only the number differs');
  });
});
