import assert from 'node:assert/strict';
import type { Actor, Role } from '../../../domain/access';
import type { ApprovalStep } from '../../../domain/certificate-type';
import {
  actorRef,
  chainForMode,
  checkAmend,
  checkDecision,
  checkWithdraw,
  type ApplicationState,
  type ApplicationStatus,
  type DecideInput,
} from '../../../domain/issuance';

const staff = (id: number, role: Role, department: string | null = 'market'): Actor => ({
  kind: 'user',
  id,
  username: `user${id}`,
  displayName: `User ${id}`,
  roles: [{ role, department }],
});

const filler = staff(1, 'filler');
const reviewer = staff(2, 'reviewer');
const secondReviewer = staff(3, 'reviewer');
const sealer = staff(4, 'sealing-officer');
const admin = staff(5, 'department-admin');

const CHAIN: ApprovalStep[] = [
  { key: 'review', name: '审核', role: 'reviewer', deadlineHours: 24, escalate: true },
  { key: 'second-review', name: '复核', role: 'reviewer' },
  { key: 'seal', name: '签章', role: 'sealing-officer' },
];

/** An application of market waiting at step `index` of CHAIN, task id 100 + index. */
function waitingAt(index: number, over: Partial<ApplicationState> = {}): ApplicationState {
  const step = CHAIN[index]!;
  return {
    applicationId: 'app-1',
    typeCode: 'BL',
    typeVersion: 1,
    department: 'market',
    mode: 'review',
    status: 'in-review',
    round: 1,
    revision: 1,
    filler: actorRef(filler),
    chain: CHAIN,
    currentStep: {
      index,
      key: step.key,
      name: step.name,
      role: step.role,
      taskId: 100 + index,
      dueAt: null,
      overdue: false,
      escalated: false,
    },
    approvers: [],
    history: [],
    certificateNumber: null,
    error: null,
    ...over,
  };
}

const decide = (actor: Actor, over: Partial<DecideInput> = {}): DecideInput => ({
  taskId: 100,
  decision: 'approve',
  actor,
  ...over,
});

