import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import {
  issuanceHarness,
  json,
  LICENCE,
  licenceTypeWithChain,
  waitForStatus,
  waitForTask,
  type IssuanceHarness,
} from '../support/issuance';
import { Worker } from '@temporalio/worker';
import { temporalEnv, workflowBundle } from '../support/temporal';
import type { ApplicationState } from '../../domain/issuance';
import { requireService, TEST_MYSQL_URL } from '../support/services';

type Problem = { status: number; detail: string; errors?: { field: string; message: string }[] };
type BulkAnswer = {
  items: { taskId: number; outcome: string; status: number | null; reason: string | null }[];
  counts: { decided: number; refused: number };
};

/** Reassign, delegate ("acting for"), follow-up dates and bulk decisions, on real Temporal, SQLite and MariaDB. */
for (const kind of ['sqlite', 'mysql'] as const)
  describe(`staff at scale: reassign, delegate, bulk decisions (docs/issuance.md) [${kind}]`, function () {
    this.timeout(300_000);
    let h: IssuanceHarness;
    let filler = '';
    let reviewer = '';
    let admin = '';
    let rev2 = '';
    let rev3 = '';
    const ids: Record<string, number> = {};

    before(async function () {
      try {
        h = await issuanceHarness(kind);
      } catch (err) {
        requireService(this, `MariaDB at ${TEST_MYSQL_URL}`, err);
      }
      // Two reviewer steps, so an approval leads to another step rather than to sealing.
      await licenceTypeWithChain(h, 'RR', [
        { key: 'review', name: '审核', role: 'reviewer' },
        { key: 'second-review', name: '复核', role: 'reviewer' },
      ]);
      filler = await h.app.login('market-filler');
      reviewer = await h.app.login('market-reviewer');
      admin = await h.app.login('market-admin');
      const pa = await h.app.login('platform-admin');
      for (const username of ['market-rev2', 'market-rev3']) {
        const user = await json<{ id: number }>(
          await h.app.fetch('/api/v1/users', {
            token: pa,
            json: {
              username,
              displayName: username,
              password: 'a-good-password',
              roles: [{ role: 'reviewer', department: 'market' }],
            },
          }),
          201,
        );
        ids[username] = user.id;
      }
      ids['market-sealer'] = (await h.t.db('users').where({ username: 'market-sealer' }).first('id')).id;
      rev2 = await h.app.login('market-rev2', 'a-good-password');
      rev3 = await h.app.login('market-rev3', 'a-good-password');
    });
    after(() => h?.close());

    const submit = async () =>
      (
        await json<{ id: string }>(
          await h.app.fetch('/api/v1/applications', { token: filler, json: { ...LICENCE, typeCode: 'RR' } }),
          201,
        )
      ).id;
    const decide = (token: string, taskId: number, decision = 'approve', comment?: string) =>
      h.app.fetch(`/api/v1/tasks/${taskId}/decision`, { token, json: { decision, comment } });
    const assign = (token: string, taskId: number, userId: number) =>
      h.app.fetch(`/api/v1/tasks/${taskId}/assign`, { token, json: { userId } });

    it('a department admin reassigns a task to a colleague with the role; others are refused, clearly', async () => {
      const id = await submit();
      const task = await waitForTask(h.app, filler, id);

      const all = await json<{ items: { id: number }[] }>(
        await h.app.fetch('/api/v1/tasks?view=all', { token: admin }),
        200,
      );
      assert.ok(
        all.items.some((t) => t.id === task),
        "the department admin's all view holds the department's tasks",
      );
      const people = await json<{ items: { username: string }[] }>(
        await h.app.fetch(`/api/v1/tasks/${task}/assignees`, { token: admin }),
        200,
      );
      assert.deepEqual(people.items.map((p) => p.username).sort(), ['market-rev2', 'market-rev3', 'market-reviewer']);
      const sealer = await json<Problem>(await assign(admin, task, ids['market-sealer']!), 422);
      assert.equal(sealer.errors?.[0]?.field, 'userId');
      assert.match(sealer.detail, /does not hold the reviewer role in market/);
      assert.equal((await assign(reviewer, task, ids['market-rev2']!)).status, 403, 'only department admins reassign');
      const healthAdmin = await h.app.login('health-admin');
      assert.equal((await assign(healthAdmin, task, ids['market-rev2']!)).status, 403, 'nor another department');

      const assigned = await json<{ assignee: { name: string } }>(await assign(admin, task, ids['market-rev2']!), 200);
      assert.equal(assigned.assignee.name, 'market-rev2');
      const mine = await json<{ items: { id: number }[] }>(
        await h.app.fetch('/api/v1/tasks?view=mine', { token: rev2 }),
        200,
      );
      assert.ok(mine.items.some((t) => t.id === task));
      const claimed = await json<Problem>(await decide(reviewer, task), 409);
      assert.match(claimed.detail, /claimed by market-rev2/);
      const audit = await h.t.db('audit_log').where({ action: 'task.assign', outcome: 'success' }).first();
      assert.equal(audit.object_id, String(task));
      assert.match(audit.detail, /"to":"market-rev2"/);

      const d = await json<ApplicationState>(await decide(rev2, task), 200);
      assert.equal(d.currentStep?.name, '复核');
    });

    it('a delegate decides as "acting for" the colleague on leave; four-eyes still refuses both of them after', async () => {
      const id = await submit();
      const task = await waitForTask(h.app, filler, id);
      await json(await assign(admin, task, ids['market-rev2']!), 200);

      const endsAt = new Date(Date.now() + 7 * 86_400_000).toISOString();
      const self = await json<Problem>(
        await h.app.fetch('/api/v1/delegations', { token: rev2, json: { delegateId: ids['market-rev2'], endsAt } }),
        422,
      );
      assert.equal(self.errors?.[0]?.field, 'delegateId');
      const past = await json<Problem>(
        await h.app.fetch('/api/v1/delegations', {
          token: rev2,
          json: { delegateId: ids['market-rev3'], endsAt: '2020-01-01T00:00:00Z' },
        }),
        422,
      );
      assert.equal(past.errors?.[0]?.field, 'endsAt');
      const g = await json<{ id: number; delegate: { name: string } }>(
        await h.app.fetch('/api/v1/delegations', {
          token: rev2,
          json: { delegateId: ids['market-rev3'], endsAt, reason: '休假' },
        }),
        201,
      );
      assert.equal(g.delegate.name, 'market-rev3');

      const inbox = await json<{ items: { id: number; standIn: string | null }[] }>(
        await h.app.fetch('/api/v1/tasks?view=mine', { token: rev3 }),
        200,
      );
      assert.equal(
        inbox.items.find((t) => t.id === task)?.standIn,
        'market-rev2',
        "the principal's task is in the delegate's inbox",
      );
      await json(await h.app.fetch(`/api/v1/tasks/${task}`, { token: rev3 }), 200);

      const afterFirst = await json<ApplicationState>(await decide(rev3, task, 'approve', '代审'), 200);
      const row = await h.t.db('tasks').where({ id: task }).first();
      assert.deepEqual([row.decided_by, row.acting_for], ['market-rev3', 'market-rev2']);
      const event = await h.t.db('application_events').where({ application_id: id, kind: 'approved' }).first();
      assert.equal(event.actor, 'market-rev3 acting for market-rev2');
      const audited = await h.t.db('audit_log').where({ action: 'task.approve', object_id: id }).first();
      assert.equal(audited.actor_id, String(ids['market-rev3']));
      assert.match(audited.detail, /"actingFor":"market-rev2"/);

      const second = afterFirst.currentStep!.taskId;
      const principal = await json<Problem>(await decide(rev2, second), 403);
      assert.match(principal.detail, /four-eyes/);
      const delegate = await json<Problem>(await decide(rev3, second), 403);
      assert.match(delegate.detail, /four-eyes: you already approved/);
      await json(await decide(reviewer, second), 200);
      await waitForStatus(h.app, filler, id, ['sealing', 'issued'], 60_000);

      // Revoked: the task no longer follows the delegate.
      const next = await waitForTask(h.app, filler, await submit());
      await json(await assign(admin, next, ids['market-rev2']!), 200);
      await json(await h.app.fetch(`/api/v1/delegations/${g.id}`, { token: rev2, method: 'DELETE' }), 200);
      assert.equal((await decide(rev3, next)).status, 409);
      const revoked = await h.t.db('audit_log').where({ action: 'delegation.revoke', outcome: 'success' }).first();
      assert.ok(revoked, 'revoking is audited');
    });

    it('sets and clears a follow-up date; a bad date names the field', async () => {
      const task = await waitForTask(h.app, filler, await submit());
      const at = '2030-05-01T09:00:00.000Z';
      const set = await json<{ followUpAt: string }>(
        await h.app.fetch(`/api/v1/tasks/${task}/follow-up`, {
          token: reviewer,
          method: 'PUT',
          json: { followUpAt: at },
        }),
        200,
      );
      assert.equal(set.followUpAt, at);
      const bad = await json<Problem>(
        await h.app.fetch(`/api/v1/tasks/${task}/follow-up`, {
          token: reviewer,
          method: 'PUT',
          json: { followUpAt: 'soon' },
        }),
        422,
      );
      assert.ok(
        bad.errors?.some((e) => e.field === 'followUpAt'),
        JSON.stringify(bad),
      );
      const healthReviewer = await h.app.login('health-reviewer');
      assert.equal(
        (
          await h.app.fetch(`/api/v1/tasks/${task}/follow-up`, {
            token: healthReviewer,
            method: 'PUT',
            json: { followUpAt: at },
          })
        ).status,
        403,
      );
      const cleared = await json<{ followUpAt: null }>(
        await h.app.fetch(`/api/v1/tasks/${task}/follow-up`, {
          token: reviewer,
          method: 'PUT',
          json: { followUpAt: null },
        }),
        200,
      );
      assert.equal(cleared.followUpAt, null);
    });

    it('bulk approve of 50 tasks with two refused in the middle reports 48 approved and 2 refused with reasons', async () => {
      const apps: string[] = [];
      for (let i = 0; i < 50; i += 5) apps.push(...(await Promise.all([0, 1, 2, 3, 4].map(() => submit()))));
      const tasks: number[] = [];
      for (const app of apps) tasks.push(await waitForTask(h.app, filler, app));

      // #20: its first step already approved by the same reviewer, so the list names its second step (four-eyes).
      const fourEyes = await json<ApplicationState>(await decide(reviewer, tasks[20]!), 200);
      tasks[20] = fourEyes.currentStep!.taskId;
      // #35: claimed by a colleague.
      await json(await h.app.fetch(`/api/v1/tasks/${tasks[35]}/claim`, { token: rev2, json: {} }), 200);

      const answer = await json<BulkAnswer>(
        await h.app.fetch('/api/v1/tasks/decisions', {
          token: reviewer,
          json: { taskIds: tasks, decision: 'approve' },
        }),
        200,
      );
      assert.deepEqual(answer.counts, { decided: 48, refused: 2 });
      assert.deepEqual(
        answer.items.map((i) => i.taskId),
        tasks,
        'one answer per task, in order',
      );
      const refused = answer.items.filter((i) => i.outcome === 'refused');
      assert.deepEqual(
        refused.map((i) => [i.taskId, i.status]),
        [
          [tasks[20], 403],
          [tasks[35], 409],
        ],
      );
      assert.match(refused[0]!.reason!, /four-eyes: you already approved/);
      assert.match(refused[1]!.reason!, /claimed by market-rev2/);
      assert.equal(answer.items.filter((i) => i.outcome === 'approved').length, 48);
      const approvedRows = await h.t.db('tasks').whereIn('id', tasks).where({ decision: 'approve' }).count({ n: '*' });
      assert.equal(Number(approvedRows[0]!.n), 48);
      const audit = await h.t.db('audit_log').where({ action: 'task.bulk-decide' }).first();
      assert.match(audit.detail, /four-eyes/);
    });

    it('returns many with one comment; without a comment each is refused by its own validation', async () => {
      const tasks = await Promise.all([submit(), submit()].map(async (a) => waitForTask(h.app, filler, await a)));
      const none = await json<BulkAnswer>(
        await h.app.fetch('/api/v1/tasks/decisions', { token: reviewer, json: { taskIds: tasks, decision: 'return' } }),
        200,
      );
      assert.deepEqual(
        none.items.map((i) => [i.outcome, i.status]),
        [
          ['refused', 422],
          ['refused', 422],
        ],
      );
      const returned = await json<BulkAnswer>(
        await h.app.fetch('/api/v1/tasks/decisions', {
          token: reviewer,
          json: { taskIds: tasks, decision: 'return', comment: '地址有误' },
        }),
        200,
      );
      assert.deepEqual(
        returned.items.map((i) => i.outcome),
        ['returned', 'returned'],
      );
      const tooMany = await json<Problem>(
        await h.app.fetch('/api/v1/tasks/decisions', {
          token: reviewer,
          json: { taskIds: Array.from({ length: 101 }, (_, i) => i + 1), decision: 'approve' },
        }),
        422,
      );
      assert.ok(tooMany.errors?.some((e) => e.field === 'taskIds'));
      const empty = await json<Problem>(
        await h.app.fetch('/api/v1/tasks/decisions', { token: reviewer, json: { taskIds: [], decision: 'approve' } }),
        422,
      );
      assert.ok(empty.errors?.some((e) => e.field === 'taskIds'));
    });

    it('sealing officers seal a batch of applications waiting for them (online-seal) the same way', async () => {
      const admin = await h.app.login('market-admin');
      const { apiKey } = await json<{ apiKey: string }>(
        await h.app.fetch('/api/v1/api-clients', {
          token: admin,
          json: { name: '审批系统', department: 'market', scopes: ['applications:write', 'applications:read'] },
        }),
        201,
      );
      const sealTasks: number[] = [];
      for (let i = 0; i < 2; i++) {
        const { id } = await json<{ id: string }>(
          await h.app.fetch('/api/v1/applications', { apiKey, json: { ...LICENCE, mode: 'online-seal' } }),
          201,
        );
        let task: { id: number } | undefined;
        for (let n = 0; n < 200 && !task; n++) {
          task = await h.t.db('tasks').where({ application_id: id, status: 'open' }).first('id');
          if (!task) await new Promise((r) => setTimeout(r, 100));
        }
        assert.ok(task, `the seal step of ${id} opened`);
        sealTasks.push(Number(task.id));
      }
      const sealer = await h.app.login('market-sealer');
      const answer = await json<BulkAnswer>(
        await h.app.fetch('/api/v1/tasks/decisions', {
          token: sealer,
          json: { taskIds: sealTasks, decision: 'approve' },
        }),
        200,
      );
      assert.deepEqual(
        answer.items.map((i) => [i.outcome, (i as { applicationStatus?: string }).applicationStatus]),
        [
          ['approved', 'sealing'],
          ['approved', 'sealing'],
        ],
      );
    });

    it("replays this file's runs, delegated decisions included, deterministically with the current workflow code", async () => {
      const env = await temporalEnv();
      const delegated = await h.t.db('tasks').whereNotNull('acting_for').pluck('application_id');
      assert.ok(delegated.length >= 1);
      const rows = await h.t.db('applications').select('workflow_id', 'id').limit(20);
      const ids = new Set([...delegated, ...rows.map((r) => r.id as string)]);
      for (const id of ids) {
        const workflowId = `issuance-${id}`;
        const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
        await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, workflowId);
        // RECORD_HISTORIES=1 keeps a delegated run among the fixtures later releases must replay.
        const fixture = path.resolve(__dirname, '../workflows/histories/issuance-acting-for.pb');
        if (process.env.RECORD_HISTORIES && id === delegated[0] && !fs.existsSync(fixture))
          fs.writeFileSync(fixture, temporal.api.history.v1.History.encode(history).finish());
      }
    });
  });
