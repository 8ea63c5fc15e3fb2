import assert from 'node:assert/strict';
import { z } from 'zod';
import {
  DEFAULT_TEXT_MAX_LENGTH,
  faceDataSchema,
  faceFieldListSchema,
  faceFieldSchema,
  MAX_FACE_IMAGE_BYTES,
  validateFaceData,
  type FaceField,
} from '../../../domain/face-fields';

// A business licence (营业执照), roughly as a market-regulation department would configure it.
const FIELDS: FaceField[] = [
  { key: 'creditCode', label: '统一社会信用代码', type: 'creditCode', required: true, catalog: true },
  { key: 'name', label: '名称', type: 'text', required: true, maxLength: 100, catalog: true },
  {
    key: 'entityType',
    label: '类型',
    type: 'enum',
    required: true,
    options: ['有限责任公司', '股份有限公司', '个人独资企业'],
  },
  { key: 'legalRepresentative', label: '法定代表人', type: 'text', required: true, minLength: 2, maxLength: 50 },
  { key: 'representativeId', label: '法定代表人身份证号码', type: 'idNumber', required: false },
  { key: 'registeredCapital', label: '注册资本（万元）', type: 'number', required: true, min: 0 },
  { key: 'establishedOn', label: '成立日期', type: 'date', required: true },
  { key: 'postcode', label: '邮政编码', type: 'text', required: false, pattern: '\\d{6}' },
  { key: 'photo', label: '照片', type: 'image', required: false },
  { key: 'copyNo', label: '副本编号', type: 'text', required: false, duplicate: true },
];

const GOOD = {
  creditCode: '91330106MA2B3C4DB0',
  name: '杭州某某科技有限公司',
  entityType: '有限责任公司',
  legalRepresentative: '张三',
  registeredCapital: 500,
  establishedOn: '2024-02-29',
};

const PNG_1X1 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0xff, 0xd9]).toString(
  'base64',
);
const GIF = Buffer.from('GIF89a\x01\x00\x01\x00', 'latin1').toString('base64');

/** The errors for `data`, as { field: message }. */
function errorsOf(data: unknown, fields: FaceField[] = FIELDS): Record<string, string> {
  const r = validateFaceData(fields, data);
  assert.equal(r.ok, false, 'expected face data to be rejected');
  return r.ok ? {} : Object.fromEntries(r.errors.map((e) => [e.field, e.message]));
}

describe('face field definitions', () => {
  it('accept a business licence configuration', () => {
    assert.equal(faceFieldListSchema.safeParse(FIELDS).success, true);
  });

  it('need options for an enum, and options only there', () => {
    const issues = (field: unknown) =>
      faceFieldSchema.safeParse(field).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    assert.deepEqual(issues({ key: 'kind', label: '类型', type: 'enum', required: true }), [
      'options: enum fields need a list of options',
    ]);
    assert.deepEqual(issues({ key: 'kind', label: '类型', type: 'enum', required: true, options: ['A', 'A'] }), [
      'options: options must not repeat',
    ]);
    assert.deepEqual(issues({ key: 'kind', label: '类型', type: 'text', required: true, options: ['A'] }), [
      'options: options applies only to enum fields',
    ]);
  });

  it('keep length and pattern rules to text and bounds to numbers, in a sensible order', () => {
    const issues = (extra: object, type = 'text') =>
      faceFieldSchema
        .safeParse({ key: 'f', label: '字段', type, required: false, ...extra })
        .error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    assert.deepEqual(issues({ maxLength: 10 }, 'number'), ['maxLength: maxLength applies only to text fields']);
    assert.deepEqual(issues({ pattern: 'x' }, 'date'), ['pattern: pattern applies only to text fields']);
    assert.deepEqual(issues({ min: 1 }, 'text'), ['min: min applies only to number fields']);
    assert.deepEqual(issues({ minLength: 5, maxLength: 4 }), ['minLength: minLength must not exceed maxLength']);
    assert.deepEqual(issues({ min: 5, max: 4 }, 'number'), ['min: min must not exceed max']);
    assert.deepEqual(issues({ pattern: '([a-z' }), ['pattern: pattern is not a valid regular expression']);
    assert.equal(issues({ maxLength: 0 })?.[0]?.startsWith('maxLength: '), true);
  });

  it('need an identifier key, a label, a known type and nothing else', () => {
    const paths = (field: object) => faceFieldSchema.safeParse(field).error?.issues.map((i) => i.path.join('.'));
    const base = { key: 'name', label: '名称', type: 'text', required: true };
    for (const key of ['1name', '_name', 'na-me', 'na me', '名称', ''])
      assert.deepEqual(paths({ ...base, key }), ['key'], key);
    assert.deepEqual(paths({ ...base, label: '  ' }), ['label']);
    assert.deepEqual(paths({ ...base, type: 'string' }), ['type']);
    assert.deepEqual(paths({ ...base, required: 'yes' }), ['required']);
    assert.deepEqual(paths({ ...base, colour: 'red' }), ['']);
    assert.equal(faceFieldSchema.safeParse({ ...base, key: 'name_2' }).success, true);
  });

  it('must not repeat a key, even in another case', () => {
    const r = faceFieldListSchema.safeParse([
      { key: 'name', label: '名称', type: 'text', required: true },
      { key: 'Name', label: '名称2', type: 'text', required: true },
    ]);
    assert.deepEqual(
      r.error?.issues.map((i) => [i.path, i.message]),
      [[[1, 'key'], "key 'Name' repeats 'name'"]],
    );
    assert.equal(faceFieldListSchema.safeParse([]).success, false);
  });
});

