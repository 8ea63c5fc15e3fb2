import assert from 'node:assert/strict';
import http from 'node:http';
import { issuanceHarness, json, LICENCE, waitForStatus, type IssuanceHarness } from '../support/issuance';
import { temporalEnv } from '../support/temporal';
import { suspensionWorkflow } from '../../workflows/suspension';
import { chinaDate } from '../../domain/calendar';
import { listOutboxMessages } from '../../db/outbox';
import { getStatusEntry } from '../../db/credentials';
import { getStatusPush } from '../../db/catalog-status';

/**
 * Issue 16, item 2 (docs/lifecycle.md): suspension by the issuing department's admin, verify
 * while suspended, reinstatement by hand and by the durable timer (across a worker restart), and
 * the business system told of both.
 */
describe('suspension and reinstatement', function () {
  this.timeout(180_000);
  let h: IssuanceHarness;
  let admin = '';
  const received: { event: string; body: Record<string, unknown> }[] = [];
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ event: String(req.headers['x-certflow-event']), body: JSON.parse(body) });
      res.end('ok');
    });
  });

  before(async () => {
    h = await issuanceHarness('sqlite');
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    admin = await h.app.login('market-admin');
  });
  after(async () => {
    receiver.close();
    await h?.close();
  });

  async function issued(externalRef: string): Promise<string> {
    const origin = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
    const client = {
      name: `审批系统 ${externalRef}`,
      department: 'market',
      scopes: ['applications:write', 'applications:read'],
      callbackOrigins: [origin],
    };
    const { apiKey } = await json<{ apiKey: string }>(
      await h.app.fetch('/api/v1/api-clients', { token: admin, json: client }),
      201,
    );
    const body = { ...LICENCE, mode: 'auto-seal', externalRef, callbackUrl: `${origin}/hook` };
    const { id } = await json<{ id: string }>(await h.app.fetch('/api/v1/applications', { apiKey, json: body }), 201);
    const done = await waitForStatus(h.app, admin, id, 'issued', 120_000);
    return (done as unknown as { certificateNumber: string }).certificateNumber;
  }
  const status = async (number: string) => (await h.t.db('certificates').where({ number }).first()).status as string;
  const verify = async (number: string) =>
    json<{ verdict: string; checks: { id: string; reason: string }[]; certificate: Record<string, unknown> }>(
      await h.app.fetch(`/api/v1/verify/${number}`),
      200,
    );
  async function eventually(what: string, ok: () => boolean | Promise<boolean>, ms = 60_000) {
    const deadline = Date.now() + ms;
    while (!(await ok())) {
      assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  it("suspends by the issuing department's admin only, with a reason; verify says suspended with its dates", async () => {
    const number = await issued('SUSPEND-1');
    const url = `/api/v1/certificates/${number}/suspend`;
    const other = await h.app.login('health-admin');
    assert.equal((await h.app.fetch(url, { token: other, json: { reason: '越权暂停' } })).status, 403);
    assert.equal(
      (await h.app.fetch(url, { token: await h.app.login('market-handler'), json: { reason: '无权' } })).status,
      403,
    );
    const noReason = await h.app.fetch(url, { token: admin, json: {} });
    assert.equal(noReason.status, 422);
    assert.match(await noReason.text(), /reason/);
    const past = await h.app.fetch(url, { token: admin, json: { reason: '整改', until: '2020-01-01' } });
    assert.equal(past.status, 422);
    assert.match(await past.text(), /until/);
    assert.equal(await status(number), 'valid', 'refused requests change nothing');

    const until = '2099-12-31';
    const s = await json<{ status: string; until: string; reinstateAt: string }>(
      await h.app.fetch(url, { token: admin, json: { reason: '停业整顿', until } }),
      200,
    );
    assert.deepEqual([s.status, s.until, s.reinstateAt], ['suspended', until, '2099-12-31T16:00:00.000Z']);
    assert.equal(await status(number), 'suspended');
    assert.equal((await h.app.fetch(url, { token: admin, json: { reason: '再次暂停' } })).status, 409);
    const report = await verify(number);
    assert.equal(report.verdict, 'invalid');
    assert.equal(report.certificate.status, 'suspended');
    assert.equal(report.certificate.statusCode, '02');
    assert.equal(report.certificate.suspendedUntil, until);
    const check = report.checks.find((c) => c.id === 'status')!;
    assert.match(check.reason, new RegExp(`suspended \\(暂停\\) since \\d{4}-\\d{2}-\\d{2} until ${until}: 停业整顿`));
    // Its W3C credential's suspension bit too (docs/trust.md), so wallets and verifiers see it.
    assert.deepEqual(
      [(await getStatusEntry(h.t.db, number))?.suspended, (await getStatusEntry(h.t.db, number))?.revoked],
      [true, false],
    );
    // And the external catalog is to hear of it (docs/sharing.md, catalog status sync).
    assert.ok(await getStatusPush(h.t.db, number, 'suspended'), 'a catalog push of the suspension is recorded');

    // Reinstated by hand before the end date; the timer then has nothing left to do.
    const reinstate = `/api/v1/certificates/${number}/reinstate`;
    const r = await json<{ status: string }>(
      await h.app.fetch(reinstate, { token: admin, json: { reason: '整改完成' } }),
      200,
    );
    assert.equal(r.status, 'valid');
    assert.equal(await status(number), 'valid');
    assert.equal((await verify(number)).verdict, 'valid');
    assert.equal((await h.app.fetch(reinstate, { token: admin, json: { reason: '再次恢复' } })).status, 409);
    assert.equal((await getStatusEntry(h.t.db, number))?.suspended, false, 'the suspension bit is cleared');
    assert.ok(await getStatusPush(h.t.db, number, 'valid'), 'a catalog push of the reinstatement is recorded');
    const audit = await h.t
      .db('audit_log')
      .where({ object_id: number })
      .whereIn('action', ['certificate.suspend', 'certificate.reinstate']);
    assert.deepEqual(
      audit.map((a) => [a.action, a.actor_name]),
      [
        ['certificate.suspend', 'market-admin'],
        ['certificate.reinstate', 'market-admin'],
      ],
    );
    await eventually('both callbacks', () =>
      ['certificate.suspended', 'certificate.reinstated'].every((e) =>
        received.some((m) => m.event === e && m.body.certificateNumber === number),
      ),
    );
    const suspended = received.find((m) => m.event === 'certificate.suspended' && m.body.certificateNumber === number)!;
    assert.deepEqual(
      [suspended.body.status, suspended.body.reason, suspended.body.suspendedUntil],
      ['suspended', '停业整顿', until],
    );
    const back = received.find((m) => m.event === 'certificate.reinstated' && m.body.certificateNumber === number)!;
    assert.deepEqual([back.body.status, back.body.reason], ['valid', '整改完成']);

    // A second suspension is a message of its own, not a duplicate of the first.
    await json(await h.app.fetch(url, { token: admin, json: { reason: '第二次暂停' } }), 200);
    await eventually(
      'the second suspension callback',
      async () => (await listOutboxMessages(h.t.db, { subject: number, event: 'certificate.suspended' })).length === 2,
    );
    await json(await h.app.fetch(reinstate, { token: admin, json: { reason: '第二次恢复' } }), 200);
  });

  it('ends the suspension run when the suspended certificate is revoked; it stays revoked', async () => {
    const number = await issued('SUSPEND-REVOKE');
    const url = `/api/v1/certificates/${number}`;
    await json(await h.app.fetch(`${url}/suspend`, { token: admin, json: { reason: '立案调查' } }), 200);
    await json(await h.app.fetch(`${url}/revoke`, { token: admin, json: { reason: '查实违法，吊销' } }), 200);
    const env = await temporalEnv();
    const result = await env.client.workflow.getHandle(`suspension-${number}`).result();
    assert.deepEqual([result.reinstated?.changed, result.reinstated?.status], [false, 'revoked']);
    assert.equal(await status(number), 'revoked');
    const row = await h.t.db('certificate_suspensions').where({ number }).first();
    assert.match(row.reinstate_reason, /ended by revoked/);
    assert.equal((await h.app.fetch(`${url}/reinstate`, { token: admin, json: { reason: '恢复' } })).status, 409);
  });

  it('is reinstated by the durable timer at its end, across a worker restart', async () => {
    const number = await issued('SUSPEND-TIMER');
    const env = await temporalEnv();
    // The API's timer ends at midnight after `until`; the same workflow with an instant seconds away.
    const reinstateAt = new Date(Date.now() + 8000).toISOString();
    const handle = await env.client.workflow.start(suspensionWorkflow, {
      taskQueue: h.worker.taskQueue,
      workflowId: `suspension-${number}`,
      args: [
        {
          number,
          reason: '限期整改',
          until: chinaDate(Date.now()),
          reinstateAt,
          actor: { type: 'user', id: 'market-admin', name: 'market-admin' },
        },
      ],
    });
    await eventually('the suspension', async () => (await status(number)) === 'suspended');
    await h.restartWorker(); // the timer lives in Temporal, not in the worker
    await eventually('the timer', async () => (await status(number)) === 'valid', 90_000);
    assert.ok(Date.now() >= Date.parse(reinstateAt), 'not before its time');
    const result = await handle.result();
    assert.equal(result.reinstated?.changed, true);
    const audit = await h.t.db('audit_log').where({ object_id: number, action: 'certificate.reinstate' }).first();
    assert.equal(audit.actor_name, 'suspension-timer');
    assert.equal((await verify(number)).verdict, 'valid');
    await eventually('the reinstated callback', () =>
      received.some((m) => m.event === 'certificate.reinstated' && m.body.certificateNumber === number),
    );
  });
});
