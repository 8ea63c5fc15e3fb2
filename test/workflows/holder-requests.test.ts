import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { holderHarness, type HolderHarness } from '../support/holder';
import { startGateway, type Gateway, type Received } from '../support/gateway';
import { verifyAuditChain } from '../../db/audit';
import { getCertificate } from '../../db/certificates';
import { listOutboxAttempts, listOutboxMessages } from '../../db/outbox';
import { DEMO_HOLDERS } from '../../db/seed-demo';
import { expirySweepWorkflow } from '../../workflows/lifecycle';
import { temporalEnv } from '../support/temporal';
import { TEST_MYSQL_URL, requireService } from '../support/services';

/**
 * Reminders and requests of the holder portal (docs/holders.md) over HTTP, on real Temporal:
 * a holder's correction and cancellation requests through the department's inbox, their
 * deadline, the outcome in the portal and at the notification gateway (a real HTTP receiver),
 * and expiry reminders in the portal and at the gateway.
 */

const SECRET = 'holder-gateway-test-secret-0123456789abcdef';

type RequestBody = { id: number; status: string; outcome: string | null; comment: string | null; kind: string };

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function signedBody(r: Received) {
  const expected = `sha256=${createHmac('sha256', SECRET).update(r.body, 'utf8').digest('hex')}`;
  assert.equal(r.headers['x-certflow-signature'], expected, 'signed with HOLDER_NOTIFY_SECRET');
  return JSON.parse(r.body) as Record<string, unknown> & { recipient: Record<string, string> };
}

