import assert from 'node:assert/strict';
import {
  creditCodeCheckChar,
  isValidCreditCode,
  isValidResidentId,
  mod37_36CheckChar,
  MOD37_36_ALPHABET,
  residentIdCheckChar,
  USCC_ALPHABET,
  validateCreditCode,
  validateMod37_36,
  validateResidentId,
} from '../../../domain/check-digits';
import { InvalidValueError } from '../../../domain/result';

/** Every string that differs from `s` in exactly one position, over `alphabet`. */
function singleSubstitutions(s: string, alphabet: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length; i++) {
    for (const c of alphabet) if (c !== s[i]) out.push(s.slice(0, i) + c + s.slice(i + 1));
  }
  return out;
}

describe('resident ID number (GB 11643-1999)', () => {
  it('accepts the examples printed in the standard', () => {
    // Both appear in GB 11643 itself; the second has a 19th-century birth date.
    assert.equal(isValidResidentId('11010519491231002X'), true);
    assert.equal(isValidResidentId('440524188001010014'), true);
  });

  it('computes the check character from weights 7,9,10,5,8,4,2,1,6,3,… mod 11', () => {
    assert.equal(residentIdCheckChar('11010519491231002'), 'X');
    assert.equal(residentIdCheckChar('44052418800101001'), '4');
    assert.equal(residentIdCheckChar('33010619900307123'), '6');
    assert.throws(() => residentIdCheckChar('1101051949123100'), InvalidValueError);
    assert.throws(() => residentIdCheckChar('1101051949123100A'), InvalidValueError);
  });

  it('reads region, birth date, sequence and sex out of a valid number', () => {
    assert.deepEqual(validateResidentId('11010519491231002X'), {
      ok: true,
      value: { id: '11010519491231002X', region: '110105', birthDate: '1949-12-31', sequence: '002', sex: 'female' },
    });
    const man = validateResidentId('440524188001010014');
    assert.ok(man.ok);
    assert.equal(man.value.sex, 'male');
  });

  it('accepts a lower-case x and normalises it to X, so one person has one key', () => {
    assert.deepEqual(validateResidentId('11010519491231002x'), validateResidentId('11010519491231002X'));
  });

  it('accepts 29 February in a leap year only', () => {
    assert.equal(isValidResidentId('11010120000229123X'), true); // 2000 is a leap year (divisible by 400)
    const notLeap = '11010119000229123';
    assert.deepEqual(validateResidentId(notLeap + residentIdCheckChar(notLeap)), {
      ok: false,
      reason: 'birth date 19000229 is not a real date',
    });
  });

  it('names what is wrong', () => {
    const cases: [unknown, string][] = [
      [11010519491231002, 'must be a string'],
      ['11010519491231002', 'must be 18 characters, got 17'],
      ['11010519491231002X ', 'must be 18 characters, got 19'],
      ['1101051949123100AX', 'character 17 must be a digit'],
      ['11010519491231002Y', 'last character must be a digit or X'],
      ['01010519491231002X', 'region code 010105 is not valid: region codes do not start with 0'],
      ['110105194913310025', 'birth date 19491331 is not a real date'],
      ['110105194902300025', 'birth date 19490230 is not a real date'],
      ['110105179912310025', 'birth year 1799 is before 1800'],
      ['110105194912310021', 'check digit is wrong'],
      ['440524188001010015', 'check digit is wrong'],
    ];
    for (const [input, reason] of cases)
      assert.deepEqual(validateResidentId(input), { ok: false, reason }, String(input));
  });

  it('catches every single mistyped digit', () => {
    for (const typo of singleSubstitutions('11010519491231002X', '0123456789X')) {
      assert.equal(isValidResidentId(typo), false, typo);
    }
  });
});

