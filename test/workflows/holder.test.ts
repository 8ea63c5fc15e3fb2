import assert from 'node:assert/strict';
import { holderHarness, type HolderHarness } from '../support/holder';
import { verifyAuditChain } from '../../db/audit';
import { getGrant } from '../../db/holders';
import { temporalEnv } from '../support/temporal';
import { TEST_MYSQL_URL, requireService } from '../support/services';

/**
 * The holder portal end to end over HTTP (docs/holders.md): sign-in through the development
 * identity provider, my certificates, grants with their timer workflow, show-codes, usage log.
 */
for (const kind of ['sqlite', 'mysql'] as const)
  describe(`holder portal [${kind}]`, function () {
    this.timeout(120_000);
    let h: HolderHarness;
    let company: string;
    let person: string;

    before(async function () {
      try {
        h = await holderHarness(kind);
      } catch (err) {
        if (kind === 'mysql') requireService(this, `MariaDB at ${TEST_MYSQL_URL}`, err);
        throw err;
      }
      company = await h.signIn('demo-company');
      person = await h.signIn('demo-person');
    });
    after(async () => h?.close());

    it('signs a company in with the person acting for it, and lists only its certificates, expiring first', async () => {
      const me = (await (await h.fetch('/api/v1/holder/me', { holder: company })).json()) as Record<string, unknown>;
      assert.deepEqual(me, { kind: 'entity', name: '杭州西湖示例科技有限公司', agentName: '张三' });
      const list = (await (await h.fetch('/api/v1/holder/certificates', { holder: company })).json()) as {
        items: { number: string }[];
      };
      assert.deepEqual(
        list.items.map((c) => c.number),
        [h.numbers.companyFBP, h.numbers.companyBL],
      );
      const mine = (await (await h.fetch('/api/v1/holder/certificates', { holder: person })).json()) as {
        items: { number: string }[];
      };
      assert.deepEqual(
        mine.items.map((c) => c.number),
        [h.numbers.personPQ],
      );
    });

    it("refuses another holder's certificates, in either direction", async () => {
      for (const [who, number] of [
        [company, h.numbers.personPQ],
        [person, h.numbers.companyBL],
        [company, h.numbers.otherBL],
      ] as const) {
        assert.equal((await h.fetch(`/api/v1/holder/certificates/${number}`, { holder: who })).status, 404);
        assert.equal((await h.fetch(`/api/v1/holder/certificates/${number}/pdf`, { holder: who })).status, 404);
      }
      const own = await h.fetch(`/api/v1/holder/certificates/${h.numbers.companyBL}/pdf`, { holder: company });
      assert.equal(own.status, 200);
      assert.match(Buffer.from(await own.arrayBuffer()).toString(), /^%PDF/);
    });

    it('keeps holder sessions and staff tokens apart', async () => {
      assert.equal((await h.fetch(`/api/v1/certificates/${h.numbers.companyBL}`, { holder: company })).status, 403);
      const handler = await h.login('market-handler');
      assert.equal((await h.fetch('/api/v1/holder/certificates', { token: handler })).status, 403);
      assert.equal((await h.fetch('/api/v1/holder/certificates', { holder: 'certflow_holder=forged' })).status, 401);
    });

    it('refuses a replayed or cross-browser callback', async () => {
      const start = await h.fetch('/holder/login');
      assert.equal(start.status, 302);
      const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
      // The redirect back without the browser's state cookie (login CSRF), and with a made-up code.
      const foreign = await h.fetch(`/holder/callback?code=abc&state=${state}`);
      assert.equal(foreign.status, 422);
      const cookie = start.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; ');
      const forged = await h.fetch(`/holder/callback?code=forged-code&state=${state}`, { headers: { cookie } });
      assert.equal(forged.status, 403);
      // The sign-in was used up by that attempt: the same state again is refused before any code exchange.
      const replay = await h.fetch(`/holder/callback?code=forged-code&state=${state}`, { headers: { cookie } });
      assert.equal(replay.status, 422);
    });

    it('lets a granted department fetch the PDF with a reason, shows it in the usage log, and stops on revoke', async () => {
      const handler = await h.login('health-handler');
      const pdf = `/api/v1/certificates/${h.numbers.companyBL}/pdf?reason=${encodeURIComponent('办理食品经营许可变更')}`;
      assert.equal((await h.fetch(pdf, { token: handler })).status, 403, 'no grant yet');
      const until = new Date(Date.now() + 3_600_000).toISOString();
      const g = await h.fetch('/api/v1/holder/grants', {
        method: 'POST',
        holder: company,
        json: {
          certificateNumber: h.numbers.companyBL,
          department: 'health',
          matter: '办理卫生许可',
          validUntil: until,
        },
      });
      assert.equal(g.status, 201, await g.clone().text());
      const grant = (await g.json()) as { id: string; status: string };
      assert.equal(grant.status, 'active');
      assert.equal(
        (await h.fetch(`/api/v1/certificates/${h.numbers.companyBL}/pdf`, { token: handler })).status,
        422,
        'reason required',
      );
      const ok = await h.fetch(pdf, { token: handler });
      assert.equal(ok.status, 200);
      assert.match(Buffer.from(await ok.arrayBuffer()).toString(), /^%PDF/);
      // Another department's handler, and the granted certificate's sibling, stay closed.
      assert.equal(
        (await h.fetch(`/api/v1/certificates/${h.numbers.companyFBP}/pdf?reason=x`, { token: handler })).status,
        403,
      );

      const usage = (await (await h.fetch('/api/v1/holder/usage', { holder: company })).json()) as {
        items: {
          use: string;
          reason: string | null;
          viaGrant: string | null;
          who: { department: string; name: string; roles: { role: string }[] };
        }[];
      };
      const seen = usage.items.find((u) => u.use === 'download' && u.viaGrant === grant.id);
      assert.ok(seen, JSON.stringify(usage.items));
      assert.equal(seen.reason, '办理食品经营许可变更');
      assert.equal(seen.who.department, 'health');
      assert.equal(seen.who.name, 'health-handler');
      assert.deepEqual(
        seen.who.roles.map((r) => r.role),
        ['handler'],
      );
      // The person sees none of it.
      const theirs = (await (await h.fetch('/api/v1/holder/usage', { holder: person })).json()) as { items: unknown[] };
      assert.equal(theirs.items.length, 0);

      assert.equal(
        (await h.fetch(`/api/v1/holder/grants/${grant.id}`, { method: 'DELETE', holder: person })).status,
        404,
      );
      const revoked = await h.fetch(`/api/v1/holder/grants/${grant.id}`, { method: 'DELETE', holder: company });
      assert.equal(((await revoked.json()) as { status: string }).status, 'revoked');
      assert.equal((await h.fetch(pdf, { token: handler })).status, 403);
    });

    it('lets a business system named in a grant fetch the record, and no other', async () => {
      const named = await h.apiClient('health', ['certificates:read']);
      const other = await h.apiClient('health', ['certificates:read']);
      const g = await h.fetch('/api/v1/holder/grants', {
        method: 'POST',
        holder: company,
        json: {
          certificateNumber: h.numbers.companyFBP,
          department: 'health',
          apiClientId: named.split('.')[0],
          matter: '年检',
          validUntil: '2099-01-01',
        },
      });
      assert.equal(g.status, 422, 'more than a year ahead');
      const ok = await h.fetch('/api/v1/holder/grants', {
        method: 'POST',
        holder: company,
        json: {
          certificateNumber: h.numbers.companyFBP,
          department: 'health',
          apiClientId: named.split('.')[0],
          matter: '年检',
          validUntil: new Date(Date.now() + 86_400_000).toISOString().slice(0, 10),
        },
      });
      assert.equal(ok.status, 201);
      const record = `/api/v1/certificates/${h.numbers.companyFBP}/record?reason=${encodeURIComponent('年检核验')}`;
      assert.equal((await h.fetch(record, { apiKey: named })).status, 200);
      assert.equal((await h.fetch(record, { apiKey: other })).status, 403);
    });

    it('ends a grant by its own timer, and access stops', async () => {
      const g = await h.fetch('/api/v1/holder/grants', {
        method: 'POST',
        holder: person,
        json: {
          certificateNumber: h.numbers.personPQ,
          department: 'market',
          matter: '短时授权',
          validUntil: new Date(Date.now() + 4000).toISOString(),
        },
      });
      assert.equal(g.status, 201);
      const grant = (await g.json()) as { id: string };
      const marketHandler = await h.login('market-handler');
      const pdf = `/api/v1/certificates/${h.numbers.personPQ}/pdf?reason=x`;
      assert.equal((await h.fetch(pdf, { token: marketHandler })).status, 200);
      const deadline = Date.now() + 30_000;
      while ((await getGrant(h.t.db, grant.id))!.status !== 'expired') {
        assert.ok(Date.now() < deadline, 'the grant workflow did not expire the grant');
        await new Promise((r) => setTimeout(r, 250));
      }
      assert.equal((await h.fetch(pdf, { token: marketHandler })).status, 403);
      const env = await temporalEnv();
      assert.equal(await env.client.workflow.getHandle(`grant-${grant.id}`).result(), 'expired');
      const usage = (await (await h.fetch('/api/v1/holder/usage', { holder: person })).json()) as {
        items: { use: string }[];
      };
      assert.ok(usage.items.some((u) => u.use === 'grant-expired'));
    });

    it('redeems a show-code once, refuses replays and guesses, and throttles guessing', async () => {
      const created = await h.fetch(`/api/v1/holder/certificates/${h.numbers.companyBL}/show-codes`, {
        method: 'POST',
        holder: company,
        json: { matter: '窗口核验' },
      });
      assert.equal(created.status, 201);
      const shown = (await created.json()) as { code: string; qrSvg: string; expiresAt: string };
      assert.match(shown.code, /^[A-HJ-NP-Z2-9]{8}$/);
      assert.match(shown.qrSvg, /^<svg/);
      const filler = await h.login('health-filler');
      const clerk = await h.login('health-handler');
      const redeem = (token: string, code: string) =>
        h.fetch('/api/v1/show-codes/redeem', { method: 'POST', token, json: { code, reason: '窗口办理' } });
      assert.equal((await redeem(filler, shown.code)).status, 403);
      const first = await redeem(clerk, shown.code.toLowerCase());
      assert.equal(first.status, 200);
      const got = (await first.json()) as {
        certificate: { number: string; holder: { id: string } };
        pdf: { base64: string };
        matter: string;
      };
      assert.equal(got.certificate.number, h.numbers.companyBL);
      assert.equal(got.matter, '窗口核验');
      assert.match(Buffer.from(got.pdf.base64, 'base64').toString(), /^%PDF/);
      assert.equal((await redeem(clerk, shown.code)).status, 410);
      const usage = (await (await h.fetch('/api/v1/holder/usage', { holder: company })).json()) as {
        items: { use: string; reason: string }[];
      };
      assert.ok(usage.items.some((u) => u.use === 'show-code' && u.reason === '窗口办理'));

      const guesser = await h.login('market-handler');
      let last = 0;
      for (let i = 0; i < 12; i++) last = (await redeem(guesser, 'ABCDEFGH')).status;
      assert.equal(last, 429);
    });

    it('keeps the audit chain intact', async () => {
      const report = await verifyAuditChain(h.t.db, h.deps.masterKey);
      assert.equal(report.ok, true, JSON.stringify(report));
    });
  });