describe('issuance rules: who may decide a step (checkDecision)', () => {
  it('a reviewer of the department may approve the review step', () => {
    assert.equal(checkDecision(waitingAt(0), decide(reviewer), false), undefined);
  });

  it('a reviewer of another department cannot decide', () => {
    const v = checkDecision(waitingAt(0), decide(staff(9, 'reviewer', 'health')), false);
    assert.equal(v?.kind, 'forbidden');
    assert.match(v!.message, /reviewer role in department market/);
  });

  it('a platform-wide reviewer role counts in every department', () => {
    assert.equal(checkDecision(waitingAt(0), decide(staff(9, 'reviewer', null)), false), undefined);
  });

  it('a sealing officer cannot decide a review step, and a reviewer cannot seal', () => {
    assert.equal(checkDecision(waitingAt(0), decide(sealer), false)?.kind, 'forbidden');
    const atSeal = waitingAt(2);
    assert.equal(checkDecision(atSeal, decide(reviewer, { taskId: 102 }), false)?.kind, 'forbidden');
    assert.equal(checkDecision(atSeal, decide(sealer, { taskId: 102 }), false), undefined);
  });

  it('a department admin decides a step only once it has been escalated', () => {
    const before = checkDecision(waitingAt(0), decide(admin), false);
    assert.equal(before?.kind, 'forbidden');
    const escalated = waitingAt(0);
    escalated.currentStep!.escalated = true;
    assert.equal(checkDecision(escalated, decide(admin), false), undefined);
    assert.equal(checkDecision(escalated, decide(reviewer), false), undefined, 'the step role still may');
  });

  it('business systems and anonymous callers never decide approval steps', () => {
    const client: Actor = { kind: 'api-client', id: 'ac_1', name: '审批系统', department: 'market', scopes: [] };
    assert.equal(checkDecision(waitingAt(0), decide(client), false)?.kind, 'forbidden');
    assert.equal(checkDecision(waitingAt(0), decide({ kind: 'anonymous' }), false)?.kind, 'forbidden');
  });

  it('four-eyes: the filler cannot decide on their own application, even holding the step role', () => {
    const fillerAndReviewer: Actor = {
      ...filler,
      roles: [
        { role: 'filler', department: 'market' },
        { role: 'reviewer', department: 'market' },
      ],
    } as Actor;
    const v = checkDecision(waitingAt(0), decide(fillerAndReviewer), false);
    assert.equal(v?.kind, 'forbidden');
    assert.match(v!.message, /four-eyes/);
  });

  it('four-eyes: whoever approved an earlier step of this round cannot decide another', () => {
    const state = waitingAt(1, { approvers: [actorRef(reviewer)] });
    const v = checkDecision(state, decide(reviewer, { taskId: 101 }), false);
    assert.equal(v?.kind, 'forbidden');
    assert.match(v!.message, /already approved/);
    assert.equal(checkDecision(state, decide(secondReviewer, { taskId: 101 }), false), undefined);
  });

  it('four-eyes compares people, not names: same id and type is the same person', () => {
    const renamed: Actor = { ...(reviewer as Extract<Actor, { kind: 'user' }>), username: 'renamed' };
    const state = waitingAt(1, { approvers: [actorRef(reviewer)] });
    assert.equal(checkDecision(state, decide(renamed, { taskId: 101 }), false)?.kind, 'forbidden');
  });

  it('only the current task may be decided', () => {
    const v = checkDecision(waitingAt(1), decide(secondReviewer, { taskId: 100 }), false);
    assert.equal(v?.kind, 'conflict');
    assert.match(v!.message, /not the current step/);
  });

  it('a second decision while one is being recorded is a conflict', () => {
    assert.equal(checkDecision(waitingAt(0), decide(reviewer), true)?.kind, 'conflict');
  });

  it('no decision is awaited once the application left review', () => {
    for (const status of ['returned', 'sealing', 'issued', 'rejected', 'withdrawn', 'failed'] as ApplicationStatus[]) {
      const v = checkDecision(waitingAt(0, { status }), decide(reviewer), false);
      assert.equal(v?.kind, 'conflict', status);
      assert.match(v!.message, new RegExp(status));
    }
    assert.equal(checkDecision(waitingAt(0, { currentStep: null }), decide(reviewer), false)?.kind, 'conflict');
  });

  it('rejecting or returning needs a reason; approving does not', () => {
    for (const decision of ['reject', 'return'] as const) {
      for (const comment of [undefined, '', '   ']) {
        const v = checkDecision(waitingAt(0), decide(reviewer, { decision, comment }), false);
        assert.equal(v?.kind, 'invalid', `${decision} with ${JSON.stringify(comment)}`);
      }
      assert.equal(checkDecision(waitingAt(0), decide(reviewer, { decision, comment: '地址有误' }), false), undefined);
    }
  });

  it('who may decide is checked before the reason, so a stranger learns nothing about the form', () => {
    const v = checkDecision(waitingAt(0), decide(sealer, { decision: 'reject' }), false);
    assert.equal(v?.kind, 'forbidden');
  });
});

