import assert from 'node:assert/strict';
import { issuanceHarness, json, LICENCE, type IssuanceHarness } from '../support/issuance';
import { requireService, TEST_MYSQL_URL } from '../support/services';

/** A business system and two staff members, through HTTP only, on MariaDB. */
describe('issuance through the HTTP API, as an approval system and staff use it [mysql]', function () {
  this.timeout(120_000);
  let h: IssuanceHarness;
  let apiKey = '';

  before(async function () {
    try {
      h = await issuanceHarness('mysql');
    } catch (err) {
      requireService(this, `MariaDB at ${TEST_MYSQL_URL}`, err);
    }
    const admin = await h.app.login('market-admin');
    apiKey = (
      await json<{ apiKey: string }>(
        await h.app.fetch('/api/v1/api-clients', {
          token: admin,
          json: {
            name: '企业开办一网通办审批系统',
            department: 'market',
            scopes: ['applications:write', 'applications:read'],
            callbackOrigins: ['https://approval.example.gov.cn'],
          },
        }),
        201,
      )
    ).apiKey;
  });
  after(() => h?.close());

  it('submits by API key, the reviewer and the sealing officer decide in their inbox, the system reads the result', async () => {
    const submitted = await json<{ id: string; status: string }>(
      await h.app.fetch('/api/v1/applications', {
        apiKey,
        json: { ...LICENCE, externalRef: 'QY-2026-000123', callbackUrl: 'https://approval.example.gov.cn/callback' },
      }),
      201,
    );
    assert.equal(submitted.status, 'in-review');
    const retried = await json<{ id: string }>(
      await h.app.fetch('/api/v1/applications', { apiKey, json: { ...LICENCE, externalRef: 'QY-2026-000123' } }),
      200,
    );
    assert.equal(retried.id, submitted.id, 'the same external reference returns the same application');

    const reviewer = await h.app.login('market-reviewer');
    let inbox = { items: [] as { id: number; applicationId: string; stepName: string; holderName: string }[] };
    for (let i = 0; i < 100 && !inbox.items.some((t) => t.applicationId === submitted.id); i++) {
      await new Promise((r) => setTimeout(r, 100));
      inbox = await json(await h.app.fetch('/api/v1/tasks?view=queue', { token: reviewer }), 200);
    }
    const task = inbox.items.find((t) => t.applicationId === submitted.id)!;
    assert.equal(task.stepName, '审核');
    assert.equal(task.holderName, LICENCE.holder.name);
    const detail = await json<{
      application: {
        faceData: Record<string, string>;
        holder: { id: string };
        faceFields: { key: string; label: string }[];
      };
      history: { kind: string; actor: string }[];
    }>(await h.app.fetch(`/api/v1/tasks/${task.id}`, { token: reviewer }), 200);
    assert.deepEqual(
      detail.history.slice(0, 2).map((e) => e.kind),
      ['submitted', 'task-opened'],
    );
    assert.equal(detail.history[0]!.actor, '企业开办一网通办审批系统');
    assert.equal(detail.application.faceData.legalRepresentative, '张三');
    assert.equal(detail.application.holder.id, '913301********4DB0', 'the holder ID is masked');
    assert.equal(detail.application.faceFields.find((f) => f.key === 'entityName')?.label, '名称');
    await json(await h.app.fetch(`/api/v1/tasks/${task.id}/claim`, { token: reviewer, json: {} }), 200);
    const next = await json<{ currentStep: { taskId: number } }>(
      await h.app.fetch(`/api/v1/tasks/${task.id}/decision`, {
        token: reviewer,
        json: { decision: 'approve', comment: '同意' },
      }),
      200,
    );

    const sealer = await h.app.login('market-sealer');
    const sealQueue = await json<{ items: { id: number }[] }>(
      await h.app.fetch('/api/v1/tasks', { token: sealer }),
      200,
    );
    assert.ok(sealQueue.items.some((t) => t.id === next.currentStep.taskId));
    await json(
      await h.app.fetch(`/api/v1/tasks/${next.currentStep.taskId}/decision`, {
        token: sealer,
        json: { decision: 'approve' },
      }),
      200,
    );

    assert.equal(
      (await h.app.fetch(`/api/v1/applications/${submitted.id}`)).status,
      401,
      'anonymous callers cannot read applications',
    );
    const seen = await json<{ status: string; history: { kind: string }[] }>(
      await h.app.fetch(`/api/v1/applications/${submitted.id}`, { apiKey }),
      200,
    );
    assert.ok(['sealing', 'issued'].includes(seen.status));
    const calls = await h.t.db('audit_log').where({ category: 'api-call' }).pluck('action');
    assert.ok(
      calls.includes('POST /api/v1/applications') && calls.includes('GET /api/v1/applications/:id'),
      calls.join(),
    );
  });

  it('auto-seal mode runs no chain; online-seal mode answers with the sealing page', async () => {
    const auto = await json<{ id: string }>(
      await h.app.fetch('/api/v1/applications', { apiKey, json: { ...LICENCE, mode: 'auto-seal' } }),
      201,
    );
    await waitForStatusByKey(auto.id, 'issued');
    assert.equal((await h.t.db('tasks').where({ application_id: auto.id })).length, 0);

    const online = await json<{ id: string; sealingUrl: string }>(
      await h.app.fetch('/api/v1/applications', { apiKey, json: { ...LICENCE, mode: 'online-seal' } }),
      201,
    );
    assert.equal(online.sealingUrl, `${h.deps.config.http.publicUrl}/seal/${online.id}`);
    await waitForStatusByKey(online.id, 'in-review');
    for (let i = 0; i < 50 && !(await h.t.db('tasks').where({ application_id: online.id }).first()); i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(await h.t.db('tasks').where({ application_id: online.id }).pluck('role'), ['sealing-officer']);

    const filler = await h.app.login('market-filler');
    assert.equal(
      (await h.app.fetch('/api/v1/applications', { token: filler, json: { ...LICENCE, mode: 'auto-seal' } })).status,
      403,
      'staff go through review',
    );
  });

  it("lets a business system of another department neither submit nor read market's applications", async () => {
    const healthAdmin = await h.app.login('health-admin');
    const other = (
      await json<{ apiKey: string }>(
        await h.app.fetch('/api/v1/api-clients', {
          token: healthAdmin,
          json: { name: '卫健审批', department: 'health', scopes: ['applications:write', 'applications:read'] },
        }),
        201,
      )
    ).apiKey;
    assert.equal((await h.app.fetch('/api/v1/applications', { apiKey: other, json: LICENCE })).status, 403);
    const any = await h.t.db('applications').first();
    assert.equal((await h.app.fetch(`/api/v1/applications/${any.id}`, { apiKey: other })).status, 403);
  });

  async function waitForStatusByKey(id: string, status: string) {
    for (let i = 0; i < 200; i++) {
      const a = await json<{ status: string }>(await h.app.fetch(`/api/v1/applications/${id}`, { apiKey }), 200);
      if (a.status === status) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${id} never reached ${status}`);
  }
});
