import assert from 'node:assert/strict';
import { faceFieldSchema, validateFaceData, type FaceField } from '../../../domain/face-fields';
import { PATTERN_VALUE_MAX_LENGTH, unsafePatternReason } from '../../../domain/safe-pattern';
import { DEMO_TYPES } from '../../../db/seed-demo';

describe('face-field patterns (ReDoS)', () => {
  it('refuses nested quantifiers, repeated alternatives, backreferences and lookarounds', () => {
    for (const p of [
      '(a+)+b',
      '(a*)*',
      '(\\d+)*x',
      '(a|ab)*c',
      '(?:x|y)+',
      '(a)\\1',
      '(?<n>a)\\k<n>',
      '(?=a)a',
      '(?!a)b',
      '(?<=a)b',
      '(?<!a)b',
      '([a-z]+\\s?)+$',
      '(\\w{2,})+',
      'a*b*c*d*',
    ]) {
      assert.ok(unsafePatternReason(p), p);
    }
  });

  it("accepts the usual shapes of identifiers, codes and the demo types' patterns", () => {
    const demo = DEMO_TYPES.flatMap((t) =>
      t.definition.faceFields.flatMap((f) => ('pattern' in f && f.pattern ? [f.pattern] : [])),
    );
    for (const p of [
      '\\d{6}',
      '[A-Z]{2}\\d{4,8}',
      '[\\u4e00-\\u9fa5]{2,20}',
      '(-\\d{4})?',
      '\\d+(\\.\\d{1,2})?',
      '[A-Z]+-\\d+',
      '(?:JY|SP)\\d{14}',
      '[^\\s]+',
      '\\p{Script=Han}+',
      'a{2}b?',
      ...demo,
    ]) {
      assert.equal(unsafePatternReason(p), undefined, p);
    }
  });

  it('a face field with a catastrophic pattern is refused, naming the pattern', () => {
    const r = faceFieldSchema.safeParse({
      key: 'code',
      label: '编码',
      type: 'text',
      required: true,
      pattern: '(a+)+b',
    });
    assert.equal(r.success, false);
    assert.deepEqual(
      r.error!.issues.map((i) => i.path.join('.')),
      ['pattern'],
    );
    assert.match(r.error!.issues[0]!.message, /nested quantifiers/);
  });

  it('caps patterned values, so a polynomial pattern stays fast on a long value', () => {
    const field: FaceField = { key: 'code', label: '编码', type: 'text', required: true, pattern: '\\w+\\d+x?' };
    const long = '1'.repeat(PATTERN_VALUE_MAX_LENGTH + 1);
    const started = process.hrtime.bigint();
    const r = validateFaceData([field], { code: long });
    assert.equal(r.ok, false);
    assert.match(JSON.stringify(r), /at most 256 characters/);
    const ok = validateFaceData([field], { code: `${'1'.repeat(PATTERN_VALUE_MAX_LENGTH - 1)}!` });
    assert.equal(ok.ok, false);
    assert.ok(Number(process.hrtime.bigint() - started) / 1e6 < 500, 'bounded time');
    const tooLong = faceFieldSchema.safeParse({ ...field, maxLength: 1000 });
    assert.deepEqual(
      tooLong.error?.issues.map((i) => i.path.join('.')),
      ['maxLength'],
    );
  });
});
