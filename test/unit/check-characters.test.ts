import assert from 'node:assert/strict';
import { formatCertificateNumber, parseCertificateNumber } from '../../domain/certificate-number';
import { mod37_36CheckChar, validateMod37_36 } from '../../domain/check-digits';

/** A wrong check character is reported as wrong, never with the right one (issue #20): no oracle for guessing. */
describe('check-character messages', () => {
  const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

  it('a certificate number with a wrong check character is refused without naming the right one', () => {
    const good = formatCertificateNumber({ typeCode: 'BL', region: '330106', year: 2026, serial: 42 });
    const right = good.slice(-1);
    for (const c of ALPHABET.replace(right, '')) {
      const r = parseCertificateNumber(good.slice(0, -1) + c);
      assert.ok(!r.ok);
      assert.equal(r.reason, 'check character is wrong');
    }
  });

  it('the generic MOD 37,36 validator does not name it either', () => {
    const body = 'A12425GABC1234002';
    const right = mod37_36CheckChar(body);
    const wrong = right === 'N' ? 'P' : 'N';
    const r = validateMod37_36(body + wrong);
    assert.ok(!r.ok && !r.reason.includes(`${right},`) && !r.reason.includes(`be ${right}`), JSON.stringify(r));
  });
});