describe('face data', () => {
  it('passes good data through, normalised', () => {
    const r = validateFaceData(FIELDS, {
      ...GOOD,
      creditCode: '91330106ma2b3c4db0',
      name: '  杭州某某科技有限公司 ',
      representativeId: '11010519491231002x',
      postcode: '310012',
      photo: `data:image/png;base64,${PNG_1X1}`,
    });
    assert.deepEqual(r, {
      ok: true,
      data: {
        ...GOOD,
        representativeId: '11010519491231002X',
        postcode: '310012',
        photo: `data:image/png;base64,${PNG_1X1}`,
      },
    });
  });

  it('leaves out optional fields sent empty or null, and requires the required ones', () => {
    assert.deepEqual(validateFaceData(FIELDS, { ...GOOD, postcode: '', photo: null, copyNo: '   ' }), {
      ok: true,
      data: GOOD,
    });
    assert.deepEqual(errorsOf({ ...GOOD, name: '', legalRepresentative: null, registeredCapital: undefined }), {
      name: 'is required',
      legalRepresentative: 'is required',
      registeredCapital: 'is required',
    });
  });

  it('names every bad field by key, with its Chinese label and what is wrong', () => {
    const r = validateFaceData(FIELDS, {
      creditCode: '91330106MA2B3C4DB1',
      name: '某'.repeat(101),
      entityType: '合伙企业',
      legalRepresentative: '张',
      representativeId: '110105194912310021',
      registeredCapital: '500',
      establishedOn: '2023-02-29',
      postcode: '31001',
    });
    assert.equal(r.ok, false);
    assert.deepEqual(r.ok ? [] : r.errors, [
      {
        field: 'creditCode',
        label: '统一社会信用代码',
        message: 'unified social credit code check character is wrong',
      },
      { field: 'name', label: '名称', message: 'must be at most 100 characters, got 101' },
      { field: 'entityType', label: '类型', message: 'must be one of: 有限责任公司, 股份有限公司, 个人独资企业' },
      { field: 'legalRepresentative', label: '法定代表人', message: 'must be at least 2 characters' },
      { field: 'representativeId', label: '法定代表人身份证号码', message: 'resident ID number check digit is wrong' },
      { field: 'registeredCapital', label: '注册资本（万元）', message: 'must be a finite number' },
      { field: 'establishedOn', label: '成立日期', message: '2023-02-29 is not a real date' },
      { field: 'postcode', label: '邮政编码', message: 'must match the pattern \\d{6}' },
    ]);
  });

  it('rejects unknown keys one by one, and data that is not an object', () => {
    assert.deepEqual(validateFaceData(FIELDS, { ...GOOD, nmae: 'x', extra: 1 }), {
      ok: false,
      errors: [
        { field: 'nmae', message: 'is not a field of this certificate type' },
        { field: 'extra', message: 'is not a field of this certificate type' },
      ],
    });
    for (const data of [null, 'x', [GOOD]]) {
      assert.deepEqual(validateFaceData(FIELDS, data), {
        ok: false,
        errors: [{ field: '', message: 'face data must be a JSON object' }],
      });
    }
    // Keys that happen to name Object.prototype members are still unknown fields.
    assert.deepEqual(errorsOf(JSON.parse(JSON.stringify({ ...GOOD, constructor: 'x' }))), {
      constructor: 'is not a field of this certificate type',
    });
  });

  it('checks dates are written YYYY-MM-DD and numbers are finite and in range', () => {
    for (const date of ['2024/02/29', '20240229', '2024-2-29', '2024-02-29T00:00:00Z']) {
      assert.deepEqual(errorsOf({ ...GOOD, establishedOn: date }), {
        establishedOn: 'must be a date written YYYY-MM-DD',
      });
    }
    assert.deepEqual(errorsOf({ ...GOOD, registeredCapital: -1 }), { registeredCapital: 'must be at least 0' });
    assert.deepEqual(errorsOf({ ...GOOD, registeredCapital: Infinity }), {
      registeredCapital: 'must be a finite number',
    });
    assert.deepEqual(errorsOf({ ...GOOD, name: 42 }), { name: 'must be a string' });
  });

  it('counts text length in characters, so an emoji or a rare 𠮷 counts once', () => {
    const fields: FaceField[] = [{ key: 'name', label: '姓名', type: 'text', required: true, maxLength: 2 }];
    assert.equal(validateFaceData(fields, { name: '𠮷田' }).ok, true);
    assert.deepEqual(errorsOf({ name: '𠮷田𠮷' }, fields), { name: 'must be at most 2 characters, got 3' });
    const unbounded: FaceField[] = [{ key: 'scope', label: '经营范围', type: 'text', required: true }];
    assert.equal(validateFaceData(unbounded, { scope: '技'.repeat(DEFAULT_TEXT_MAX_LENGTH) }).ok, true);
    assert.equal(validateFaceData(unbounded, { scope: '技'.repeat(DEFAULT_TEXT_MAX_LENGTH + 1) }).ok, false);
  });

  it('matches a pattern against the whole value', () => {
    assert.deepEqual(errorsOf({ ...GOOD, postcode: '3100123' }), { postcode: 'must match the pattern \\d{6}' });
    assert.deepEqual(errorsOf({ ...GOOD, postcode: 'a310012' }), { postcode: 'must match the pattern \\d{6}' });
  });

  it('takes PNG or JPEG images as data URLs or bare base64, up to a size cap', () => {
    const ok = (photo: string) =>
      assert.equal(validateFaceData(FIELDS, { ...GOOD, photo }).ok, true, photo.slice(0, 40));
    ok(PNG_1X1);
    ok(`data:image/png;base64,${PNG_1X1}`);
    ok(JPEG);
    ok(`data:image/jpeg;base64,${JPEG}`);
    const photoError = (photo: string) => errorsOf({ ...GOOD, photo }).photo;
    assert.equal(photoError(`data:image/png;base64,${JPEG}`), 'is labelled image/png but holds image/jpeg data');
    assert.equal(photoError(`data:image/gif;base64,${GIF}`), 'must be a PNG or JPEG image (image/png or image/jpeg)');
    assert.equal(photoError(GIF), 'must be a PNG or JPEG image');
    assert.equal(photoError(`data:image/png,${PNG_1X1}`), 'must be a base64 data URL, e.g. data:image/png;base64,...');
    assert.equal(photoError('iVBORw0KGgo!!!'), 'must be base64-encoded image data');
    assert.equal(photoError(PNG_1X1.slice(0, -1)), 'must be base64-encoded image data');
    const big = Buffer.concat([Buffer.from(PNG_1X1, 'base64'), Buffer.alloc(MAX_FACE_IMAGE_BYTES)]).toString('base64');
    assert.equal(photoError(big), 'image must be at most 1024 KiB, got 1025 KiB');
    const justFits = Buffer.concat([Buffer.from(PNG_1X1, 'base64'), Buffer.alloc(MAX_FACE_IMAGE_BYTES - 70)]);
    assert.equal(justFits.length, MAX_FACE_IMAGE_BYTES);
    ok(justFits.toString('base64'));
  });

  it('is a zod schema whose issues are keyed by field, for use inside larger schemas', () => {
    const request = z.object({ typeCode: z.string(), face: faceDataSchema(FIELDS) });
    const r = request.safeParse({ typeCode: 'BL', face: { ...GOOD, establishedOn: '2024-13-01', oops: true } });
    assert.deepEqual(
      r.error?.issues.map((i) => i.path),
      [
        ['face', 'establishedOn'],
        ['face', 'oops'],
      ],
    );
  });

  it('refuses to build a schema from bad definitions: that is a configuration bug', () => {
    assert.throws(() => faceDataSchema([{ key: 'k', label: '类型', type: 'enum', required: true }]), z.ZodError);
  });
});

