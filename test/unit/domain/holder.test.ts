import assert from 'node:assert/strict';
import { type z } from 'zod';
import {
  anyHolderIdSchema,
  HOLDER_CODE_TYPES,
  holderCodeType,
  holderIdOf,
  holderIdSchema,
  holderKindFromCodeType,
  holderSchema,
  maskHolderId,
  parseAnyHolderId,
  parseHolderId,
} from '../../../domain/holder';
import { InvalidValueError } from '../../../domain/result';

const issues = (schema: z.ZodType, input: unknown) =>
  schema.safeParse(input).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);

describe('HolderId', () => {
  it('normalises a resident ID number once: trimmed, upper-case X', () => {
    assert.deepEqual(parseHolderId('person', ' 11010519491231002x\t'), { ok: true, value: '11010519491231002X' });
    assert.deepEqual(parseHolderId('person', '440524188001010014'), { ok: true, value: '440524188001010014' });
  });

  it('normalises a unified social credit code once: trimmed, upper-case', () => {
    assert.deepEqual(parseHolderId('entity', '  91350100m000100y43 '), { ok: true, value: '91350100M000100Y43' });
  });

  it('names the kind of ID and what is wrong with a resident ID number', () => {
    const cases: [unknown, string][] = [
      [11010519491231002, 'must be a string'],
      [undefined, 'must be a string'],
      ['', 'must be 18 characters, got 0'],
      ['11010519491231002', 'must be 18 characters, got 17'],
      ['1101051949123100AX', 'character 17 must be a digit'],
      ['91350100M000100Y43', 'character 9 must be a digit'],
      ['11010519491231002Y', 'last character must be a digit or X'],
      ['01010519491231002X', 'region code 010105 is not valid: region codes do not start with 0'],
      ['110105194902300025', 'birth date 19490230 is not a real date'],
      ['110105179912310025', 'birth year 1799 is before 1800'],
      ['110105194912310021', 'check digit is wrong'],
    ];
    for (const [input, reason] of cases) {
      const expected = { ok: false, reason: `resident ID number ${reason}` };
      assert.deepEqual(parseHolderId('person', input), expected, String(input));
    }
  });

  it('names the kind of ID and what is wrong with a unified social credit code', () => {
    const allowed = 'use 0-9 and capital letters except I, O, S, V and Z';
    const cases: [unknown, string][] = [
      [null, 'must be a string'],
      ['91350100M000100Y4', 'must be 18 characters, got 17'],
      ['91-50100M000100Y43', `character 3 ('-') is not allowed: ${allowed}`],
      ['9135A100M000100Y43', 'region code (characters 3-8) must be 6 digits, got 35A100'],
      ['91350100M000100Y44', 'check character is wrong'],
      ['11010519491231002X', 'check character is wrong'],
    ];
    for (const [input, reason] of cases) {
      const expected = { ok: false, reason: `unified social credit code ${reason}` };
      assert.deepEqual(parseHolderId('entity', input), expected, String(input));
    }
  });

  it('without a kind, takes an ID valid as either, in the same one spelling', () => {
    assert.deepEqual(parseAnyHolderId('11010519491231002x'), { ok: true, value: '11010519491231002X' });
    assert.deepEqual(parseAnyHolderId(' 91350100m000100y43'), { ok: true, value: '91350100M000100Y43' });
  });

  it('without a kind, says what is wrong as either kind, once when both say the same', () => {
    assert.deepEqual(parseAnyHolderId('E12345678'), {
      ok: false,
      reason: 'resident ID number or unified social credit code must be 18 characters, got 9',
    });
    assert.deepEqual(parseAnyHolderId(7), {
      ok: false,
      reason: 'resident ID number or unified social credit code must be a string',
    });
    assert.deepEqual(parseAnyHolderId('110105194912310021'), {
      ok: false,
      reason:
        'neither a resident ID number (check digit is wrong) ' +
        'nor a unified social credit code (check character is wrong)',
    });
  });

  it('holderIdOf is for IDs that are ours already: a bad one throws', () => {
    assert.equal(holderIdOf('person', '11010519491231002x'), '11010519491231002X');
    assert.throws(
      () => holderIdOf('entity', '91350100M000100Y44'),
      (e: unknown) =>
        e instanceof InvalidValueError &&
        e.message === 'Invalid holder ID: unified social credit code check character is wrong',
    );
  });

  it('gives routes one schema per kind, with the same messages', () => {
    assert.equal(holderIdSchema('person').parse(' 11010519491231002x'), '11010519491231002X');
    assert.deepEqual(issues(holderIdSchema('person'), '110105194912310021'), [
      ': resident ID number check digit is wrong',
    ]);
    assert.deepEqual(issues(holderIdSchema('entity'), 91350100), [': unified social credit code must be a string']);
    assert.equal(anyHolderIdSchema.parse('91350100m000100y43'), '91350100M000100Y43');
    assert.deepEqual(issues(anyHolderIdSchema, "1' OR 1=1"), [
      ': resident ID number or unified social credit code must be 18 characters, got 9',
    ]);
  });
});

