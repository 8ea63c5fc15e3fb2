import assert from 'node:assert/strict';
import {
  formatCertificateNumber,
  isValidCertificateNumber,
  MAX_CERTIFICATE_SERIAL,
  parseCertificateNumber,
} from '../../../domain/certificate-number';
import { InvalidValueError } from '../../../domain/result';

const PARTS = { typeCode: 'BL', region: '330106', year: 2026, serial: 42 };

describe('certificate number (证照编号)', () => {
  it('is type-region-year-serial-check with a zero-padded 7-digit serial', () => {
    // MOD 37,36 over BL33010620260000042 is B, computed independently of this code.
    assert.equal(formatCertificateNumber(PARTS), 'BL-330106-2026-0000042-B');
  });

  it('parses back into the parts it was made from', () => {
    assert.deepEqual(parseCertificateNumber('BL-330106-2026-0000042-B'), {
      ok: true,
      value: { ...PARTS, number: 'BL-330106-2026-0000042-B', check: 'B' },
    });
  });

  it('gives one number per (type, region, year, serial) and round-trips each', () => {
    const variants = [
      PARTS,
      { ...PARTS, typeCode: 'FP' },
      { ...PARTS, typeCode: 'SPJY2026' },
      { ...PARTS, region: '330102' },
      { ...PARTS, year: 2027 },
      { ...PARTS, serial: 1 },
      { ...PARTS, serial: MAX_CERTIFICATE_SERIAL },
    ];
    const numbers = variants.map(formatCertificateNumber);
    assert.equal(new Set(numbers).size, variants.length);
    numbers.forEach((n, i) => {
      const parsed = parseCertificateNumber(n);
      assert.ok(parsed.ok, n);
      const { typeCode, region, year, serial } = parsed.value;
      assert.deepEqual({ typeCode, region, year, serial }, variants[i]);
    });
  });

  it('catches two swapped serial digits', () => {
    assert.equal(formatCertificateNumber({ ...PARTS, serial: 24 }), 'BL-330106-2026-0000024-F');
    assert.deepEqual(parseCertificateNumber('BL-330106-2026-0000024-B'), {
      ok: false,
      reason: 'check character is wrong',
    });
  });

  it('accepts what people type: lower case and surrounding spaces', () => {
    const parsed = parseCertificateNumber('  bl-330106-2026-0000042-b\n');
    assert.ok(parsed.ok);
    assert.equal(parsed.value.number, 'BL-330106-2026-0000042-B');
    assert.equal(isValidCertificateNumber('bl-330106-2026-0000042-b'), true);
  });

  it('names what is wrong with a typed number', () => {
    const format = 'must be type-region-year-serial-check, e.g. BL-330106-2026-0000042-B';
    const cases: [unknown, string][] = [
      [42, 'must be a string'],
      ['BL330106202600000428', format],
      ['BL-330106-2026-0000042', format],
      ['BL-330106-2026-00-00042-B', format],
      ['B-330106-2026-0000042-B', 'type code must be 2 to 8 characters of A-Z and 0-9'],
      ['ABCDEFGHI-330106-2026-0000042-B', 'type code must be 2 to 8 characters of A-Z and 0-9'],
      ['营业-330106-2026-0000042-B', 'type code must be 2 to 8 characters of A-Z and 0-9'],
      ['BL-33010-2026-0000042-B', 'region must be a 6-digit GB/T 2260 code, not starting with 0'],
      ['BL-030106-2026-0000042-B', 'region must be a 6-digit GB/T 2260 code, not starting with 0'],
      ['BL-330106-26-0000042-B', "year must be 4 digits, got '26'"],
      ['BL-330106-1899-0000042-B', 'year must be a 4-digit year, 1900 or later'],
      ['BL-330106-2026-42-B', "serial must be 7 digits, got '42'"],
      ['BL-330106-2026-0000000-B', `serial must be an integer from 1 to ${MAX_CERTIFICATE_SERIAL}`],
      ['BL-330106-2026-0000042-', 'check must be one character, 0-9 or A-Z'],
      ['BL-330106-2026-0000042-BB', 'check must be one character, 0-9 or A-Z'],
      ['BL-330106-2026-0000042-C', 'check character is wrong'],
    ];
    for (const [input, reason] of cases)
      assert.deepEqual(parseCertificateNumber(input), { ok: false, reason }, String(input));
  });

  it('refuses to format bad parts, naming the part', () => {
    const cases: [Partial<typeof PARTS>, RegExp][] = [
      [{ typeCode: 'bl' }, /type code must be 2 to 8 characters/],
      [{ typeCode: 'B-L' }, /type code must be 2 to 8 characters/],
      [{ region: '33010A' }, /region must be a 6-digit/],
      [{ year: 26 }, /year must be a 4-digit year/],
      [{ year: 10000 }, /year must be a 4-digit year/],
      [{ serial: 0 }, /serial must be an integer from 1 to 9999999/],
      [{ serial: MAX_CERTIFICATE_SERIAL + 1 }, /serial must be an integer/],
      [{ serial: 4.2 }, /serial must be an integer/],
    ];
    for (const [bad, message] of cases) {
      assert.throws(
        () => formatCertificateNumber({ ...PARTS, ...bad }),
        (err: unknown) => {
          assert.ok(err instanceof InvalidValueError);
          assert.match(err.message, message);
          return true;
        },
      );
    }
  });
});
