import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import PizZip from 'pizzip';
import { makeQrPng, renderCertificateDocx, templateTags, TemplateError } from '../../../services/documents/render';
import { SAMPLE_DATA } from '../../../scripts/make-templates';

const TEMPLATES = path.resolve(__dirname, '../../../templates');
const read = (rel: string) => fs.readFileSync(path.join(TEMPLATES, rel));
const businessLicence = read('business-licence.docx');
const foodPermit = read('food-business-permit.docx');
const seal = read('seals/market.png');

const COMMON_TAGS = ['certificateNumber', 'holderName', 'issuedOn', 'issuerName', 'validFrom', 'validUntil'];

/** The template with its document.xml edited, as a careless template author might. */
function edited(template: Buffer, edit: (xml: string) => string): Buffer {
  const zip = new PizZip(template);
  zip.file('word/document.xml', edit(zip.file('word/document.xml')!.asText()));
  return zip.generate({ type: 'nodebuffer' });
}

const documentXml = (docx: Buffer) => new PizZip(docx).file('word/document.xml')!.asText();
/** Paragraph texts in order, runs joined. */
const paragraphs = (docx: Buffer) =>
  documentXml(docx)
    .split('</w:p>')
    .map((p) => [...p.matchAll(/<w:t[^>]*>([^<]*)<\/w:t>/g)].map((m) => m[1]).join(''))
    .filter(Boolean);

