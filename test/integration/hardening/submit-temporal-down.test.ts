import assert from 'node:assert/strict';
import { Client, Connection } from '@temporalio/client';
import { forEachDatabase, type TestDatabase } from '../../support/databases';
import { startTestApp, testDeps, type TestApp } from '../../support/app';
import { temporalEnv } from '../../support/temporal';
import { TcpProxy } from '../../support/tcp-proxy';
import { seedDemo, seedDemoTypes, DEMO_TYPES } from '../../../db/seed-demo';
import { sampleFaceData } from '../../../domain/certificate-type';
import { ensureDevelopmentTrust } from '../../../services/trust/seals';

forEachDatabase(
  'hardening: submitting while Temporal is down',
  (get) => {
    let tdb: TestDatabase;
    let proxy: TcpProxy;
    let connection: Connection;
    let app: TestApp;

    before(async () => {
      tdb = get();
      const deps = testDeps(tdb.db);
      await seedDemo(tdb.db, 'certflow-demo');
      await ensureDevelopmentTrust(deps);
      await seedDemoTypes(tdb.db, deps.blobs);
      const env = await temporalEnv();
      const [host, port] = env.address.split(':');
      proxy = new TcpProxy({ host: host!, port: Number(port) });
      await proxy.open();
      connection = await Connection.connect({ address: proxy.url });
      app = await startTestApp({ db: tdb.db, temporal: new Client({ connection }), deps });
    });
    after(async () => {
      await app?.close();
      await connection?.close();
      await proxy?.close();
    });

    it('answers 503 with Retry-After within seconds and leaves no application behind; the retry then succeeds', async () => {
      const filler = await app.login('market-filler');
      const bl = DEMO_TYPES.find((t) => t.code === 'BL')!;
      const json = {
        typeCode: 'BL',
        holder: { kind: 'entity', id: '91330106MA2B3C4DB0', name: '杭州某某科技有限公司' },
        faceData: {
          ...sampleFaceData(bl.definition.faceFields),
          creditCode: '91330106MA2B3C4DB0',
          entityName: '杭州某某科技有限公司',
        },
      };
      const submit = () =>
        app.fetch('/api/v1/applications', { token: filler, json, headers: { 'idempotency-key': 'down-1' } });
      await proxy.close();
      const t0 = Date.now();
      const r = await submit();
      const took = Date.now() - t0;
      assert.equal(r.status, 503, await r.clone().text());
      assert.ok(Number(r.headers.get('retry-after')) > 0, 'Retry-After');
      // The start deadline is 5 s; the old answer came after ≈ 20 s. A loaded CI machine needs headroom.
      assert.ok(took < 15000, `answered in ${took} ms`);
      assert.equal(
        Number((await tdb.db('applications').count({ n: '*' }).first())!.n),
        0,
        'no half-written application',
      );

      await proxy.open();
      // A client honours Retry-After. The gRPC channel reconnects with its own back-off, so the
      // first attempt after Temporal is back may still get 503 — never a half-written application.
      let again = await submit();
      for (let attempt = 1; again.status === 503 && attempt < 6; attempt++) {
        assert.equal(Number((await tdb.db('applications').count({ n: '*' }).first())!.n), 0, 'nothing kept on 503');
        await new Promise((resolve) => setTimeout(resolve, 3000));
        again = await submit();
      }
      assert.equal(again.status, 201, await again.clone().text());
      assert.equal(Number((await tdb.db('applications').count({ n: '*' }).first())!.n), 1, 'one application');
      const [row] = await tdb.db('applications').select('status', 'workflow_id');
      assert.equal(row.status, 'in-review');
      const handle = new Client({ connection }).workflow.getHandle(row.workflow_id);
      assert.equal((await handle.describe()).status.name, 'RUNNING');
      await handle.terminate('test over');
    });
  },
  { timeoutMs: 90_000 },
);
