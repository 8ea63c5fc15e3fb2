import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { json } from '../../support/issuance';
import { sharingHarness, type SharingHarness } from '../../support/sharing';
import { TEST_MYSQL_URL, requireService } from '../../support/services';
import { temporalEnv } from '../../support/temporal';
import { getStatusPush } from '../../../db/catalog-status';
import { expirySweepWorkflow } from '../../../workflows/lifecycle';
import { FACE_DATA } from '../sealing/helpers';

/**
 * Catalog status sync (docs/sharing.md) against a real HTTP receiver standing in for the
 * external catalog: a revocation reaches it through a retried workflow even when its first
 * answer is an error; one that keeps failing is listed for a sealing officer, who re-pushes it;
 * the expiry sweep pushes expiries.
 */
for (const kind of ['sqlite', 'mysql'] as const)
  describe(`catalog status sync [${kind}]`, function () {
    this.timeout(180_000);
    let h: SharingHarness;
    let server: http.Server;
    const received: { number: string; status: string; answered: number }[] = [];
    /** What the receiver answers to status pushes: a queue of statuses, then `otherwise`. */
    const answers: number[] = [];
    let otherwise = 200;

    before(async function () {
      try {
        h = await sharingHarness(kind);
      } catch (err) {
        if (kind === 'mysql') requireService(this, `MariaDB at ${TEST_MYSQL_URL}`, err);
        throw err;
      }
      server = http.createServer((req, res) => {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          if (req.headers['x-certflow-event'] !== 'certificate.status') return void res.writeHead(200).end('{}');
          const b = JSON.parse(body) as { certificateNumber: string; statusName: string };
          const answered = answers.shift() ?? otherwise;
          received.push({ number: b.certificateNumber, status: b.statusName, answered });
          res.writeHead(answered).end(answered === 200 ? '{"ok":true}' : 'catalog unavailable');
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      // Worker and API share this config object: both now push to the receiver.
      h.deps.config.catalog.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/catalog`;
    });
    after(async () => {
      server?.close();
      await h?.close();
    });

    async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
      const deadline = Date.now() + ms;
      for (;;) {
        const v = await probe();
        if (v !== undefined) return v;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    const revoke = async (number: string) =>
      json(
        await h.app.fetch(`/api/v1/certificates/${number}/revoke`, {
          token: await h.app.login('market-admin'),
          json: { reason: '以欺骗手段取得' },
        }),
        200,
      );

    it('pushes a revocation, retrying past a failing first answer', async () => {
      const number = await h.issue();
      answers.push(503);
      await revoke(number);
      const row = await until('pushed', async () => {
        const r = await getStatusPush(h.t.db, number, 'revoked');
        return r?.pushedAt ? r : undefined;
      });
      assert.equal(row.attempts, 2);
      assert.deepEqual(
        received.filter((r) => r.number === number).map((r) => [r.status, r.answered]),
        [
          ['revoked', 503],
          ['revoked', 200],
        ],
      );
    });

    it('lists a push that keeps failing for a sealing officer, who re-pushes it', async () => {
      const number = await h.issue();
      otherwise = 500;
      await revoke(number);
      const sealer = await h.app.login('market-sealer');
      const listed = await until('listed', async () => {
        const r = await json<{ items: { certificateNumber: string; attempts: number; lastError: string }[] }>(
          await h.app.fetch('/api/v1/catalog/status-failed', { token: sealer }),
          200,
        );
        const item = r.items.find((i) => i.certificateNumber === number && i.attempts >= 4);
        return item;
      });
      assert.match(listed.lastError, /500/);
      const healthSealer = await h.app.login('health-sealer');
      const path = `/api/v1/catalog/status-failed/${number}/repush`;
      assert.equal((await h.app.fetch(path, { token: healthSealer, json: { status: 'revoked' } })).status, 403);
      assert.equal((await h.app.fetch(path, { token: sealer, json: { status: 'revoked' } })).status, 502);
      otherwise = 200;
      const ok = await json<{ pushed: boolean }>(
        await h.app.fetch(path, { token: sealer, json: { status: 'revoked' } }),
        200,
      );
      assert.equal(ok.pushed, true);
      const after = await json<{ items: { certificateNumber: string }[] }>(
        await h.app.fetch('/api/v1/catalog/status-failed', { token: sealer }),
        200,
      );
      assert.ok(!after.items.some((i) => i.certificateNumber === number));
      const audited = await h.t.db('audit_log').where({ action: 'catalog.repush-status', outcome: 'success' });
      assert.equal(audited.length, 1);
    });

    it('pushes expiries from the expiry sweep', async () => {
      const number = await h.issue({ typeCode: 'FBP', faceData: FACE_DATA.FBP });
      const env = await temporalEnv();
      await env.client.workflow.execute(expirySweepWorkflow, {
        taskQueue: h.worker.taskQueue,
        workflowId: `sweep-${number}`,
        args: [{ asOf: '2099-01-01' }],
      });
      const row = (await getStatusPush(h.t.db, number, 'expired'))!;
      assert.ok(row.pushedAt, 'pushed by the sweep');
      assert.ok(received.some((r) => r.number === number && r.status === 'expired' && r.answered === 200));
    });
  });
