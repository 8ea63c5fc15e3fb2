import assert from 'node:assert/strict';
import {
  certificateTypeDefinitionSchema,
  checkTemplateTags,
  sampleFaceData,
  typeCodeSchema,
  validityDates,
  validityRuleSchema,
} from '../../../domain/certificate-type';
import { faceDataSchema, type FaceField } from '../../../domain/face-fields';

const FIELDS: FaceField[] = [
  { key: 'entityName', label: '名称', type: 'text', required: true, maxLength: 4 },
  { key: 'legalRep', label: '法定代表人', type: 'idNumber', required: true },
  { key: 'kind', label: '类型', type: 'enum', required: true, options: ['有限责任公司', '个体工商户'] },
  { key: 'items', label: '经营项目', type: 'list', required: false },
  { key: 'photo', label: '照片', type: 'image', required: false },
  { key: 'copyNote', label: '副本说明', type: 'text', required: true, duplicate: true },
];

const definition = (over: Record<string, unknown> = {}) => ({
  name: '营业执照',
  holderKind: 'entity',
  validity: { kind: 'term', months: 12 },
  faceFields: [{ key: 'entityName', label: '名称', type: 'text', required: true }],
  ...over,
});

const issuePaths = (r: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }) =>
  r.error?.issues.map((i) => i.path.join('.')) ?? [];

describe('certificate type: code', () => {
  it('is 2 to 8 upper-case letters and digits, because it is printed in certificate numbers', () => {
    for (const ok of ['BL', 'FBP', 'A1B2C3D4']) assert.ok(typeCodeSchema.safeParse(ok).success, ok);
    for (const bad of ['B', 'bl', 'ABCDEFGHI', 'B-L', 'B L', '营业']) {
      assert.ok(!typeCodeSchema.safeParse(bad).success, bad);
    }
  });
});

describe('certificate type: validity', () => {
  it('a term runs to the day before the same date N months later', () => {
    assert.deepEqual(validityDates({ kind: 'term', months: 12 }, '2026-03-15'), {
      validFrom: '2026-03-15',
      validUntil: '2027-03-14',
    });
    assert.equal(validityDates({ kind: 'term', months: 60 }, '2026-01-01').validUntil, '2030-12-31');
  });

  it("a term that lands past the end of a shorter month ends on that month's last day minus one", () => {
    // 31 January + 1 month: February has no 31st, so the term ends the day before 28 February.
    assert.equal(validityDates({ kind: 'term', months: 1 }, '2026-01-31').validUntil, '2026-02-27');
    assert.equal(validityDates({ kind: 'term', months: 1 }, '2028-01-31').validUntil, '2028-02-28', 'leap year');
  });

  it('a term crosses year ends', () => {
    assert.equal(validityDates({ kind: 'term', months: 3 }, '2026-11-20').validUntil, '2027-02-19');
  });

  it('"until" ends on its fixed date and "permanent" never ends', () => {
    assert.deepEqual(validityDates({ kind: 'until', date: '2030-06-30' }, '2026-01-02'), {
      validFrom: '2026-01-02',
      validUntil: '2030-06-30',
    });
    assert.deepEqual(validityDates({ kind: 'permanent' }, '2026-01-02'), { validFrom: '2026-01-02', validUntil: null });
  });

  it('the rule is checked: whole months from 1 to 1200, real dates, nothing extra', () => {
    for (const ok of [{ kind: 'term', months: 1 }, { kind: 'until', date: '2028-02-29' }, { kind: 'permanent' }]) {
      assert.ok(validityRuleSchema.safeParse(ok).success, JSON.stringify(ok));
    }
    const bad = [
      { kind: 'term', months: 0 },
      { kind: 'term', months: 1.5 },
      { kind: 'term', months: 1201 },
      { kind: 'until', date: '2027-02-29' },
      { kind: 'until', date: '2027/01/01' },
      { kind: 'permanent', months: 12 },
      { kind: 'forever' },
    ];
    for (const b of bad) assert.ok(!validityRuleSchema.safeParse(b).success, JSON.stringify(b));
  });
});

