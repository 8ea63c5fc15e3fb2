import assert from 'node:assert/strict';
import { canonicalize } from '../../../domain/canonical-json';
import {
  buildCertificateRecord,
  CERTIFICATE_STATUS_CODES,
  RECORD_FORMAT,
  recordFaceData,
  type RecordInput,
} from '../../../domain/certificate-record';
import type { FaceField } from '../../../domain/face-fields';

const FIELDS: FaceField[] = [
  { key: 'entityName', label: '名称', type: 'text', required: true },
  { key: 'legalRepId', label: '法定代表人身份证号', type: 'idNumber', required: true },
  { key: 'items', label: '经营项目', type: 'list', required: false },
];

const input = (over: Partial<RecordInput> = {}): RecordInput => ({
  number: 'BL-330100-2026-0000042-B',
  identifier: '1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U',
  type: { code: 'BL', version: 3, name: '营业执照' },
  holder: { kind: 'entity', name: '杭州示例有限公司', id: '91350100M000100Y43' },
  issuer: { department: 'market', name: '市场监督管理局', code: '11430000006122244L', region: '330100' },
  issuedAt: '2026-03-15T02:00:00Z',
  validity: { from: '2026-03-15', until: '2027-03-14' },
  faceFields: FIELDS,
  faceData: { entityName: '杭州示例有限公司', legalRepId: '11010519491231002X', items: ['食品销售'] },
  signedPdfSha256: 'ab'.repeat(32),
  seal: { id: 7, name: '市场监督管理局电子印章', signerCertificateSerial: '01AF' },
  ...over,
});

describe('certificate record', () => {
  it("carries an entity holder's credit code in clear: it is public registry data", () => {
    const r = buildCertificateRecord(input());
    assert.equal(r.format, RECORD_FORMAT);
    assert.deepEqual(r.holder, { kind: 'entity', codeType: '001', name: '杭州示例有限公司', id: '91350100M000100Y43' });
  });

  it("never carries a person's resident ID number: only the mask and the per-certificate binding", () => {
    const id = '11010519491231002X';
    const r = buildCertificateRecord(
      input({ holder: { kind: 'person', name: '张三丰', id }, holderIdBinding: 'c0ffee'.repeat(10) }),
    );
    assert.deepEqual(r.holder, {
      kind: 'person',
      codeType: '111',
      name: '张三丰',
      idMasked: '110105********002X',
      idBinding: 'c0ffee'.repeat(10),
    });
    assert.ok(!canonicalize(r).includes(id), 'the full ID appears nowhere in the signed text');
  });

  it("refuses to build a person's record without the binding", () => {
    const holder = { kind: 'person' as const, name: '张三丰', id: '11010519491231002X' };
    assert.throws(() => buildCertificateRecord(input({ holder })), /holderIdBinding/);
  });

  it('masks face fields of type idNumber and keeps every other value as submitted', () => {
    const r = buildCertificateRecord(input());
    assert.deepEqual(r.faceData, {
      entityName: '杭州示例有限公司',
      legalRepId: '110105********002X',
      items: ['食品销售'],
    });
    assert.deepEqual(recordFaceData(FIELDS, { legalRepId: 42 }), { legalRepId: 42 }, 'only strings are masked');
  });

  it('names the signed PDF by its hash and keeps type version, issuer, validity and seal', () => {
    const r = buildCertificateRecord(input());
    assert.deepEqual(r.document, { mediaType: 'application/pdf', sha256: 'ab'.repeat(32) });
    assert.deepEqual(r.type, { code: 'BL', version: 3, name: '营业执照' });
    assert.equal(r.issuer.code, '11430000006122244L');
    assert.deepEqual(r.validity, { from: '2026-03-15', until: '2027-03-14' });
    assert.equal(r.seal.signerCertificateSerial, '01AF');
  });

  it('does not share objects with its input, so a later change to the input cannot alter a signed record', () => {
    const i = input();
    const r = buildCertificateRecord(i);
    const before = canonicalize(r);
    i.type.name = 'changed';
    i.issuer.name = 'changed';
    i.validity.until = null;
    i.seal.name = 'changed';
    assert.equal(canonicalize(r), before);
  });

  it('the same input always gives the same canonical text (a retried signing signs the same bytes)', () => {
    assert.equal(canonicalize(buildCertificateRecord(input())), canonicalize(buildCertificateRecord(input())));
  });

  it('status codes are those of the national interface; 06 is not used, superseded is 99 (other)', () => {
    assert.deepEqual(CERTIFICATE_STATUS_CODES, {
      valid: '01',
      suspended: '02',
      withdrawn: '03',
      cancelled: '04',
      expired: '05',
      revoked: '07',
      superseded: '99',
    });
  });
});
