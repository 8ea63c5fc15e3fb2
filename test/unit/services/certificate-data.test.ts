import assert from 'node:assert/strict';
import {
  certificateTemplateData,
  sampleCertificateNumber,
  type CertificateFace,
} from '../../../services/documents/certificate';
import { isValidCertificateNumber } from '../../../domain/certificate-number';

const face = (over: Partial<CertificateFace> = {}): CertificateFace => ({
  type: {
    name: '营业执照',
    validity: { kind: 'term', months: 12 },
    faceFields: [
      { key: 'entityName', label: '名称', type: 'text', required: true },
      { key: 'establishedOn', label: '成立日期', type: 'date', required: true },
    ],
  } as CertificateFace['type'],
  faceData: { entityName: '杭州西湖数字科技有限公司', establishedOn: '2019-06-18' },
  holder: { name: '杭州西湖数字科技有限公司', id: '91350100M000100Y43' },
  number: 'BL-330100-2026-0000001-X',
  identifier: 'id',
  issuerName: '市场监督管理局',
  issuedAt: new Date('2026-02-28T16:30:00Z'),
  ...over,
});

describe('certificate template data (services/documents/certificate.ts)', () => {
  it('prints dates as 年月日 and takes the issue day in China time (UTC+8)', () => {
    const data = certificateTemplateData(face());
    // 16:30 UTC on 28 February is 00:30 on 1 March in Beijing.
    assert.equal(data.issuedOn, '2026年03月01日');
    assert.equal(data.validFrom, '2026年03月01日');
    assert.equal(data.validUntil, '2027年02月28日');
    assert.equal(data.establishedOn, '2019年06月18日');
    assert.equal(data.entityName, '杭州西湖数字科技有限公司');
    assert.deepEqual(
      [data.certificateNumber, data.holderName, data.holderId, data.issuerName, data.typeName],
      ['BL-330100-2026-0000001-X', '杭州西湖数字科技有限公司', '91350100M000100Y43', '市场监督管理局', '营业执照'],
    );
  });

  it('reads 长期 when the certificate has no end date', () => {
    const data = certificateTemplateData(face({ type: { ...face().type, validity: { kind: 'permanent' } } }));
    assert.equal(data.validUntil, '长期');
  });

  it("makes a sample number that cannot be a certificate's, in the China year of the issue instant", () => {
    const sample = sampleCertificateNumber('BL', '330100', new Date('2026-12-31T16:00:00Z'));
    assert.equal(sample, 'BL-330100-2027-0000000-0');
    assert.equal(isValidCertificateNumber(sample), false);
  });
});