describe('certificate type: definition schema', () => {
  it('accepts a minimal definition; no chain means auto-seal, no seal means the department default', () => {
    const r = certificateTypeDefinitionSchema.parse(definition());
    assert.deepEqual(r.approvalChain, []);
    assert.equal(r.sealId, null);
  });

  it('accepts a chain with deadlines and escalation', () => {
    const approvalChain = [
      { key: 'review', name: '审核', role: 'reviewer', deadlineHours: 48, escalate: true },
      { key: 'seal', name: '签章', role: 'sealing-officer' },
    ];
    assert.deepEqual(certificateTypeDefinitionSchema.parse(definition({ approvalChain })).approvalChain, approvalChain);
  });

  it('fillers fill; they never hold an approval step', () => {
    const r = certificateTypeDefinitionSchema.safeParse(
      definition({ approvalChain: [{ key: 'review', name: '审核', role: 'filler' }] }),
    );
    assert.deepEqual(issuePaths(r), ['approvalChain.0.role']);
  });

  it('a step key may not repeat, and the error names the second one', () => {
    const step = { key: 'review', name: '审核', role: 'reviewer' };
    const r = certificateTypeDefinitionSchema.safeParse(
      definition({ approvalChain: [step, { ...step, name: '复核' }] }),
    );
    assert.deepEqual(issuePaths(r), ['approvalChain.1.key']);
  });

  it('a face field may not take a name certflow fills in itself', () => {
    const faceFields = [
      { key: 'entityName', label: '名称', type: 'text', required: true },
      { key: 'certificateNumber', label: '编号', type: 'text', required: true },
    ];
    const r = certificateTypeDefinitionSchema.safeParse(definition({ faceFields }));
    assert.deepEqual(issuePaths(r), ['faceFields.1.key']);
  });

  it('unknown properties, a bad holder kind, a non-positive deadline and an 11-step chain are refused', () => {
    const step = (i: number) => ({ key: `s${i}`, name: `步骤${i}`, role: 'reviewer' });
    const bad: [Record<string, unknown>, string][] = [
      [{ colour: 'red' }, ''],
      [{ holderKind: 'robot' }, 'holderKind'],
      [{ approvalChain: [{ ...step(0), deadlineHours: 0 }] }, 'approvalChain.0.deadlineHours'],
      [{ approvalChain: Array.from({ length: 11 }, (_, i) => step(i)) }, 'approvalChain'],
    ];
    for (const [over, path] of bad) {
      const r = certificateTypeDefinitionSchema.safeParse(definition(over));
      assert.deepEqual(issuePaths(r), [path], JSON.stringify(over));
    }
  });
});

describe('certificate type: template tags', () => {
  const complete = {
    tags: ['entityName', 'legalRep', 'kind', 'certificateNumber', 'validUntil', 'items.name'],
    loops: ['items'],
    images: ['seal', 'qrCode', 'photo'],
  };

  it('a template using face fields, reserved tags, loops over lists and both images passes', () => {
    assert.deepEqual(checkTemplateTags(FIELDS, complete), []);
  });

  it('names each unknown tag, loop over a non-list and unknown image', () => {
    const problems = checkTemplateTags(FIELDS, {
      tags: [...complete.tags, 'nickname'],
      loops: ['items', 'kind'],
      images: [...complete.images, 'logo'],
    });
    assert.deepEqual(
      problems.map((p) => p.tag),
      ['nickname', 'kind', 'logo'],
    );
  });

  it('a required face field missing from the template is named; optional and 副本 fields may be left out', () => {
    const problems = checkTemplateTags(FIELDS, { ...complete, tags: complete.tags.filter((t) => t !== 'legalRep') });
    assert.deepEqual(
      problems.map((p) => p.tag),
      ['legalRep'],
    );
    assert.match(problems[0]!.message, /法定代表人/);
  });

  it('every template must place the seal and the QR code', () => {
    const problems = checkTemplateTags(FIELDS, { ...complete, images: ['photo'] });
    assert.deepEqual(
      problems.map((p) => p.tag),
      ['seal', 'qrCode'],
    );
  });
});

describe('certificate type: sample face data for previews', () => {
  it("fills every field with a value that passes the type's own face-data check", () => {
    const sample = sampleFaceData(FIELDS);
    assert.deepEqual(
      Object.keys(sample),
      FIELDS.map((f) => f.key),
    );
    assert.equal(sample.entityName, '名称（示', "cut to the field's maxLength");
    const checked = faceDataSchema(FIELDS).safeParse(sample);
    assert.ok(checked.success, JSON.stringify(checked.error?.issues));
  });
});