describe('face data: list fields', () => {
  const fields = [
    { key: 'businessItems', label: '经营项目', type: 'list' as const, required: true, maxItems: 3 },
    { key: 'notes', label: '备注', type: 'list' as const, required: false },
  ];

  it('accepts a list of texts, trimmed', () => {
    const r = validateFaceData(fields, { businessItems: [' 预包装食品销售 ', '热食类食品制售'] });
    assert.deepEqual(r, { ok: true, data: { businessItems: ['预包装食品销售', '热食类食品制售'] } });
  });

  it('names the field and the item that is wrong', () => {
    const r = validateFaceData(fields, { businessItems: ['a', ''], notes: 'not a list' });
    assert.equal(r.ok, false);
    assert.deepEqual(!r.ok && r.errors.map((e) => [e.field, e.message]), [
      ['businessItems', 'item 2 must be a non-empty text of at most 500 characters'],
      ['notes', 'must be a list of texts'],
    ]);
  });

  it('treats an empty list as missing, and caps the number of items', () => {
    const empty = validateFaceData(fields, { businessItems: [] });
    assert.deepEqual(!empty.ok && empty.errors.map((e) => e.message), ['is required']);
    const many = validateFaceData(fields, { businessItems: ['a', 'b', 'c', 'd'] });
    assert.deepEqual(!many.ok && many.errors.map((e) => e.message), ['must have at most 3 items, got 4']);
  });

  it('allows maxItems only on list fields', () => {
    assert.equal(
      faceFieldSchema.safeParse({ key: 'x', label: 'X', type: 'text', required: true, maxItems: 2 }).success,
      false,
    );
  });
});
