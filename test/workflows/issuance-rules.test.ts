import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { Actor, Role } from '../../domain/access';
import type { ApprovalStep } from '../../domain/certificate-type';
import { actorRef, type ApplicationState, type DecideInput } from '../../domain/issuance';
import {
  amendUpdate,
  applicationStateQuery,
  decideUpdate,
  issuanceWorkflow,
  withdrawUpdate,
  type IssuanceInput,
} from '../../workflows/issuance';
import { temporalEnv, workflowBundle } from '../support/temporal';
import { uniqueSuffix } from '../support/services';

/**
 * The approval rules of workflows/issuance.ts with the activities replaced by a recorder, so
 * each test reads as the rule it checks and deadlines are seconds, not hours. The real
 * activities are covered by test/workflows/issuance.test.ts. It runs on the real dev server,
 * not the time-skipping one: that server cannot register the search attributes the workflow
 * upserts (its OperatorService is unimplemented), so every run would fail its first task.
 */

const staff = (id: number, role: Role): Actor => ({
  kind: 'user',
  id,
  username: `user${id}`,
  displayName: `User ${id}`,
  roles: [{ role, department: 'market' }],
});
const filler = staff(1, 'filler');
const reviewer = staff(2, 'reviewer');
const secondReviewer = staff(3, 'reviewer');
const sealer = staff(4, 'sealing-officer');
const admin = staff(5, 'department-admin');

type Call = { name: string; input: unknown };

/** Every activity the issuance workflow calls, recording its calls; tasks are numbered 1, 2, … */
function fakeActivities(calls: Call[]) {
  let nextTask = 0;
  const record =
    <T>(name: string, answer: (input: never) => T) =>
    async (input: never) => {
      calls.push({ name, input });
      return answer(input);
    };
  return {
    markApplication: record('markApplication', () => undefined),
    openTask: record('openTask', () => ({ taskId: ++nextTask, dueAt: null })),
    recordDecision: record('recordDecision', () => undefined),
    markOverdue: record('markOverdue', () => undefined),
    applyAmendment: record('applyAmendment', () => undefined),
    closeOpenTasks: record('closeOpenTasks', () => undefined),
    allocateCertificateNumber: record('allocateCertificateNumber', () => 'BL-330100-2026-0000001-X'),
    renderCertificate: record('renderCertificate', () => 'docx-sha'),
    convertCertificate: record('convertCertificate', () => 'pdf-sha'),
    signCertificate: record('signCertificate', () => ({ signedPdfSha: 'pdf', recordSha: 'record', signature: 'cms' })),
    storeCertificate: record('storeCertificate', () => undefined),
    registerInCatalog: record('registerInCatalog', () => undefined),
    warmCache: record('warmCache', () => undefined),
    notifyCallback: record('notifyCallback', () => undefined),
  };
}

const SECONDS = 1 / 3600;
const REVIEW: ApprovalStep = { key: 'review', name: '审核', role: 'reviewer' };
const SECOND: ApprovalStep = { key: 'second', name: '复核', role: 'reviewer' };
const SEAL: ApprovalStep = { key: 'seal', name: '签章', role: 'sealing-officer' };
/** Long enough to show the admin is refused before it, short enough to wait for. */
const ESCALATING: ApprovalStep = { ...REVIEW, deadlineHours: 4 * SECONDS, escalate: true };
const OVERDUE_ONLY: ApprovalStep = { ...SECOND, deadlineHours: 1 * SECONDS };