for (const kind of ['sqlite', 'mysql'] as const)
  describe(`holder reminders and requests [${kind}]`, function () {
    this.timeout(180_000);
    let h: HolderHarness;
    let gateway: Gateway;
    let company: string;
    let person: string;

    before(async function () {
      gateway = await startGateway();
      try {
        // Requests fall overdue after ~4 s here, so the escalation is seen without waiting days.
        h = await holderHarness(kind, {
          holder: { notify: { url: gateway.url, secret: SECRET }, requestDeadlineHours: 4 / 3600 },
        });
      } catch (err) {
        if (kind === 'mysql') requireService(this, `MariaDB at ${TEST_MYSQL_URL}`, err);
        throw err;
      }
      company = await h.signIn('demo-company');
      person = await h.signIn('demo-person');
    });
    after(async () => {
      await h?.close();
      await gateway?.close();
    });

    const file = (holder: string, json: Record<string, unknown>) =>
      h.fetch('/api/v1/holder/requests', { method: 'POST', holder, json });

    it('takes a correction to the handlers’ inbox, escalates it when overdue, and tells the holder the outcome', async () => {
      const fields = (await (
        await h.fetch(`/api/v1/holder/certificates/${h.numbers.companyBL}/request-fields`, { holder: company })
      ).json()) as { items: { key: string; label: string }[] };
      assert.ok(fields.items.some((f) => f.key === 'holder.name'));
      const bad = await file(company, {
        certificateNumber: h.numbers.companyBL,
        kind: 'correct',
        statement: '名称错了',
      });
      assert.equal(bad.status, 422);
      assert.equal(((await bad.json()) as { errors: { field: string }[] }).errors[0]!.field, 'field');

      const res = await file(company, {
        certificateNumber: h.numbers.companyBL,
        kind: 'correct',
        field: 'holder.name',
        statement: '名称应为“杭州西湖示例科技有限公司”，证上少了“示例”二字',
      });
      assert.equal(res.status, 201, await res.clone().text());
      const request = (await res.json()) as RequestBody;
      assert.equal(request.status, 'open');

      const handler = await h.login('market-handler');
      const task = await until('the task in the market handlers’ queue', async () => {
        const r = await h.fetch('/api/v1/tasks?view=queue', { token: handler });
        const items = ((await r.json()) as { items: { id: number; requestId: number | null }[] }).items;
        return items.find((t) => t.requestId === request.id);
      });
      // Nobody else: another department's handler, another holder, the same holder via the task route.
      const healthHandler = await h.login('health-handler');
      assert.equal((await h.fetch(`/api/v1/holder-requests/${request.id}`, { token: healthHandler })).status, 404);
      assert.equal((await h.fetch(`/api/v1/holder/requests/${request.id}`, { holder: person })).status, 404);
      const theirs = (await (await h.fetch('/api/v1/holder/requests', { holder: person })).json()) as {
        items: unknown[];
      };
      assert.equal(theirs.items.length, 0);
      const other = await file(person, { certificateNumber: h.numbers.companyBL, kind: 'cancel', statement: '注销' });
      assert.equal(other.status, 404, "a holder cannot file about another holder's certificate");
      const viaTask = await h.fetch(`/api/v1/tasks/${task.id}/decision`, {
        method: 'POST',
        token: handler,
        json: { decision: 'approve' },
      });
      assert.equal(viaTask.status, 409);

      // Past the deadline the workflow marks the task overdue and hands it to the department admin too.
      const admin = await h.login('market-admin');
      await until('the escalation', async () => {
        const r = await h.fetch(`/api/v1/holder-requests/${request.id}`, { token: admin });
        const body = (await r.json()) as { task: { overdue: boolean; escalated: boolean }; mayDecide: boolean };
        return body.task.escalated && body.task.overdue && body.mayDecide;
      });

      const noReason = await h.fetch(`/api/v1/holder-requests/${request.id}/decision`, {
        method: 'POST',
        token: handler,
        json: { decision: 'reject' },
      });
      assert.equal(noReason.status, 422);
      gateway.failNext(1, 503);
      const decided = await h.fetch(`/api/v1/holder-requests/${request.id}/decision`, {
        method: 'POST',
        token: handler,
        json: { decision: 'accept', comment: '核实无误，将换发新证' },
      });
      assert.equal(decided.status, 200, await decided.clone().text());
      assert.deepEqual(
        ((await decided.json()) as RequestBody).outcome,
        'will-correct',
        'a correction is recorded; the corrected certificate is issued separately',
      );
      const again = await h.fetch(`/api/v1/holder-requests/${request.id}/decision`, {
        method: 'POST',
        token: admin,
        json: { decision: 'reject', comment: '重复' },
      });
      assert.equal(again.status, 409);

      const mine = (await (await h.fetch('/api/v1/holder/requests', { holder: company })).json()) as {
        items: RequestBody[];
      };
      const shown = mine.items.find((r) => r.id === request.id)!;
      assert.deepEqual(
        [shown.status, shown.outcome, shown.comment],
        ['accepted', 'will-correct', '核实无误，将换发新证'],
      );
      const usage = (await (await h.fetch('/api/v1/holder/usage', { holder: company })).json()) as {
        items: { use: string; who: { name: string } }[];
      };
      assert.ok(usage.items.some((u) => u.use === 'request-accepted' && u.who.name === 'market-handler'));
      assert.ok(usage.items.some((u) => u.use === 'request-overdue'));

      // The gateway refused the first POST; the activity's retry delivered it, and both attempts are recorded.
      const [msg] = await until('the delivered notification', async () => {
        const list = await listOutboxMessages(h.t.db, { event: 'holder.request-decided' });
        return list.length && list[0]!.status === 'delivered' ? list : undefined;
      });
      const attempts = await listOutboxAttempts(h.t.db, msg!.id);
      assert.deepEqual(
        attempts.map((a) => a.outcome),
        ['failed', 'delivered'],
      );
      const posts = gateway.received.filter((r) => r.headers['x-certflow-event'] === 'holder.request-decided');
      assert.equal(posts.length, 2);
      assert.equal(posts[0]!.body, posts[1]!.body, 'the same bytes on every attempt');
      const body = signedBody(posts[1]!);
      assert.equal(body.recipient.holderKind, 'entity');
      assert.ok(body.recipient.subject, 'the identity provider subject of the last sign-in');
      assert.deepEqual(body.request, { id: request.id, kind: 'correct', status: 'accepted', outcome: 'will-correct' });
      assert.ok(!posts[1]!.body.includes(DEMO_HOLDERS.company.id), 'no credit code');
      assert.ok(!posts[1]!.body.includes(DEMO_HOLDERS.company.name), 'no name');
    });

    it('files one of several identical requests sent at once', async () => {
      const json = { certificateNumber: h.numbers.personPQ, kind: 'correct', field: 'other', statement: '照片有误' };
      const answers = await Promise.all([1, 2, 3, 4].map(() => file(person, json)));
      assert.deepEqual(answers.map((a) => a.status).sort(), [201, 409, 409, 409]);
      const open = await h.t.db('holder_requests').where({ certificate_number: h.numbers.personPQ, status: 'open' });
      assert.equal(open.length, 1);
    });

    it('lets only the department admin accept a cancellation, which cancels the certificate', async () => {
      const res = await file(company, {
        certificateNumber: h.numbers.companyFBP,
        kind: 'cancel',
        statement: '门店已停业，申请注销',
      });
      assert.equal(res.status, 201);
      const request = (await res.json()) as RequestBody;
      const dup = await file(company, {
        certificateNumber: h.numbers.companyFBP,
        kind: 'cancel',
        statement: '再次申请',
      });
      assert.equal(dup.status, 409, 'one open cancellation at a time');

      const handler = await h.login('market-handler');
      const admin = await h.login('market-admin');
      const view = await until('the request task', async () => {
        const r = await h.fetch(`/api/v1/holder-requests/${request.id}`, { token: handler });
        return r.status === 200 ? ((await r.json()) as { mayDecide: boolean; task: { role: string } }) : undefined;
      });
      assert.equal(view.task.role, 'department-admin');
      assert.equal(view.mayDecide, false);
      const refused = await h.fetch(`/api/v1/holder-requests/${request.id}/decision`, {
        method: 'POST',
        token: handler,
        json: { decision: 'accept' },
      });
      assert.equal(refused.status, 403);
      const denied = await h.t
        .db('audit_log')
        .where({ category: 'authorization', action: 'holder-request.decide', outcome: 'denied' })
        .first();
      assert.ok(denied, 'the refusal is audited');
      const ok = await h.fetch(`/api/v1/holder-requests/${request.id}/decision`, {
        method: 'POST',
        token: admin,
        json: { decision: 'accept', comment: '同意注销' },
      });
      assert.equal(ok.status, 200, await ok.clone().text());
      assert.equal(((await ok.json()) as RequestBody).outcome, 'cancelled');
      assert.equal((await getCertificate(h.t.db, h.numbers.companyFBP))!.status, 'cancelled');
      const after = await file(company, { certificateNumber: h.numbers.companyFBP, kind: 'cancel', statement: '注销' });
      assert.equal(after.status, 409, 'nothing left to cancel');

      // The cancellation is also a notice the holder sees among the reminders.
      const reminders = (await (await h.fetch('/api/v1/holder/reminders', { holder: company })).json()) as {
        items: { certificateNumber: string; event: string }[];
      };
      assert.ok(reminders.items.some((r) => r.certificateNumber === h.numbers.companyFBP && r.event === 'cancelled'));
    });

    it('shows expiry reminders to their holder only, read and unread, and sends them signed to the gateway', async () => {
      const env = await temporalEnv();
      const asOf = new Date().toISOString().slice(0, 10);
      // The person's certificate ends in about two years; a window of 800 days takes it in.
      await env.client.workflow.execute(expirySweepWorkflow, {
        taskQueue: h.worker.taskQueue,
        workflowId: `expiry-holder-test-${kind}-${Date.now()}`,
        args: [{ asOf, reminderDays: 800 }],
      });
      const list = (await (await h.fetch('/api/v1/holder/reminders', { holder: person })).json()) as {
        items: { id: number; certificateNumber: string; event: string; dueOn: string; readAt: string | null }[];
        unread: number;
      };
      const reminder = list.items.find((r) => r.event === 'expiring');
      assert.ok(reminder, JSON.stringify(list));
      assert.equal(reminder.certificateNumber, h.numbers.personPQ);
      assert.equal(list.unread, 1);
      const companyList = (await (await h.fetch('/api/v1/holder/reminders', { holder: company })).json()) as {
        items: { certificateNumber: string }[];
      };
      assert.ok(!companyList.items.some((r) => r.certificateNumber === h.numbers.personPQ));
      const read = await h.fetch('/api/v1/holder/reminders/read', { method: 'POST', holder: person, json: {} });
      assert.equal(((await read.json()) as { marked: number }).marked, 1);
      const after = (await (await h.fetch('/api/v1/holder/reminders', { holder: person })).json()) as {
        unread: number;
      };
      assert.equal(after.unread, 0);

      const post = gateway.received.find((r) => r.headers['x-certflow-event'] === 'holder.certificate-expiring');
      assert.ok(post, 'the sweep sent the reminder to the gateway');
      const body = signedBody(post);
      assert.equal(body.recipient.holderKind, 'person');
      assert.deepEqual((body.certificate as { number: string }).number, h.numbers.personPQ);
      assert.equal(body.validUntil, reminder.dueOn);
      assert.ok(!post.body.includes(DEMO_HOLDERS.person.id) && !post.body.includes(DEMO_HOLDERS.person.name));
      const [msg] = await listOutboxMessages(h.t.db, { event: 'holder.certificate-expiring' });
      assert.equal(msg!.status, 'delivered');
      assert.equal((await listOutboxAttempts(h.t.db, msg!.id)).length, 1);
    });

    it('keeps the audit chain intact', async () => {
      const report = await verifyAuditChain(h.t.db, h.deps.masterKey);
      assert.equal(report.ok, true, JSON.stringify(report));
    });
  });
