import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { json } from '../../support/issuance';
import { sharingHarness, type SharingHarness } from '../../support/sharing';
import { TEST_MYSQL_URL, requireService } from '../../support/services';
import { setApiClientCallbackOrigins } from '../../../db/org';
import { getGrant } from '../../../db/holders';

/**
 * Access requests between departments on the real Temporal dev server (docs/sharing.md):
 * refused → request → the issuing department's handler approves in the inbox → fetch works until
 * the grant's durable timer ends it → refused again; auto-approval rules; rejection; escalation
 * past the deadline; a holder's certificates of a type; the requester's callback; all audited.
 */
for (const kind of ['sqlite', 'mysql'] as const)
  describe(`access requests [${kind}]`, function () {
    this.timeout(240_000);
    let h: SharingHarness;
    let number: string;
    let marketHandler: string;
    let healthHandler: string;
    let marketAdmin: string;
    const holderId = '91350100M000100Y43';

    before(async function () {
      try {
        h = await sharingHarness(kind);
      } catch (err) {
        if (kind === 'mysql') requireService(this, `MariaDB at ${TEST_MYSQL_URL}`, err);
        throw err;
      }
      number = await h.issue();
      await h.setSharing('BL', 'conditional');
      [marketHandler, healthHandler, marketAdmin] = [
        await h.app.login('market-handler'),
        await h.app.login('health-handler'),
        await h.app.login('market-admin'),
      ];
    });
    after(async () => h?.close());

    type Req = {
      id: string;
      status: string;
      grantIds: string[];
      decidedBy: string | null;
      overdue: boolean;
      escalated: boolean;
      notifiedAt: string | null;
    };
    const ask = (token: string, body: Record<string, unknown>) =>
      h.app.fetch('/api/v1/access-requests', { token, json: body });
    const fetchCopy = (token: string, n = number) =>
      h.app.fetch(`/api/v1/certificates/${n}/fetch`, {
        token,
        json: { matter: '食品经营许可核发', reason: '核验营业执照' },
      });
    const get = async (id: string, token = healthHandler) =>
      json<Req>(await h.app.fetch(`/api/v1/access-requests/${id}`, { token }), 200);
    async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
      const deadline = Date.now() + ms;
      for (;;) {
        const v = await probe();
        if (v !== undefined) return v;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    const settled = (id: string, token = healthHandler) =>
      until(`request ${id} settled`, async () => {
        const r = await get(id, token);
        return r.notifiedAt ? r : undefined;
      });

    it('refuses, then a request approved in the inbox allows fetch until the grant expires', async () => {
      assert.equal((await fetchCopy(healthHandler)).status, 403);
      const validUntil = new Date(Date.now() + 12_000).toISOString();
      const created = await json<Req & { dueAt: string }>(
        await ask(healthHandler, {
          certificateNumber: number,
          matter: '食品经营许可核发',
          reason: '核验主体资格',
          validUntil,
        }),
        201,
      );
      assert.equal(created.status, 'open');
      assert.ok(created.dueAt);
      const inbox = await json<{ items: Req[] }>(
        await h.app.fetch('/api/v1/access-requests?box=received&status=open', { token: marketHandler }),
        200,
      );
      assert.ok(
        inbox.items.some((r) => r.id === created.id),
        'in the issuing department’s inbox',
      );
      const theirs = await json<{ items: Req[] }>(
        await h.app.fetch('/api/v1/access-requests?box=received', { token: healthHandler }),
        200,
      );
      assert.ok(!theirs.items.some((r) => r.id === created.id), 'not in the requester’s inbox');
      // Only the issuing department decides.
      const wrong = await h.app.fetch(`/api/v1/access-requests/${created.id}/decision`, {
        token: healthHandler,
        json: { decision: 'approve' },
      });
      assert.equal(wrong.status, 403);
      const decided = await json<Req>(
        await h.app.fetch(`/api/v1/access-requests/${created.id}/decision`, {
          token: marketHandler,
          json: { decision: 'approve', comment: '同意' },
        }),
        200,
      );
      assert.equal(decided.status, 'approved');
      const done = await settled(created.id);
      assert.equal(done.grantIds.length, 1);
      const ok = await fetchCopy(healthHandler);
      assert.equal(ok.status, 200, await ok.clone().text());
      // The grant's own workflow ends it on time; then fetch is refused again.
      await until('grant expired', async () =>
        (await getGrant(h.t.db, done.grantIds[0]!))?.status === 'expired' ? true : undefined,
      );
      assert.equal((await fetchCopy(healthHandler)).status, 403);
      const again = await json<{ status: string }>(
        await h.app.fetch(`/api/v1/access-requests/${created.id}/decision`, {
          token: marketHandler,
          json: { decision: 'reject', comment: 'x' },
        }),
        409,
      );
      assert.ok(again);
    });

    it('approves at once by the issuing admin’s rule (type + department + matter)', async () => {
      const rule = await json<{ id: number }>(
        await h.app.fetch('/api/v1/sharing-rules', {
          token: marketAdmin,
          json: { typeCode: 'BL', requesterDepartment: 'health', matter: '公共场所卫生许可' },
        }),
        201,
      );
      const r = await json<Req>(
        await ask(healthHandler, {
          certificateNumber: number,
          matter: '公共场所卫生许可',
          reason: '核验经营主体',
          validUntil: new Date(Date.now() + 3_600_000).toISOString(),
        }),
        201,
      );
      const done = await settled(r.id);
      assert.deepEqual([done.status, done.decidedBy, done.grantIds.length], ['approved', `rule:${rule.id}`, 1]);
      assert.equal((await fetchCopy(healthHandler)).status, 200);
      assert.equal(
        (await h.app.fetch(`/api/v1/sharing-rules/${rule.id}`, { method: 'DELETE', token: marketAdmin })).status,
        204,
      );
    });

    it('rejects with a comment, and never asks for a not-shared or unconditionally shared type', async () => {
      const other = await h.issue();
      const r = await json<Req>(
        await ask(healthHandler, {
          certificateNumber: other,
          matter: '其他事项',
          reason: '核验',
          validUntil: '2099-01-01',
        }),
        422,
      );
      assert.ok(r, 'a period past a year is refused');
      const created = await json<Req>(
        await ask(healthHandler, {
          certificateNumber: other,
          matter: '其他事项',
          reason: '核验',
          validUntil: new Date(Date.now() + 3_600_000).toISOString(),
        }),
        201,
      );
      const path = `/api/v1/access-requests/${created.id}/decision`;
      assert.equal((await h.app.fetch(path, { token: marketHandler, json: { decision: 'reject' } })).status, 422);
      await json(
        await h.app.fetch(path, { token: marketHandler, json: { decision: 'reject', comment: '事项不符' } }),
        200,
      );
      const done = await settled(created.id);
      assert.deepEqual([done.status, done.grantIds], ['rejected', []]);
      assert.equal((await fetchCopy(healthHandler, other)).status, 403);

      await h.setSharing('BL', 'not-shared');
      const body = {
        certificateNumber: other,
        matter: 'x',
        reason: 'y',
        validUntil: new Date(Date.now() + 3_600_000).toISOString(),
      };
      assert.equal((await ask(healthHandler, body)).status, 403);
      assert.equal((await fetchCopy(healthHandler, other)).status, 403);
      await h.setSharing('BL', 'unconditional');
      assert.equal((await ask(healthHandler, body)).status, 409);
      await h.setSharing('BL', 'conditional');
    });

    it('escalates an undecided request to the department admin past its deadline', async () => {
      // The deadline is read per request (services/sharing/access-requests.ts): a short one for this test.
      const sharing = h.app.deps.config.sharing;
      h.app.deps.config.sharing = { requestDeadlineHours: 2 / 3600 };
      try {
        const r = await json<Req>(
          await ask(healthHandler, {
            holderId,
            typeCode: 'BL',
            matter: '餐饮服务许可',
            reason: '核验全部营业执照',
            validUntil: new Date(Date.now() + 3_600_000).toISOString(),
          }),
          201,
        );
        const late = await until('escalated', async () => {
          const x = await get(r.id);
          return x.escalated ? x : undefined;
        });
        assert.equal(late.overdue, true);
        const adminBox = await json<{ items: Req[] }>(
          await h.app.fetch('/api/v1/access-requests?box=received', { token: marketAdmin }),
          200,
        );
        assert.ok(adminBox.items.some((x) => x.id === r.id));
        await json(
          await h.app.fetch(`/api/v1/access-requests/${r.id}/decision`, {
            token: marketAdmin,
            json: { decision: 'approve' },
          }),
          200,
        );
        const done = await settled(r.id);
        // Every valid BL of the holder: the two issued in this file so far.
        assert.equal(done.grantIds.length, 2);
      } finally {
        h.app.deps.config.sharing = sharing;
      }
    });

    it('tells a business system by signed callback, through the outbox', async () => {
      const got: { headers: http.IncomingHttpHeaders; body: string }[] = [];
      const server = http.createServer((req, res) => {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          got.push({ headers: req.headers, body });
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        const client = await h.apiClient('health', ['certificates:fetch']);
        await setApiClientCallbackOrigins(h.t.db, client.id, [origin]);
        const r = await json<Req>(
          await h.app.fetch('/api/v1/access-requests', {
            apiKey: client.key,
            json: {
              certificateNumber: number,
              matter: '医疗机构执业登记',
              reason: '核验',
              validUntil: new Date(Date.now() + 3_600_000).toISOString(),
              callbackUrl: `${origin}/sharing`,
            },
          }),
          201,
        );
        await json(
          await h.app.fetch(`/api/v1/access-requests/${r.id}/decision`, {
            token: marketHandler,
            json: { decision: 'approve' },
          }),
          200,
        );
        await until('callback', async () => (got.length ? true : undefined));
        const body = JSON.parse(got[0]!.body) as { requestId: string; status: string; grants: string[] };
        assert.deepEqual([body.requestId, body.status, body.grants.length], [r.id, 'approved', 1]);
        assert.equal(got[0]!.headers['x-certflow-event'], 'access-request.decided');
        assert.match(String(got[0]!.headers['x-certflow-signature']), /^sha256=[0-9a-f]{64}$/);
        // The grant names that business system: it may fetch, the department's handlers not by this grant.
        const ok = await h.app.fetch(`/api/v1/certificates/${number}/fetch`, {
          apiKey: client.key,
          json: { matter: '医疗机构执业登记', reason: '核验' },
        });
        assert.equal(ok.status, 200);
      } finally {
        server.close();
      }
    });

    it('lists grants received by the asking department and issued on the issuing one', async () => {
      type Grant = { certificateNumber: string; department: string; issuer: string; status: string };
      const received = await json<{ items: Grant[] }>(
        await h.app.fetch('/api/v1/sharing/grants?box=received', { token: healthHandler }),
        200,
      );
      assert.ok(received.items.length >= 4);
      assert.ok(received.items.every((g) => g.department === 'health' && g.issuer === 'market'));
      assert.ok(
        received.items.some((g) => g.status === 'expired'),
        'the first, ended by its timer',
      );
      const issued = await json<{ items: Grant[] }>(
        await h.app.fetch('/api/v1/sharing/grants?box=issued', { token: marketHandler }),
        200,
      );
      assert.deepEqual(
        issued.items.map((g) => g.certificateNumber).sort(),
        received.items.map((g) => g.certificateNumber).sort(),
      );
      const none = await json<{ items: Grant[] }>(
        await h.app.fetch('/api/v1/sharing/grants?box=issued', { token: healthHandler }),
        200,
      );
      assert.equal(none.items.length, 0);
    });

    it('audits every step', async () => {
      const actions = new Set(
        ((await h.t.db('audit_log').select('action')) as { action: string }[]).map((a) => a.action),
      );
      for (const a of [
        'access-request.create',
        'access-request.decide',
        'access-request.auto-approve',
        'access-request.escalate',
        'access-request.grant',
        'certificate.fetch',
        'grant.expire',
        'sharing-rule.create',
      ])
        assert.ok(actions.has(a), `audited: ${a}`);
      const denied = await h.t
        .db('audit_log')
        .where({ category: 'authorization', action: 'access-request.create', outcome: 'denied' });
      assert.ok(denied.length >= 1, 'the not-shared request was refused and audited');
    });
  });
