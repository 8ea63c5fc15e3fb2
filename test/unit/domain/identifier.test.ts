import assert from 'node:assert/strict';
import { mod37_36CheckChar } from '../../../domain/check-digits';
import {
  buildIdentifier,
  buildTypeCode,
  IDENTIFIER_ROOT,
  isValidIdentifier,
  parseIdentifier,
  validateTypeCode,
} from '../../../domain/identifier';
import { InvalidValueError } from '../../../domain/result';

// The example from docs/standards.md, seen in public implementations of GB/T 36904.
const EXAMPLE = '1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U';
const EXAMPLE_PARTS = {
  typeCode: '11100000000013338W011',
  issuerCode: '11430000006122244L',
  serial: '20230000403',
  version: 1,
};

describe('certificate identifier (GB/T 36904)', () => {
  it('parses the published example into its parts', () => {
    assert.deepEqual(parseIdentifier(EXAMPLE), {
      ok: true,
      value: {
        ...EXAMPLE_PARTS,
        identifier: EXAMPLE,
        definingAuthorityCode: '11100000000013338W',
        typeSequence: '011',
        check: 'U',
      },
    });
  });

  it('builds the published example from its parts', () => {
    assert.equal(buildIdentifier(EXAMPLE_PARTS), EXAMPLE);
  });

  it('checks the parts joined without dots, leaving the root OID out', () => {
    // With the root digits included the check would be 7; the example ends in U.
    assert.equal(mod37_36CheckChar('1215630052' + '11100000000013338W01111430000006122244L20230000403001'), '7');
    assert.deepEqual(parseIdentifier(EXAMPLE.slice(0, -1) + '7'), { ok: false, reason: 'check character is wrong' });
  });

  it('round-trips serials of 7 and 32 characters and any version up to 999', () => {
    for (const [serial, version] of [
      ['A000001', 1],
      ['ABCDEFGHIJKLMNOPQRSTUVWXYZ012345', 999],
      ['2026330106BL0000042', 12],
    ] as const) {
      const parts = { typeCode: '91350100M000100Y43007', issuerCode: '91330106MA2B3C4DB0', serial, version };
      const id = buildIdentifier(parts);
      assert.ok(id.startsWith(IDENTIFIER_ROOT + '.'));
      const parsed = parseIdentifier(id);
      assert.ok(parsed.ok, id);
      const { typeCode, issuerCode, serial: s, version: v } = parsed.value;
      assert.deepEqual({ typeCode, issuerCode, serial: s, version: v }, parts);
    }
    assert.match(buildIdentifier({ ...EXAMPLE_PARTS, version: 12 }), /\.012\.[0-9A-Z]$/);
  });

  it('accepts lower case and answers with the upper-case spelling', () => {
    const parsed = parseIdentifier(EXAMPLE.toLowerCase());
    assert.ok(parsed.ok);
    assert.equal(parsed.value.identifier, EXAMPLE);
  });

  it('builds a type code from the defining authority and a sequence', () => {
    assert.equal(buildTypeCode('11100000000013338W', 32), '11100000000013338W032');
    assert.throws(() => buildTypeCode('11100000000013338W', 0), /sequence must be an integer from 1 to 999/);
    assert.throws(() => buildTypeCode('11100000000013338W', 1000), InvalidValueError);
    assert.throws(() => buildTypeCode('11100000000013338X', 1), /defining authority code check character is wrong/);
  });

  it('validates a type code on its own', () => {
    assert.deepEqual(validateTypeCode('11100000000013338w032'), { ok: true, value: '11100000000013338W032' });
    assert.deepEqual(validateTypeCode('11100000000013338W32'), {
      ok: false,
      reason: 'type code must be 21 characters (a credit code and a 3-digit sequence), got 20',
    });
    assert.deepEqual(validateTypeCode('11100000000013338W03A'), {
      ok: false,
      reason: 'type code must end in a 3-digit sequence',
    });
  });

  it('names what is wrong with a bad identifier', () => {
    const swap = (i: number, part: string) => {
      const p = EXAMPLE.split('.');
      p[i] = part;
      return p.join('.');
    };
    const cases: [unknown, string][] = [
      [undefined, 'must be a string'],
      ['1.2.156.3005.1.11100000000013338W011.11430000006122244L.20230000403.001.U', 'must start with 1.2.156.3005.2.'],
      [
        EXAMPLE + '.X',
        'must have 5 dot-separated parts after the root: type code, issuer code, serial, version, check',
      ],
      [
        EXAMPLE.replace('.001.U', '.U'),
        'must have 5 dot-separated parts after the root: type code, issuer code, serial, version, check',
      ],
      [swap(5, '11100000000013338X011'), 'type code: defining authority code check character is wrong'],
      [swap(6, '11430000006122244'), 'issuer code must be 18 characters, got 17'],
      [
        swap(6, '1143000000612224IL'),
        "issuer code character 17 ('I') is not allowed: use 0-9 and capital letters except I, O, S, V and Z",
      ],
      [swap(7, '202300'), 'serial must be 7 to 32 characters of 0-9 and A-Z'],
      [swap(7, 'A'.repeat(33)), 'serial must be 7 to 32 characters of 0-9 and A-Z'],
      [swap(7, '2023-0000403'), 'serial must be 7 to 32 characters of 0-9 and A-Z'],
      [swap(8, '01'), "version must be 3 digits, got '01'"],
      [swap(8, '000'), 'version must be an integer from 1 to 999'],
      [swap(9, 'UU'), 'check must be one character, 0-9 or A-Z'],
      [swap(9, 'V'), 'check character is wrong'],
      // Two digits of the serial swapped: the check catches it.
      [swap(7, '20230000430'), 'check character is wrong'],
    ];
    for (const [input, reason] of cases) assert.deepEqual(parseIdentifier(input), { ok: false, reason }, String(input));
    assert.equal(isValidIdentifier(EXAMPLE), true);
    assert.equal(isValidIdentifier(swap(9, 'V')), false);
  });

  it('refuses to build from bad parts, naming the part', () => {
    assert.throws(
      () => buildIdentifier({ ...EXAMPLE_PARTS, serial: 'short' }),
      (err: unknown) => {
        assert.ok(err instanceof InvalidValueError);
        assert.equal(err.reason, 'serial must be 7 to 32 characters of 0-9 and A-Z');
        return true;
      },
    );
    assert.throws(() => buildIdentifier({ ...EXAMPLE_PARTS, version: 0 }), /version must be an integer from 1 to 999/);
    assert.throws(() => buildIdentifier({ ...EXAMPLE_PARTS, version: 1.5 }), /version must be an integer/);
    assert.throws(
      () => buildIdentifier({ ...EXAMPLE_PARTS, issuerCode: '11430000006122244M' }),
      /issuer code check character is wrong/,
    );
  });
});
