import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash, createHmac } from 'node:crypto';
import { temporalEnv } from '../support/temporal';
import { issuanceHarness, json, LICENCE, waitForStatus, type IssuanceHarness } from '../support/issuance';
import { insertBulkCertificates } from '../support/bulk-certificates';
import { requireService, TEST_MYSQL_URL } from '../support/services';
import { expirySweepWorkflow } from '../../workflows/lifecycle';
import { ensureExpirySchedule, EXPIRY_SCHEDULE_ID } from '../../main/schedules';
import { certificateCacheKey } from '../../db/certificate-cache';
import { listOutboxAttempts, listOutboxMessages } from '../../db/outbox';

describe('expiry sweep on a large catalog [mysql]', function () {
  this.timeout(240_000);
  let h: IssuanceHarness;

  before(async function () {
    try {
      h = await issuanceHarness('mysql');
    } catch (err) {
      requireService(this, `MariaDB at ${TEST_MYSQL_URL}`, err);
    }
  });
  after(() => h?.close());

  it('expires exactly the certificates past their end date, in batches across continue-as-new, and records reminders', async () => {
    const sealId = (await h.t.db('seals').first()).id;
    const asOf = '2026-06-01';
    const due = await insertBulkCertificates(h.t.db, { count: 8000, validUntil: '2026-05-31', sealId });
    const fine = await insertBulkCertificates(h.t.db, { count: 6000, validUntil: '2026-06-01', sealId });
    const soon = await insertBulkCertificates(h.t.db, { count: 1500, validUntil: '2026-06-20', sealId });
    await insertBulkCertificates(h.t.db, { count: 2500, validUntil: null, sealId });
    await insertBulkCertificates(h.t.db, { count: 2000, validUntil: '2025-01-01', status: 'revoked', sealId });
    await h.deps.cache.set(certificateCacheKey(due[0]!), '{"status":"valid"}');

    const env = await temporalEnv();
    const handle = await env.client.workflow.start(expirySweepWorkflow, {
      taskQueue: h.worker.taskQueue,
      workflowId: `expiry-test-${Date.now()}`,
      args: [{ asOf, batchSize: 1000, maxBatchesPerRun: 3, reminderDays: 30 }],
    });
    const result = await handle.result();
    assert.deepEqual(result, { asOf, expired: 8000, reminded: 1500 + 6000 });

    const byStatus = Object.fromEntries(
      (
        (await h.t.db('certificates').select('status').count({ n: '*' }).groupBy('status')) as {
          status: string;
          n: number | string;
        }[]
      ).map((r) => [r.status, Number(r.n)]),
    );
    assert.deepEqual(byStatus, { expired: 8000, valid: 6000 + 1500 + 2500, revoked: 2000 });
    assert.equal(
      Number(
        (
          await h.t.db('certificates').whereIn('number', due.slice(0, 500)).where('status', 'expired').count({ n: '*' })
        )[0]!.n,
      ),
      500,
    );
    assert.equal(
      Number(
        (
          await h.t.db('certificates').whereIn('number', fine.slice(0, 500)).where('status', 'valid').count({ n: '*' })
        )[0]!.n,
      ),
      500,
      'the last valid day is still valid',
    );
    assert.equal(
      await h.deps.cache.get(certificateCacheKey(due[0]!)),
      undefined,
      'expired certificates leave the cache',
    );
    assert.equal(
      Number(
        (
          await h.t
            .db('status_notices')
            .where({ event: 'expiring' })
            .whereIn('number', soon.slice(0, 100))
            .count({ n: '*' })
        )[0]!.n,
      ),
      100,
    );
    const reminders = await listOutboxMessages(h.t.db, { event: 'certificate.expiring' });
    assert.deepEqual(reminders, [], 'their applications have no callback URL: nothing to send');

    // It continued as new: more than one run under the same workflow ID.
    const runs = [];
    for await (const w of env.client.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` })) runs.push(w);
    assert.ok(runs.length >= 3, `runs: ${runs.length}`);

    const again = await env.client.workflow.execute(expirySweepWorkflow, {
      taskQueue: h.worker.taskQueue,
      workflowId: `expiry-again-${Date.now()}`,
      args: [{ asOf, batchSize: 1000 }],
    });
    assert.deepEqual([again.expired, again.reminded], [0, 0], 'a second sweep finds nothing to do');
    const audits = await h.t.db('audit_log').where({ action: 'certificate.expire' }).count({ n: '*' });
    assert.equal(Number(audits[0]!.n), 8, 'one audit entry per batch');
  });

  it('is scheduled by a Temporal Schedule that operators can trigger', async () => {
    const env = await temporalEnv();
    await ensureExpirySchedule(env.client, { taskQueue: h.worker.taskQueue, everyMinutes: 60, reminderDays: 30 });
    // Twice is fine: the second call finds the schedule and leaves it.
    await ensureExpirySchedule(env.client, { taskQueue: h.worker.taskQueue, everyMinutes: 60, reminderDays: 30 });
    const schedule = env.client.schedule.getHandle(EXPIRY_SCHEDULE_ID);
    try {
      const described = await schedule.describe();
      assert.equal(described.action.type, 'startWorkflow');
      await schedule.trigger();
      let runs: unknown[] = [];
      for (let i = 0; i < 100 && runs.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 200));
        runs = [];
        for await (const w of env.client.workflow.list({
          query: `WorkflowType = 'expirySweepWorkflow' AND WorkflowId STARTS_WITH 'expiry-sweep'`,
        }))
          runs.push(w);
      }
      assert.ok(runs.length >= 1, 'the trigger started a sweep');
    } finally {
      await schedule.delete();
    }
  });
});

describe('revocation', function () {
  this.timeout(120_000);
  let h: IssuanceHarness;
  let number = '';
  const received: { event: string; body: string; headers: http.IncomingHttpHeaders }[] = [];
  let apiKey = '';
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ event: String(req.headers['x-certflow-event']), body, headers: req.headers });
      res.end('ok');
    });
  });

  before(async () => {
    h = await issuanceHarness('sqlite');
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const admin = await h.app.login('market-admin');
    const origin = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
    const client = {
      name: '审批系统',
      department: 'market',
      scopes: ['applications:write', 'applications:read'],
      callbackOrigins: [origin],
    };
    apiKey = (
      await json<{ apiKey: string }>(await h.app.fetch('/api/v1/api-clients', { token: admin, json: client }), 201)
    ).apiKey;
    const callbackUrl = `${origin}/hook`;
    const { id } = await json<{ id: string }>(
      await h.app.fetch('/api/v1/applications', { apiKey, json: { ...LICENCE, mode: 'auto-seal', callbackUrl } }),
      201,
    );
    const done = (await waitForStatus(h.app, admin, id, 'issued', 60_000)) as unknown as { certificateNumber: string };
    number = done.certificateNumber;
  });
  after(async () => {
    receiver.close();
    await h?.close();
  });

  it("lets only the issuing department's admin revoke, with a reason; the status changes at once, cache included", async () => {
    const handler = await h.app.login('market-handler');
    const before = await json<{ status: string }>(
      await h.app.fetch(`/api/v1/certificates/${number}`, { token: handler }),
      200,
    );
    assert.equal(before.status, 'valid'); // now cached

    assert.equal(
      (
        await h.app.fetch(`/api/v1/certificates/${number}/revoke`, {
          token: await h.app.login('health-admin'),
          json: { reason: '越权' },
        })
      ).status,
      403,
    );
    assert.equal(
      (await h.app.fetch(`/api/v1/certificates/${number}/revoke`, { token: handler, json: { reason: '无权限' } }))
        .status,
      403,
    );
    const admin = await h.app.login('market-admin');
    assert.equal((await h.app.fetch(`/api/v1/certificates/${number}/revoke`, { token: admin, json: {} })).status, 422);

    const revoked = await json<{ status: string; changedAt: string }>(
      await h.app.fetch(`/api/v1/certificates/${number}/revoke`, {
        token: admin,
        json: { reason: '以欺骗手段取得许可' },
      }),
      200,
    );
    assert.equal(revoked.status, 'revoked');
    const after = await json<{ status: string }>(
      await h.app.fetch(`/api/v1/certificates/${number}`, { token: handler }),
      200,
    );
    assert.equal(after.status, 'revoked', 'the cached copy was dropped');
    assert.equal(
      (await h.app.fetch(`/api/v1/certificates/${number}/revoke`, { token: admin, json: { reason: '再次' } })).status,
      409,
    );

    const audit = await h.t.db('audit_log').where({ category: 'revocation', object_id: number }).first();
    assert.equal(audit.actor_name, 'market-admin');
    assert.match(audit.detail, /以欺骗手段取得许可/);
  });

  it('tells the business system, signed like every callback', async () => {
    for (let i = 0; i < 100 && !received.some((r) => r.event === 'certificate.revoked'); i++)
      await new Promise((r) => setTimeout(r, 100));
    const notice = received.find((r) => r.event === 'certificate.revoked');
    assert.ok(notice, JSON.stringify(received.map((r) => r.event)));
    assert.equal(JSON.parse(notice.body).status, 'revoked');
    assert.equal(JSON.parse(notice.body).certificateNumber, number);
    const { key } = await json<{ key: string }>(await h.app.fetch('/api/v1/callbacks/signing-key', { apiKey }), 200);
    const hmac = (body: string) =>
      'sha256=' + createHmac('sha256', Buffer.from(key, 'base64')).update(body).digest('hex');
    const signature = notice.headers['x-certflow-signature'];
    assert.equal(signature, hmac(notice.body), 'the business system verifies it with its key');
    assert.equal(notice.headers['x-certflow-body-sha256'], createHash('sha256').update(notice.body).digest('hex'));
    const [msg, ...more] = await listOutboxMessages(h.t.db, { subject: number, event: 'certificate.revoked' });
    assert.equal(more.length, 0);
    assert.deepEqual(
      [msg!.status, msg!.body, String(msg!.id)],
      ['delivered', notice.body, notice.headers['x-certflow-delivery']],
    );
    const attempts = await listOutboxAttempts(h.t.db, msg!.id);
    assert.deepEqual(
      attempts.map((a) => [a.outcome, a.statusCode]),
      [['delivered', 200]],
    );
    // The issuance callback before it went through the same outbox, signed the same way.
    const issued = received.find((r) => r.event === 'certificate.issued')!;
    assert.equal(issued.headers['x-certflow-signature'], hmac(issued.body));
    assert.equal(issued.headers['x-certflow-body-sha256'], createHash('sha256').update(issued.body).digest('hex'));
  });
});