describe('holder (持证主体)', () => {
  it('is a person keyed by resident ID number, stored with an upper-case X', () => {
    assert.deepEqual(holderSchema.parse({ kind: 'person', id: '11010519491231002x', name: ' 张三 ' }), {
      kind: 'person',
      id: '11010519491231002X',
      name: '张三',
    });
  });

  it('is an entity keyed by unified social credit code, stored upper-case', () => {
    assert.deepEqual(holderSchema.parse({ kind: 'entity', id: '91350100m000100y43', name: '福建某某有限公司' }), {
      kind: 'entity',
      id: '91350100M000100Y43',
      name: '福建某某有限公司',
    });
  });

  it('says what is wrong with the ID, for the kind of holder given', () => {
    assert.deepEqual(issues(holderSchema, { kind: 'person', id: '110105194912310021', name: '张三' }), [
      'id: resident ID number check digit is wrong',
    ]);
    // A credit code is not a resident ID, and the other way round.
    assert.deepEqual(issues(holderSchema, { kind: 'person', id: '91350100M000100Y43', name: '张三' }), [
      'id: resident ID number character 9 must be a digit',
    ]);
    assert.deepEqual(issues(holderSchema, { kind: 'entity', id: '11010519491231002X', name: '某公司' }), [
      'id: unified social credit code check character is wrong',
    ]);
    assert.deepEqual(issues(holderSchema, { kind: 'entity', id: 91350100, name: '某公司' }), [
      'id: unified social credit code must be a string',
    ]);
  });

  it('needs a known kind, a name and nothing else', () => {
    const id = '11010519491231002X';
    const badKind = ["kind: kind must be 'person' or 'entity'"];
    assert.deepEqual(issues(holderSchema, { kind: 'robot', id: 'x', name: 'y' }), badKind);
    assert.deepEqual(issues(holderSchema, { id, name: '张三' }), badKind);
    assert.deepEqual(issues(holderSchema, { kind: 'person', id, name: '   ' }), ['name: name is required']);
    assert.deepEqual(issues(holderSchema, { kind: 'person', id, name: '张'.repeat(201) }), [
      'name: name must be at most 200 characters',
    ]);
    assert.deepEqual(issues(holderSchema, { kind: 'person', id, name: '张三', phone: '1' }), [
      ': Unrecognized key: "phone"',
    ]);
  });

  it('maps kinds to the holder code types of the sharing interfaces', () => {
    assert.equal(holderCodeType('person'), '111');
    assert.equal(holderCodeType('entity'), '001');
    assert.deepEqual(HOLDER_CODE_TYPES, { person: '111', entity: '001' });
    assert.equal(holderKindFromCodeType('111'), 'person');
    assert.equal(holderKindFromCodeType('001'), 'entity');
    assert.equal(holderKindFromCodeType('1'), undefined);
    assert.equal(holderKindFromCodeType('414'), undefined);
  });
});

describe('maskHolderId', () => {
  it('keeps the first 6 and last 4 characters of an 18-character ID, hiding the birth date', () => {
    assert.equal(maskHolderId('33010619900304123X'), '330106********123X');
    assert.equal(maskHolderId('91350100M000100Y43'), '913501********0Y43');
  });

  it('masks the normalised ID, so both spellings mask alike', () => {
    assert.equal(maskHolderId(holderIdOf('person', ' 11010519491231002x')), '110105********002X');
  });

  it('keeps the same proportions for other lengths, and never shows a short ID whole', () => {
    assert.equal(maskHolderId('E12345678'), 'E12****78');
    assert.equal(maskHolderId('ABCDEFGH'), 'AB****GH');
    assert.equal(maskHolderId('ABC'), 'A**');
    assert.equal(maskHolderId('AB'), '**');
    assert.equal(maskHolderId(''), '');
    assert.equal(maskHolderId('1'.repeat(30)), '111111' + '*'.repeat(20) + '1111');
  });
});
