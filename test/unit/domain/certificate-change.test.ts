import assert from 'node:assert/strict';
import {
  chainForKind,
  changedFields,
  checkReplaceable,
  mergeFace,
  supersedableStatuses,
  suspensionEndsAt,
  validityFor,
} from '../../../domain/certificate-change';

describe('domain/certificate-change: change, renewal, reissue, suspension', () => {
  const old = { number: 'BL-1', typeCode: 'BL', department: 'market', status: 'valid', validUntil: '2031-03-14' };

  it('renews from the day after the old end date, for the whole term; other kinds start on the issue day', () => {
    const term = { kind: 'term', months: 60 } as const;
    assert.deepEqual(validityFor(term, '2026-12-02', { validUntil: '2031-03-14' }), {
      validFrom: '2031-03-15',
      validUntil: '2036-03-14',
    });
    assert.deepEqual(validityFor(term, '2026-12-02'), { validFrom: '2026-12-02', validUntil: '2031-12-01' });
    // The end of February in a leap year carries into March the day after.
    assert.equal(validityFor(term, '2026-12-02', { validUntil: '2028-02-29' }).validFrom, '2028-03-01');
  });

  it('replaces only a valid certificate of the same type; renewal needs an end date', () => {
    assert.deepEqual(checkReplaceable('change', 'BL', old), []);
    assert.deepEqual(
      checkReplaceable('change', 'BL', { ...old, status: 'superseded' }).map((p) => p.kind),
      ['conflict'],
    );
    assert.deepEqual(
      checkReplaceable('change', 'FBP', old).map((p) => [p.field, p.kind]),
      [['replaces', 'invalid']],
    );
    assert.deepEqual(
      checkReplaceable('renewal', 'BL', { ...old, validUntil: null }).map((p) => p.kind),
      ['invalid'],
    );
    assert.deepEqual(checkReplaceable('reissue', 'BL', { ...old, validUntil: null }), []);
    assert.deepEqual(supersedableStatuses('renewal'), ['valid', 'expired']);
    assert.deepEqual(supersedableStatuses('change'), ['valid']);
  });

  it('merges the changed fields over the old face, dropping keys the version no longer has, and names what changed', () => {
    const face = mergeFace(['a', 'b', 'c'], { a: 1, b: [1, 2], gone: 'x' }, { c: 'new', a: 1 });
    assert.deepEqual(face, { a: 1, b: [1, 2], c: 'new' });
    assert.deepEqual(changedFields(['a', 'b', 'c'], { a: 1, b: [1, 2] }, face), ['c']);
    assert.deepEqual(changedFields(['a', 'b'], { a: 1, b: [1, 2] }, { a: 1, b: [2, 1] }), ['b']);
  });

  it("runs the kind's own chain when configured, else the type's", () => {
    const review = { key: 'r', name: '审核', role: 'reviewer' as const };
    const seal = { key: 's', name: '签章', role: 'sealing-officer' as const };
    const type = { approvalChain: [review, seal], chainsByKind: { reissue: [seal] } };
    assert.deepEqual(chainForKind('reissue', type), [seal]);
    assert.deepEqual(chainForKind('change', type), [review, seal]);
    assert.deepEqual(chainForKind('new', type), [review, seal]);
  });

  it('ends a suspension at midnight after its last day, China Standard Time', () => {
    assert.equal(suspensionEndsAt('2026-12-31'), '2026-12-31T16:00:00.000Z');
  });
});