describe('issuance workflow rules (recorded activities)', function () {
  this.timeout(120_000);
  let env: TestWorkflowEnvironment;
  let workers: Worker[] = [];
  let running: Promise<unknown> | undefined;
  let taskQueue: string;
  const calls: Call[] = [];

  before(async () => {
    env = await temporalEnv();
    taskQueue = `rules-${uniqueSuffix()}`;
    const activities = fakeActivities(calls);
    const bundle = await workflowBundle();
    const make = (queue: string) =>
      Worker.create({ connection: env.nativeConnection, taskQueue: queue, workflowBundle: bundle, activities });
    const renderWorker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: `${taskQueue}-render`,
      activities: { convertCertificate: activities.convertCertificate },
    });
    workers = [await make(taskQueue), renderWorker];
    running = Promise.all(workers.map((w) => w.run()));
  });
  after(async () => {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    await running;
  });

  async function start(chain: ApprovalStep[]) {
    const applicationId = `app-${uniqueSuffix()}`;
    const input: IssuanceInput = {
      applicationId,
      typeCode: 'BL',
      typeVersion: 1,
      department: 'market',
      mode: 'review',
      chain,
      filler: actorRef(filler),
      submittedAt: new Date().toISOString(),
    };
    const handle = await env.client.workflow.start(issuanceWorkflow, {
      taskQueue,
      workflowId: `issuance-${applicationId}`,
      args: [input],
    });
    const state = () => handle.query(applicationStateQuery);
    const waitFor = async (ok: (s: ApplicationState) => boolean) => {
      for (let i = 0; i < 200; i++) {
        const s = await state();
        if (ok(s)) return s;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`state never matched: ${JSON.stringify(await state())}`);
    };
    const decide = (actor: Actor, decision: DecideInput['decision'], comment?: string) =>
      waitFor((s) => s.currentStep !== null).then((s) =>
        handle.executeUpdate(decideUpdate, { args: [{ taskId: s.currentStep!.taskId, decision, comment, actor }] }),
      );
    const callsOf = (name: string) =>
      calls.filter((c) => c.name === name && (c.input as { applicationId?: string }).applicationId === applicationId);
    return { handle, state, waitFor, decide, callsOf };
  }

  /** The failure type a refused Update carries: forbidden, conflict or invalid. */
  async function refusal(p: Promise<unknown>): Promise<string | undefined> {
    try {
      await p;
      return undefined;
    } catch (err) {
      assert.ok(err instanceof WorkflowUpdateFailedError, String(err));
      return (err.cause as { type?: string } | undefined)?.type;
    }
  }

  it('past its deadline a step with escalate is overdue, and the department admin may then decide it', async () => {
    const run = await start([ESCALATING, SEAL]);
    await run.waitFor((s) => s.currentStep?.key === 'review');
    assert.equal(await refusal(run.decide(admin, 'approve')), 'forbidden', 'not before the deadline');

    const s = await run.waitFor((x) => x.currentStep?.overdue === true);
    assert.equal(s.currentStep?.escalated, true);
    assert.deepEqual(
      s.history.filter((h) => h.kind === 'overdue' || h.kind === 'escalated').map((h) => [h.kind, h.step]),
      [
        ['overdue', '审核'],
        ['escalated', '审核'],
      ],
    );
    assert.deepEqual(
      run.callsOf('markOverdue').map((c) => (c.input as { escalate: boolean }).escalate),
      [true],
    );

    const after = await run.decide(admin, 'approve');
    assert.equal(after.currentStep?.key, 'seal', "the admin's approval moves the chain on");
  });

  it('past its deadline a step without escalate is overdue, but still only its role decides', async () => {
    const run = await start([OVERDUE_ONLY, SEAL]);
    await run.waitFor((s) => s.currentStep?.key === 'second');
    const s = await run.waitFor((x) => x.currentStep?.overdue === true);
    assert.equal(s.currentStep?.escalated, false);
    assert.deepEqual(
      s.history.filter((h) => h.kind === 'escalated'),
      [],
    );
    assert.equal(await refusal(run.decide(admin, 'approve')), 'forbidden');
    assert.equal((await run.decide(reviewer, 'approve')).currentStep?.key, 'seal');
  });

  it('return for correction: the filler amends, the chain starts over from the first step in a new round', async () => {
    const run = await start([REVIEW, SECOND, SEAL]);
    await run.decide(reviewer, 'approve');
    assert.equal(await refusal(run.decide(secondReviewer, 'return')), 'invalid', 'a return needs a reason');
    const returned = await run.decide(secondReviewer, 'return', '经营范围填写不规范');
    assert.equal(returned.status, 'returned');
    assert.equal(returned.currentStep, null);

    const byReviewer = run.handle.executeUpdate(amendUpdate, { args: [{ revision: 2, actor: reviewer }] });
    assert.equal(await refusal(byReviewer), 'forbidden', 'only the filler amends');
    const amended = await run.handle.executeUpdate(amendUpdate, { args: [{ revision: 2, actor: filler }] });
    assert.equal(amended.status, 'in-review');
    assert.equal(amended.round, 2);
    assert.equal(amended.revision, 2);
    assert.equal(amended.currentStep?.key, 'review', 'back to the first step');
    assert.deepEqual(amended.approvers, [], 'approvals of round 1 do not count in round 2');

    // Four-eyes is per round: the reviewer who approved step 1 in round 1 may take step 2 now.
    await run.decide(secondReviewer, 'approve');
    assert.equal(await refusal(run.decide(secondReviewer, 'approve')), 'forbidden', 'but not two steps of one round');
    await run.decide(reviewer, 'approve');
    const sealed = await run.decide(sealer, 'approve');
    assert.ok(['sealing', 'issued'].includes(sealed.status), sealed.status);

    const done = await run.handle.result();
    assert.equal(done.status, 'issued');
    assert.equal(done.certificateNumber, 'BL-330100-2026-0000001-X');
    assert.deepEqual(
      done.history.map((h) => h.kind),
      ['submitted', 'approved', 'returned', 'amended', 'approved', 'approved', 'approved', 'sealing', 'issued'],
    );
    assert.equal(run.callsOf('openTask').length, 5, 'two tasks in round 1, three in round 2');
  });

  it('a returned application the filler withdraws ends withdrawn, with its open tasks closed', async () => {
    const run = await start([REVIEW]);
    await run.decide(reviewer, 'return', '缺少材料');
    await run.waitFor((s) => s.status === 'returned');
    await run.handle.executeUpdate(withdrawUpdate, { args: [{ actor: filler, reason: '不再需要' }] });
    const done = await run.handle.result();
    assert.equal(done.status, 'withdrawn');
    assert.equal(run.callsOf('closeOpenTasks').length, 1);
    assert.equal(run.callsOf('allocateCertificateNumber').length, 0, 'nothing was sealed');
  });
});