function pngSize(png: Buffer) {
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

describe('certificate templates and rendering', () => {
  let qrCode: Buffer;
  before(async () => {
    qrCode = await makeQrPng('https://certflow.example.gov.cn/verify/YYZZ-440305-2024-000123');
  });

  describe('templateTags', () => {
    it('lists exactly the tags of the business licence template', () => {
      assert.deepEqual(templateTags(businessLicence), {
        tags: [
          ...COMMON_TAGS,
          'address',
          'businessScope',
          'creditCode',
          'entityName',
          'entityType',
          'establishedOn',
          'legalRepresentative',
          'registeredCapital',
        ].sort(),
        loops: [],
        images: ['qrCode', 'seal'],
      });
    });

    it('lists the food business permit tags, naming tags inside a loop after the loop', () => {
      assert.deepEqual(templateTags(foodPermit), {
        tags: [
          ...COMMON_TAGS,
          'address',
          'businessFormat',
          'businessItems..',
          'creditCode',
          'legalRepresentative',
          'operatorName',
          'premises',
        ].sort(),
        loops: ['businessItems'],
        images: ['qrCode', 'seal'],
      });
    });

    it('names the tag and the fault when a tag is not closed', () => {
      const broken = edited(businessLicence, (xml) => xml.replace('{entityName}', '{entityName'));
      assert.throws(
        () => templateTags(broken),
        (err: TemplateError) => {
          assert.ok(err instanceof TemplateError);
          assert.equal(err.code, 'template_syntax');
          assert.match(err.message, /\{entityName/);
          assert.match(err.message, /unclosed/);
          assert.ok(err.problems.some((p) => p.id === 'unclosed_tag' && p.tag?.startsWith('entityName')));
          return true;
        },
      );
    });

    it('reports a loop that is opened but never closed', () => {
      const broken = edited(foodPermit, (xml) => xml.replace('{/businessItems}', ''));
      assert.throws(() => templateTags(broken), /loop with tag "businessItems" is unclosed/);
    });

    it('says clearly when the file is not a DOCX', () => {
      assert.throws(
        () => templateTags(Buffer.from('%PDF-1.7 not a template')),
        (err: TemplateError) => {
          assert.equal(err.code, 'not_docx');
          assert.match(err.message, /not a DOCX file: it is not a ZIP archive/);
          return true;
        },
      );
      const otherZip = new PizZip();
      otherZip.file('content.xml', '<office:document/>');
      assert.throws(() => templateTags(otherZip.generate({ type: 'nodebuffer' })), /no word\/document\.xml/);
      assert.throws(() => templateTags(Buffer.alloc(0)), /empty/);
    });
  });

  describe('renderCertificateDocx', () => {
    it('fills every tag of the business licence with Chinese face data and embeds both images', () => {
      const data = SAMPLE_DATA['business-licence'];
      const docx = renderCertificateDocx({ template: businessLicence, data, images: { seal, qrCode } });
      const text = paragraphs(docx).join('\n');
      assert.ok(text.includes(data.holderName));
      assert.ok(text.includes(data.certificateNumber));
      assert.ok(text.includes('营业执照'));
      assert.ok(text.includes(`${data.validFrom} 至 ${data.validUntil}`));
      assert.doesNotMatch(text, /[{}]/, 'no tag is left in the output');
      // The images go in byte for byte: nothing re-encodes the seal.
      const media = new PizZip(docx).file(/^word\/media\//).map((f) => f.asNodeBuffer());
      assert.equal(media.length, 2);
      assert.ok(media.some((m) => m.equals(seal)));
      assert.ok(media.some((m) => m.equals(qrCode)));
      // Line breaks in a value become line breaks in the document.
      assert.match(documentXml(docx), /服务。<\/w:t>(<\/w:r><w:r>)?<w:br\/>/);
    });

    it('repeats the business items paragraph once per item', () => {
      const data = SAMPLE_DATA['food-business-permit'];
      const docx = renderCertificateDocx({ template: foodPermit, data, images: { seal, qrCode } });
      const paras = paragraphs(docx);
      assert.deepEqual(
        paras.filter((p) => p.startsWith('● ')),
        data.businessItems.map((i) => `● ${i}`),
      );
      assert.ok(!paras.some((p) => p.includes('businessItems')), 'the loop tags vanish with their paragraphs');
    });

    it('refuses to render with face data missing, naming every missing tag', () => {
      const { legalRepresentative: _l, premises: _p, ...data } = SAMPLE_DATA['food-business-permit'];
      assert.throws(
        () => renderCertificateDocx({ template: foodPermit, data, images: { seal, qrCode } }),
        (err: TemplateError) => {
          assert.equal(err.code, 'missing_value');
          assert.equal(err.message, 'missing data for template tags: legalRepresentative, premises');
          return true;
        },
      );
    });

    it('renders a tag declared optional as empty', () => {
      const { premises: _p, ...data } = SAMPLE_DATA['food-business-permit'];
      const docx = renderCertificateDocx({
        template: foodPermit,
        data,
        images: { seal, qrCode },
        optionalTags: ['premises'],
      });
      assert.ok(paragraphs(docx).includes(data.operatorName));
    });

    it('rejects an image that is not a PNG', () => {
      assert.throws(
        () =>
          renderCertificateDocx({
            template: businessLicence,
            data: SAMPLE_DATA['business-licence'],
            images: { seal: Buffer.from('GIF89a…'), qrCode },
          }),
        (err: TemplateError) => err.code === 'bad_image' && /"seal" must be a PNG/.test(err.message),
      );
    });

    it('reports a broken template when rendering too', () => {
      const broken = edited(businessLicence, (xml) => xml.replace('{creditCode}', '{creditCode'));
      assert.throws(
        () =>
          renderCertificateDocx({ template: broken, data: SAMPLE_DATA['business-licence'], images: { seal, qrCode } }),
        /The tag beginning with "\{creditCode[^"]*" is unclosed/,
      );
    });
  });

  describe('makeQrPng', () => {
    it('makes a square PNG with a one-module margin', async () => {
      const png = await makeQrPng('https://certflow.example.gov.cn/verify/JY14403050123456');
      assert.ok(png.subarray(1, 4).toString() === 'PNG');
      assert.deepEqual(pngSize(png), { width: 300, height: 300 });
    });
  });
});
