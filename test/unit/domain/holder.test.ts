import assert from 'node:assert/strict';
import {
  HOLDER_CODE_TYPES,
  holderCodeType,
  holderKindFromCodeType,
  holderSchema,
  maskHolderId,
} from '../../../domain/holder';

const issues = (input: unknown) =>
  holderSchema.safeParse(input).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);

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
    assert.deepEqual(issues({ kind: 'person', id: '110105194912310021', name: '张三' }), [
      'id: resident ID number check digit is wrong',
    ]);
    // A credit code is not a resident ID, and the other way round.
    assert.deepEqual(issues({ kind: 'person', id: '91350100M000100Y43', name: '张三' }), [
      'id: resident ID number character 9 must be a digit',
    ]);
    assert.deepEqual(issues({ kind: 'entity', id: '11010519491231002X', name: '某公司' }), [
      'id: unified social credit code check character is wrong',
    ]);
    assert.deepEqual(issues({ kind: 'entity', id: 91350100, name: '某公司' }), ['id: id must be a string']);
  });

  it('needs a known kind, a name and nothing else', () => {
    assert.deepEqual(issues({ kind: 'robot', id: 'x', name: 'y' }), ["kind: kind must be 'person' or 'entity'"]);
    assert.deepEqual(issues({ id: '11010519491231002X', name: '张三' }), ["kind: kind must be 'person' or 'entity'"]);
    assert.deepEqual(issues({ kind: 'person', id: '11010519491231002X', name: '   ' }), ['name: name is required']);
    assert.deepEqual(issues({ kind: 'person', id: '11010519491231002X', name: '张'.repeat(201) }), [
      'name: name must be at most 200 characters',
    ]);
    assert.deepEqual(issues({ kind: 'person', id: '11010519491231002X', name: '张三', phone: '1' }), [
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

  it('keeps the same proportions for other lengths, and never shows a short ID whole', () => {
    assert.equal(maskHolderId('E12345678'), 'E12****78');
    assert.equal(maskHolderId('ABCDEFGH'), 'AB****GH');
    assert.equal(maskHolderId('ABC'), 'A**');
    assert.equal(maskHolderId('AB'), '**');
    assert.equal(maskHolderId(''), '');
    assert.equal(maskHolderId('1'.repeat(30)), '111111' + '*'.repeat(20) + '1111');
  });
});