describe('unified social credit code (GB 32100-2015)', () => {
  it('accepts real codes, including the two in the published identifier example', () => {
    for (const code of ['91350100M000100Y43', '11100000000013338W', '11430000006122244L']) {
      assert.equal(isValidCreditCode(code), true, code);
    }
  });

  it('computes check = 31 − (weighted sum mod 31), with 31 written as 0', () => {
    assert.equal(creditCodeCheckChar('91350100M000100Y4'), '3');
    assert.equal(creditCodeCheckChar('11100000000013338'), 'W');
    // Weighted sum 2201 = 71 × 31, so 31 − 0 = 31, which is written 0.
    assert.equal(creditCodeCheckChar('91330106MA2B3C4DB'), '0');
    assert.equal(isValidCreditCode('91330106MA2B3C4DB0'), true);
    assert.throws(() => creditCodeCheckChar('91350100M000100Y'), InvalidValueError);
    assert.throws(() => creditCodeCheckChar('91350100M000100I4'), InvalidValueError);
  });

  it('reads authority, kind, region and organisation code', () => {
    assert.deepEqual(validateCreditCode('91350100M000100Y43'), {
      ok: true,
      value: {
        code: '91350100M000100Y43',
        registrationAuthority: '9',
        kind: '1',
        region: '350100',
        organizationCode: 'M000100Y4',
      },
    });
  });

  it('accepts lower case and answers with the printed upper-case form', () => {
    const v = validateCreditCode('91350100m000100y43');
    assert.ok(v.ok);
    assert.equal(v.value.code, '91350100M000100Y43');
  });

  it('refuses I, O, S, V and Z, naming the position', () => {
    assert.equal(USCC_ALPHABET.length, 31);
    for (const letter of 'IOSVZ') {
      assert.deepEqual(validateCreditCode(`91350100M000100${letter}43`), {
        ok: false,
        reason: `character 16 ('${letter}') is not allowed: use 0-9 and capital letters except I, O, S, V and Z`,
      });
    }
  });

  it('names what is wrong', () => {
    const cases: [unknown, string][] = [
      [null, 'must be a string'],
      ['91350100M000100Y4', 'must be 18 characters, got 17'],
      ['91-50100M000100Y43', "character 3 ('-') is not allowed: use 0-9 and capital letters except I, O, S, V and Z"],
      ['9135A100M000100Y43', 'region code (characters 3-8) must be 6 digits, got 35A100'],
      ['91350100M000100Y44', 'check character is wrong'],
    ];
    for (const [input, reason] of cases)
      assert.deepEqual(validateCreditCode(input), { ok: false, reason }, String(input));
  });

  it('catches every single mistyped character', () => {
    for (const typo of singleSubstitutions('91350100M000100Y43', USCC_ALPHABET)) {
      assert.equal(isValidCreditCode(typo), false, typo);
    }
  });
});

describe('ISO/IEC 7064 MOD 37,36', () => {
  it('agrees with check characters published by other implementations', () => {
    assert.equal(mod37_36CheckChar('A12425GABC1234002'), 'M'); // GRid example
    assert.equal(mod37_36CheckChar('104G7M'), '3');
    assert.equal(mod37_36CheckChar('12CD'), '5');
    // The body of the GB/T 36904 example in docs/standards.md, which ends in U.
    assert.equal(mod37_36CheckChar('11100000000013338W01111430000006122244L20230000403001'), 'U');
  });

  it('validates a body followed by its check character', () => {
    assert.deepEqual(validateMod37_36('A12425GABC1234002M'), { ok: true, value: 'A12425GABC1234002M' });
    assert.deepEqual(validateMod37_36('A12425GABC1234002N'), { ok: false, reason: 'check character is wrong' });
  });

  it('names what is wrong', () => {
    assert.deepEqual(validateMod37_36(42), { ok: false, reason: 'must be a string' });
    assert.deepEqual(validateMod37_36('M'), {
      ok: false,
      reason: 'must be at least 2 characters: a body and a check character',
    });
    assert.deepEqual(validateMod37_36('a12425GABC1234002M'), {
      ok: false,
      reason: "character 1 ('a') is not 0-9 or A-Z",
    });
    assert.deepEqual(validateMod37_36('A1242-5GABC1234002M'), {
      ok: false,
      reason: "character 6 ('-') is not 0-9 or A-Z",
    });
  });

  it('refuses to compute over an empty body or foreign characters', () => {
    assert.throws(() => mod37_36CheckChar(''), InvalidValueError);
    assert.throws(() => mod37_36CheckChar('ab'), /character 1 \('a'\) is not 0-9 or A-Z/);
  });

  it('uses the whole alphabet for check characters', () => {
    const seen = new Set<string>();
    for (let n = 0; n < 2000; n++) seen.add(mod37_36CheckChar(n.toString(36).toUpperCase()));
    assert.equal(seen.size, MOD37_36_ALPHABET.length);
  });

  it('catches every single substitution and every adjacent swap in the example identifier', () => {
    const good = '11100000000013338W01111430000006122244L20230000403001U';
    for (const typo of singleSubstitutions(good, MOD37_36_ALPHABET))
      assert.equal(validateMod37_36(typo).ok, false, typo);
    for (let i = 0; i + 1 < good.length; i++) {
      if (good[i] === good[i + 1]) continue;
      const swapped = good.slice(0, i) + good[i + 1] + good[i] + good.slice(i + 2);
      assert.equal(validateMod37_36(swapped).ok, false, swapped);
    }
  });
});