describe('issuance rules: a delegate acting for a colleague (onBehalfOf)', () => {
  const handler = staff(6, 'handler');

  it("decides with the principal's authority, even without the step role", () => {
    assert.equal(checkDecision(waitingAt(0), decide(handler, { onBehalfOf: reviewer }), false), undefined);
    const v = checkDecision(waitingAt(0), decide(handler, { onBehalfOf: sealer }), false);
    assert.equal(v?.kind, 'forbidden');
    assert.match(v!.message, /needs the reviewer role/);
  });

  it('four-eyes holds for the principal: one whose step was approved for them decides no other', () => {
    const actedFor = { ...actorRef(handler), actingFor: { type: 'user' as const, id: '2', name: 'user2' } };
    const state = waitingAt(1, { approvers: [actedFor] });
    const v = checkDecision(state, decide(reviewer, { taskId: 101 }), false);
    assert.equal(v?.kind, 'forbidden');
    assert.match(v!.message, /already approved/);
    assert.equal(checkDecision(state, decide(secondReviewer, { taskId: 101 }), false), undefined);
  });

  it('four-eyes holds for the delegate, and for a principal who approved or filled it', () => {
    const approved = waitingAt(1, { approvers: [actorRef(handler)] });
    const v = checkDecision(approved, decide(handler, { taskId: 101, onBehalfOf: secondReviewer }), false);
    assert.match(v!.message, /four-eyes: you already approved/);
    const byPrincipal = waitingAt(1, { approvers: [actorRef(reviewer)] });
    const w = checkDecision(byPrincipal, decide(handler, { taskId: 101, onBehalfOf: reviewer }), false);
    assert.match(w!.message, /user2, for whom you act, already approved/);
    const fillerAlsoReviews: Actor = { ...filler, roles: [{ role: 'reviewer', department: 'market' }] } as Actor;
    const x = checkDecision(waitingAt(0), decide(handler, { onBehalfOf: fillerAlsoReviews }), false);
    assert.match(x!.message, /filler of an application cannot decide on it \(user1, for whom you act\)/);
  });

  it('nobody acts for themselves', () => {
    assert.equal(checkDecision(waitingAt(0), decide(reviewer, { onBehalfOf: reviewer }), false)?.kind, 'forbidden');
  });
});

describe('issuance rules: amend and withdraw', () => {
  const returned = () => waitingAt(0, { status: 'returned', currentStep: null });

  it('the filler amends an application returned for correction', () => {
    assert.equal(checkAmend(returned(), filler), undefined);
  });

  it('nobody else amends it, not even a reviewer of the department', () => {
    for (const actor of [reviewer, admin, staff(6, 'filler')]) {
      assert.equal(checkAmend(returned(), actor)?.kind, 'forbidden');
    }
  });

  it('only a returned application can be amended', () => {
    for (const status of ['in-review', 'sealing', 'issued', 'rejected', 'withdrawn'] as ApplicationStatus[]) {
      assert.equal(checkAmend(waitingAt(0, { status }), filler)?.kind, 'conflict', status);
    }
  });

  it('the filler withdraws while in review or returned, not afterwards', () => {
    assert.equal(checkWithdraw(waitingAt(0), filler), undefined);
    assert.equal(checkWithdraw(returned(), filler), undefined);
    for (const status of ['sealing', 'issued', 'rejected', 'withdrawn', 'failed'] as ApplicationStatus[]) {
      assert.equal(checkWithdraw(waitingAt(0, { status }), filler)?.kind, 'conflict', status);
    }
  });

  it('nobody but the filler withdraws', () => {
    assert.equal(checkWithdraw(waitingAt(0), reviewer)?.kind, 'forbidden');
    assert.equal(checkWithdraw(waitingAt(0), admin)?.kind, 'forbidden');
  });
});

describe('issuance rules: which chain a mode runs (chainForMode)', () => {
  it("review runs the type's chain as configured, as a copy", () => {
    const chain = chainForMode('review', CHAIN);
    assert.deepEqual(chain, CHAIN);
    assert.notEqual(chain, CHAIN);
  });

  it('auto-seal runs no step at all', () => {
    assert.deepEqual(chainForMode('auto-seal', CHAIN), []);
  });

  it('online-seal keeps only the sealing steps of the chain', () => {
    assert.deepEqual(chainForMode('online-seal', CHAIN), [CHAIN[2]]);
  });

  it("online-seal asks a sealing officer even when the type's chain has no sealing step", () => {
    assert.deepEqual(chainForMode('online-seal', [CHAIN[0]!]), [
      { key: 'seal', name: '签章', role: 'sealing-officer' },
    ]);
    assert.deepEqual(chainForMode('online-seal', []), [{ key: 'seal', name: '签章', role: 'sealing-officer' }]);
  });
});
