import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { temporalEnv, workflowBundle } from '../support/temporal';
import {
  issuanceHarness,
  json,
  LICENCE,
  licenceTypeWithChain,
  waitForStatus,
  waitForTask,
  type IssuanceHarness,
} from '../support/issuance';
import { applicationStateQuery } from '../../workflows/issuance';
import type { ApplicationState } from '../../domain/issuance';

type Problem = { status: number; detail: string };
const HISTORIES = path.join(__dirname, 'histories');
type Decided = ApplicationState;

describe('issuanceWorkflow on a real Temporal server', function () {
  this.timeout(120_000);
  let h: IssuanceHarness;
  let filler = '';
  let reviewer = '';
  let sealer = '';

  before(async () => {
    h = await issuanceHarness('sqlite');
    filler = await h.app.login('market-filler');
    reviewer = await h.app.login('market-reviewer');
    sealer = await h.app.login('market-sealer');
  });
  after(() => h?.close());

  const submit = async (body: object = LICENCE, headers: Record<string, string> = {}) =>
    json<{ id: string; workflowId: string }>(
      await h.app.fetch('/api/v1/applications', { token: filler, json: body, headers }),
      201,
    );
  const decide = (token: string, taskId: number, decision: string, comment?: string) =>
    h.app.fetch(`/api/v1/tasks/${taskId}/decision`, { token, json: { decision, comment } });

  it('runs a two-step chain: review approved, seal approved, issued; tasks, history, audit and search attributes follow', async () => {
    const { id, workflowId } = await submit();
    assert.equal(workflowId, `issuance-${id}`);
    const reviewTask = await waitForTask(h.app, filler, id);
    const afterReview = await json<Decided>(await decide(reviewer, reviewTask, 'approve', '材料齐全'), 200);
    assert.equal(afterReview.currentStep?.name, '签章', 'the decision answers with the next step');
    const sealTask = afterReview.currentStep!.taskId;
    await json(await decide(sealer, sealTask, 'approve'), 200);
    const done = await waitForStatus(h.app, filler, id, 'issued');
    assert.equal(done.currentStep, null);

    const tasks = await h.t.db('tasks').where({ application_id: id }).orderBy('id');
    assert.deepEqual(
      tasks.map((t) => [t.step_key, t.role, t.status, t.decision, t.decided_by]),
      [
        ['review', 'reviewer', 'done', 'approve', 'market-reviewer'],
        ['seal', 'sealing-officer', 'done', 'approve', 'market-sealer'],
      ],
    );
    const state = await (await temporalEnv()).client.workflow.getHandle(workflowId).query(applicationStateQuery);
    assert.deepEqual(
      state.history.map((e) => e.kind),
      ['submitted', 'approved', 'approved', 'sealing', 'issued'],
    );
    const audit = await h.t
      .db('audit_log')
      .where({ object_type: 'application', object_id: id })
      .orderBy('seq')
      .select('action', 'actor_name');
    assert.deepEqual(
      audit.map((a) => `${a.action}:${a.actor_name}`),
      ['application.submit:market-filler', 'task.approve:market-reviewer', 'task.approve:market-sealer'],
    );

    const described = await (await temporalEnv()).client.workflow.getHandle(workflowId).describe();
    const attrs = described.typedSearchAttributes;
    assert.equal(attrs.get({ name: 'CertType', type: 'KEYWORD' } as never), 'BL');
    assert.equal(attrs.get({ name: 'Department', type: 'KEYWORD' } as never), 'market');
    assert.equal(attrs.get({ name: 'ApplicationStatus', type: 'KEYWORD' } as never), 'issued');
    assert.ok(
      !JSON.stringify(described.searchAttributes).includes(LICENCE.holder.id),
      'no holder ID in search attributes',
    );
  });

  it('rejects with a reason, and refuses a rejection without one', async () => {
    const { id } = await submit();
    const task = await waitForTask(h.app, filler, id);
    const noReason = await decide(reviewer, task, 'reject');
    assert.equal(noReason.status, 422);
    const refusal = (await noReason.json()) as Problem & { errors: { field: string }[] };
    assert.match(refusal.detail, /reason is required/);
    assert.deepEqual(
      refusal.errors.map((e) => e.field),
      ['comment'],
      "the decide validator's field",
    );
    await json(await decide(reviewer, task, 'reject', '经营范围不符合规定'), 200);
    await waitForStatus(h.app, filler, id, 'rejected');
    const history = (await (await h.app.fetch(`/api/v1/applications/${id}`, { token: filler })).json()) as {
      history: { kind: string; comment?: string }[];
    };
    assert.deepEqual(history.history.at(-1), {
      ...history.history.at(-1),
      kind: 'rejected',
      comment: '经营范围不符合规定',
    });
  });

  it('returns for correction; the filler amends (re-validated); the chain restarts and completes', async () => {
    const { id } = await submit();
    const first = await waitForTask(h.app, filler, id);
    await json(await decide(reviewer, first, 'return', '注册资本填写有误'), 200);
    await waitForStatus(h.app, filler, id, 'returned');
    assert.equal(
      (await h.app.fetch(`/api/v1/tasks/${first}/decision`, { token: reviewer, json: { decision: 'approve' } })).status,
      409,
      'the old task is closed',
    );

    const bad = await h.app.fetch(`/api/v1/applications/${id}/amend`, {
      token: filler,
      json: { faceData: { ...LICENCE.faceData, establishedOn: '2024-02-30' } },
    });
    assert.equal(bad.status, 422);
    const other = await h.app.login('market-handler');
    assert.equal(
      (await h.app.fetch(`/api/v1/applications/${id}/amend`, { token: other, json: { faceData: LICENCE.faceData } }))
        .status,
      403,
    );

    const amended = await json<{ revision: number; faceData: { registeredCapital: string } }>(
      await h.app.fetch(`/api/v1/applications/${id}/amend`, {
        token: filler,
        json: { faceData: { ...LICENCE.faceData, registeredCapital: '200万元' } },
      }),
      200,
    );
    assert.equal(amended.revision, 2, 'the refused amendment left no revision; the accepted one is current');
    assert.deepEqual(
      await h.t.db('application_revisions').where({ application_id: id }).orderBy('revision').pluck('revision'),
      [1, 2],
    );
    assert.equal(amended.faceData.registeredCapital, '200万元');
    const second = await waitForTask(h.app, filler, id, first);
    const afterReview = await json<Decided>(await decide(reviewer, second, 'approve'), 200);
    assert.equal(afterReview.round, 2);
    await json(await decide(sealer, afterReview.currentStep!.taskId, 'approve'), 200);
    await waitForStatus(h.app, filler, id, 'issued');
    const rounds = await h.t
      .db('tasks')
      .where({ application_id: id })
      .orderBy('id')
      .select('round', 'step_key', 'decision');
    assert.deepEqual(
      rounds.map((r) => `${r.round}:${r.step_key}:${r.decision}`),
      ['1:review:return', '2:review:approve', '2:seal:approve'],
    );
  });

  it('enforces roles, departments and four-eyes in the Update validator', async () => {
    // One person holding both reviewer and sealing-officer roles in market.
    const pa = await h.app.login('platform-admin');
    await json(
      await h.app.fetch('/api/v1/users', {
        token: pa,
        json: {
          username: 'market-dual',
          displayName: '双岗',
          password: 'a-good-password',
          roles: [
            { role: 'reviewer', department: 'market' },
            { role: 'sealing-officer', department: 'market' },
            { role: 'filler', department: 'market' },
          ],
        },
      }),
      201,
    );
    const dual = await h.app.login('market-dual', 'a-good-password');

    const { id } = await submit();
    const task = await waitForTask(h.app, filler, id);
    const healthReviewer = await h.app.login('health-reviewer');
    const wrongDept = await decide(healthReviewer, task, 'approve');
    assert.equal(wrongDept.status, 403);
    assert.equal(
      (await decide(sealer, task, 'approve')).status,
      403,
      'the sealing officer cannot take the review step',
    );
    const afterReview = await json<Decided>(await decide(dual, task, 'approve'), 200);
    const fourEyes = await decide(dual, afterReview.currentStep!.taskId, 'approve');
    assert.equal(fourEyes.status, 403);
    assert.match(((await fourEyes.json()) as Problem).detail, /four-eyes: you already approved an earlier step/);

    // The filler may not decide on their own application, whatever roles they hold.
    const own = (
      await json<{ id: string }>(await h.app.fetch('/api/v1/applications', { token: dual, json: LICENCE }), 201)
    ).id;
    const ownTask = await waitForTask(h.app, dual, own);
    const self = await decide(dual, ownTask, 'approve');
    assert.equal(self.status, 403);
    assert.match(((await self.json()) as Problem).detail, /filler of an application cannot decide/);
    const denials = await h.t
      .db('audit_log')
      .where({ category: 'authorization', action: 'task.decide' })
      .count({ n: '*' });
    assert.ok(Number(denials[0]!.n) >= 4, 'every refused decision is audited');
  });

  it('claims are exclusive: a task claimed by one reviewer cannot be decided by another', async () => {
    const pa = await h.app.login('platform-admin');
    await json(
      await h.app.fetch('/api/v1/users', {
        token: pa,
        json: {
          username: 'market-reviewer3',
          displayName: '审核三',
          password: 'a-good-password',
          roles: [{ role: 'reviewer', department: 'market' }],
        },
      }),
      201,
    );
    const other = await h.app.login('market-reviewer3', 'a-good-password');
    const { id } = await submit();
    const task = await waitForTask(h.app, filler, id);
    await json(await h.app.fetch(`/api/v1/tasks/${task}/claim`, { token: reviewer, json: {} }), 200);
    assert.equal((await h.app.fetch(`/api/v1/tasks/${task}/claim`, { token: other, json: {} })).status, 409);
    assert.equal((await decide(other, task, 'approve')).status, 409);
    const mine = (await (await h.app.fetch('/api/v1/tasks?view=mine', { token: reviewer })).json()) as {
      items: { id: number }[];
    };
    assert.ok(mine.items.some((t) => t.id === task));
    await json(await decide(reviewer, task, 'approve'), 200);
  });

  it('marks an overdue step, records a reminder and escalates it to the department admin', async () => {
    await licenceTypeWithChain(h, 'BLFAST', [
      { key: 'review', name: '审核', role: 'reviewer', deadlineHours: 1.5 / 3600, escalate: true },
    ]);
    const { id } = await submit({ ...LICENCE, typeCode: 'BLFAST' });
    const task = await waitForTask(h.app, filler, id);
    const deadline = Date.now() + 15_000;
    let row;
    do {
      await new Promise((r) => setTimeout(r, 200));
      row = await h.t.db('tasks').where({ id: task }).first();
    } while (!row.escalated && Date.now() < deadline);
    assert.equal(Boolean(row.overdue), true);
    assert.equal(Boolean(row.escalated), true);
    const admin = await h.app.login('market-admin');
    const queue = (await (await h.app.fetch('/api/v1/tasks?overdue=true', { token: admin })).json()) as {
      items: { id: number }[];
    };
    assert.ok(
      queue.items.some((t) => t.id === task),
      "the escalated task shows in the admin's queue",
    );
    const events = await h.t.db('application_events').where({ application_id: id }).pluck('kind');
    assert.ok(events.includes('overdue') && events.includes('escalated'));
    assert.ok(
      await h.t.db('audit_log').where({ action: 'task.escalate', object_id: id }).first(),
      'the reminder is audited',
    );
    await json(await decide(admin, task, 'approve'), 200);
    await waitForStatus(h.app, filler, id, 'issued');
  });

  it('continues where it was after the worker is stopped mid-chain, with nothing repeated', async () => {
    const { id, workflowId } = await submit();
    const review = await waitForTask(h.app, filler, id);
    const afterReview = await json<Decided>(await decide(reviewer, review, 'approve'), 200);
    await h.restartWorker();
    const state = await (await temporalEnv()).client.workflow.getHandle(workflowId).query(applicationStateQuery);
    assert.equal(state.currentStep?.taskId, afterReview.currentStep!.taskId, 'still waiting on the seal step');
    await json(await decide(sealer, afterReview.currentStep!.taskId, 'approve'), 200);
    await waitForStatus(h.app, filler, id, 'issued');
    assert.equal((await h.t.db('tasks').where({ application_id: id })).length, 2);
    assert.equal((await h.t.db('audit_log').where({ object_id: id, action: 'task.approve' })).length, 2);
    const kinds = await h.t.db('application_events').where({ application_id: id }).pluck('kind');
    assert.equal(kinds.filter((k) => k === 'task-opened').length, 2);
  });

  it('one Idempotency-Key gives one application and one workflow, also when sent twice at once', async () => {
    const headers = { 'idempotency-key': 'approval-sys-req-0001' };
    const [a, b] = await Promise.all([
      h.app.fetch('/api/v1/applications', { token: filler, json: LICENCE, headers }),
      h.app.fetch('/api/v1/applications', { token: filler, json: LICENCE, headers }),
    ]);
    const ids = [((await a.json()) as { id: string }).id, ((await b.json()) as { id: string }).id];
    assert.deepEqual([a.status, b.status].sort(), [200, 201]);
    assert.equal(ids[0], ids[1]);
    const again = await h.app.fetch('/api/v1/applications', { token: filler, json: LICENCE, headers });
    assert.equal(again.status, 200);
    assert.equal(((await again.json()) as { id: string }).id, ids[0]);
    assert.equal(
      (
        await h.t.db('applications').where({
          dedupe_key:
            'user:' +
            (await h.t.db('users').where({ username: 'market-filler' }).first()).id +
            ':key:approval-sys-req-0001',
        })
      ).length,
      1,
    );
    const runs = [];
    for await (const w of (await temporalEnv()).client.workflow.list({ query: `WorkflowId = 'issuance-${ids[0]}'` }))
      runs.push(w);
    assert.equal(runs.length, 1);
  });

  it('lets the filler withdraw; open tasks close; nobody else may withdraw', async () => {
    const { id } = await submit();
    await waitForTask(h.app, filler, id);
    assert.equal((await h.app.fetch(`/api/v1/applications/${id}/withdraw`, { token: reviewer, json: {} })).status, 403);
    const w = await json<{ status: string }>(
      await h.app.fetch(`/api/v1/applications/${id}/withdraw`, { token: filler, json: { reason: '申请人撤回' } }),
      200,
    );
    assert.equal(w.status, 'withdrawn');
    assert.deepEqual(await h.t.db('tasks').where({ application_id: id }).pluck('status'), ['cancelled']);
    assert.equal((await h.app.fetch(`/api/v1/applications/${id}/withdraw`, { token: filler, json: {} })).status, 409);
  });

  it('refuses bad applications naming each field, and writes nothing', async () => {
    const before = (await h.t.db('applications')).length;
    const r = await h.app.fetch('/api/v1/applications', {
      token: filler,
      json: {
        ...LICENCE,
        holder: { kind: 'person', id: '330106199003071235', name: 'x' },
        faceData: { ...LICENCE.faceData, creditCode: '91330106MA2B3C4DB1', extra: 1 },
      },
    });
    const p = await json<{ errors: { field: string }[] }>(r, 422);
    assert.deepEqual(p.errors.map((e) => e.field).sort(), [
      'faceData.creditCode',
      'faceData.extra',
      'holder.id',
      'holder.kind',
    ]);
    assert.equal(
      (await h.app.fetch('/api/v1/applications', { token: filler, json: { ...LICENCE, typeCode: 'NOPE' } })).status,
      422,
    );
    assert.equal(
      (await h.app.fetch('/api/v1/applications', { token: reviewer, json: LICENCE })).status,
      403,
      'reviewers do not submit',
    );
    assert.equal((await h.t.db('applications')).length, before);
  });

  it('replays every history of this run deterministically with the current workflow code', async () => {
    const env = await temporalEnv();
    const rows = await h.t.db('applications').select('workflow_id', 'status');
    assert.ok(rows.length >= 8);
    for (const { workflow_id: workflowId, status } of rows) {
      const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, workflowId);
      // RECORD_HISTORIES=1 refreshes the fixtures below: one finished run per outcome.
      if (process.env.RECORD_HISTORIES) {
        fs.mkdirSync(HISTORIES, { recursive: true });
        const file = path.join(HISTORIES, `issuance-${status}.pb`);
        if (!fs.existsSync(file)) fs.writeFileSync(file, temporal.api.history.v1.History.encode(history).finish());
      }
    }
  });

  it('replays the histories recorded by earlier releases (changes to the workflow must use patched())', async () => {
    const files = fs.readdirSync(HISTORIES).filter((f) => f.endsWith('.pb'));
    assert.ok(files.length >= 4, `fixtures in ${HISTORIES}`);
    for (const f of files) {
      const history = temporal.api.history.v1.History.decode(fs.readFileSync(path.join(HISTORIES, f)));
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, f);
    }
  });
});
