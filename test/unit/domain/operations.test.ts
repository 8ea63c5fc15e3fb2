import assert from 'node:assert/strict';
import {
  checkCancel,
  checkRetry,
  chinaTime,
  issuanceRunText,
  stateDetails,
  waitingDetails,
  withFix,
} from '../../../domain/operations';
import type { ApplicationState } from '../../../domain/issuance';

const state = (over: Partial<ApplicationState> = {}): ApplicationState => ({
  applicationId: 'a1',
  typeCode: 'BL',
  typeVersion: 1,
  department: 'market',
  mode: 'review',
  status: 'in-review',
  round: 2,
  revision: 1,
  filler: { type: 'user', id: '1', name: 'f' },
  chain: [],
  currentStep: null,
  approvers: [],
  history: [],
  certificateNumber: null,
  error: null,
  ...over,
});

describe('domain/operations: what operators read in the Temporal Web UI', () => {
  it('names a waiting step with role, department, due time in Beijing time and round', () => {
    const step = {
      index: 0,
      key: 'review',
      name: '审核',
      role: 'reviewer' as const,
      taskId: 7,
      dueAt: '2026-12-02T10:14:00.000Z',
      overdue: false,
      escalated: false,
    };
    assert.equal(
      waitingDetails(step, 'market', 2),
      '等待审核 · reviewer · market · due 2026-12-02 18:14 +08:00 · round 2',
    );
    assert.match(
      waitingDetails({ ...step, overdue: true, escalated: true }, 'market', 1),
      /OVERDUE, escalated to department-admin/,
    );
    assert.equal(waitingDetails({ ...step, dueAt: null }, 'market', 1), '等待审核 · reviewer · market · round 1');
    assert.equal(chinaTime('2026-12-31T16:30:00Z'), '2027-01-01 00:30 +08:00');
  });

  it('says the sealing stage, and for a failure the cause, the fix and the repair', () => {
    assert.equal(stateDetails(state({ status: 'sealing' }), 'converting'), 'sealing: converting');
    const failed = stateDetails(state({ status: 'failed', error: 'TemplateError: missing data for template tags: x' }));
    assert.match(
      failed,
      /^failed: TemplateError: missing data for template tags: x — fix the cause, then update `retry`/,
    );
    assert.match(failed, /docs\/runbook\.md#retry-a-failed-sealing$/);
  });

  it('adds the fix to the message of each known failure type, and leaves others alone', () => {
    assert.match(
      withFix('TemplateError', 'missing data for template tags: x'),
      /^missing data for template tags: x — fix: correct the template/,
    );
    assert.match(withFix('BlobMissing', 'blob 00 not found'), /restore the missing blob/);
    assert.equal(withFix('SomethingElse', 'as is'), 'as is');
  });

  it('builds a one-line summary from type, department and mode only', () => {
    const t = issuanceRunText({
      applicationId: 'a1',
      typeCode: 'BL',
      typeVersion: 3,
      typeName: '营业执照',
      department: 'market',
      mode: 'auto-seal',
      chain: [],
    });
    assert.equal(t.staticSummary, '签发 营业执照 BL v3 · market · auto-seal');
    assert.ok(!t.staticSummary.includes('\n'));
    assert.match(t.staticDetails, /approval chain: none: sealed at once/);
  });

  it('lets an operator retry only a failed sealing, cancel only what is not sealing or ended, always with a reason', () => {
    assert.equal(checkRetry(state({ status: 'failed' }), { reason: 'template fixed' }, false), undefined);
    assert.equal(checkRetry(state({ status: 'failed' }), { reason: '  ' }, false)?.kind, 'invalid');
    assert.equal(checkRetry(state({ status: 'failed' }), undefined, false)?.kind, 'invalid');
    assert.equal(checkRetry(state({ status: 'failed' }), { reason: 'x' }, true)?.kind, 'conflict');
    const named = { type: 'user' as const, id: '9', name: 'ops-zhang' };
    assert.equal(checkRetry(state({ status: 'failed' }), { reason: 'x', operator: named }, false), undefined);
    const bad = { reason: 'x', operator: 'ops-zhang' } as unknown as Parameters<typeof checkRetry>[1];
    assert.equal(checkRetry(state({ status: 'failed' }), bad, false)?.kind, 'invalid');
    assert.equal(checkRetry(state({ status: 'in-review' }), { reason: 'x' }, false)?.kind, 'conflict');
    for (const status of ['in-review', 'returned', 'failed'] as const)
      assert.equal(checkCancel(state({ status }), { reason: 'dup' }, false), undefined, status);
    for (const status of ['sealing', 'issued', 'rejected', 'withdrawn', 'cancelled'] as const) {
      assert.equal(checkCancel(state({ status }), { reason: 'dup' }, false)?.kind, 'conflict', status);
    }
  });
});
