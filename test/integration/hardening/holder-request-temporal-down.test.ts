import assert from 'node:assert/strict';
import { Client, Connection } from '@temporalio/client';
import { holderHarness, type HolderHarness } from '../../support/holder';
import { startTestApp, type TestApp } from '../../support/app';
import { temporalEnv } from '../../support/temporal';
import { TcpProxy } from '../../support/tcp-proxy';

/**
 * A holder files a request while Temporal is out of reach (docs/holders.md, "Requests"): a 503
 * with Retry-After within seconds and no request left behind that no workflow would ever open a
 * task for; once Temporal is back the same request goes through.
 */
describe('hardening: a holder request while Temporal is down [sqlite]', function () {
  this.timeout(120_000);
  let h: HolderHarness;
  let proxy: TcpProxy;
  let connection: Connection;
  let app: TestApp;

  before(async () => {
    h = await holderHarness('sqlite');
    const env = await temporalEnv();
    const [host, port] = env.address.split(':');
    proxy = new TcpProxy({ host: host!, port: Number(port) });
    await proxy.open();
    connection = await Connection.connect({ address: proxy.url });
    // A second API on the same database, reaching Temporal only through the proxy.
    app = await startTestApp({ db: h.t.db, temporal: new Client({ connection }), deps: h.deps });
  });
  after(async () => {
    await app?.close();
    await connection?.close();
    await proxy?.close();
    await h?.close();
  });

  it('answers 503 and keeps nothing; the retry files the request', async () => {
    const cookie = await h.signIn('demo-person');
    const file = () =>
      app.fetch('/api/v1/holder/requests', {
        headers: { cookie },
        json: { certificateNumber: h.numbers.personPQ, kind: 'cancel', statement: '已调离本行业，申请注销' },
      });
    const count = async () => Number((await h.t.db('holder_requests').count({ n: '*' }).first())!.n);
    await proxy.close();
    const t0 = Date.now();
    const down = await file();
    assert.equal(down.status, 503, await down.clone().text());
    assert.ok(Number(down.headers.get('retry-after')) > 0, 'Retry-After');
    assert.ok(Date.now() - t0 < 15_000, 'answered within seconds');
    assert.equal(await count(), 0, 'no half-written request');

    await proxy.open();
    // The gRPC channel reconnects with its own back-off: a client honouring Retry-After tries again.
    let again = await file();
    for (let attempt = 1; again.status === 503 && attempt < 6; attempt++) {
      assert.equal(await count(), 0, 'nothing kept on 503');
      await new Promise((resolve) => setTimeout(resolve, 3000));
      again = await file();
    }
    assert.equal(again.status, 201, await again.clone().text());
    assert.equal(await count(), 1);
  });
});
