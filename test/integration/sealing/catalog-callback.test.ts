import assert from 'node:assert/strict';
import { testWarmConverter } from '../../support/app';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { forEachDatabase } from '../../support/databases';
import { startTestApp, testConfig, type TestApp } from '../../support/app';
import { sealingActivities } from '../../../activities/sealing';
import { getCertificate, listCallbackDeliveries } from '../../../db/certificates';
import { createApplication, issue, setupSealing, type SealingSetup } from './helpers';

/**
 * The two outbound steps against a real local HTTP server: the catalog push (failing, then
 * repaired by a sealing officer) and the signed callback to the business system.
 */
/** The run's shared warm LibreOffice pool (closed by the root hook). */
const converter = testWarmConverter();

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

forEachDatabase('catalog registration and callbacks', (get) => {
  let s: SealingSetup;
  let app: TestApp;
  let server: http.Server;
  let base: string;
  const answer = { catalog: 500, callback: 200 };
  let received: Received[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.push({ path: req.url!, headers: req.headers, body });
        if (req.url === '/hang') return; // never answers: the caller's time limit must end it
        res.statusCode = req.url === '/catalog' ? answer.catalog : answer.callback;
        res.end(res.statusCode === 200 ? '{"ok":true}' : 'catalog database unavailable');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const config = { ...testConfig(), catalog: { url: `${base}/catalog`, timeoutMs: 3000 }, callbacks: { timeoutMs: 3000 } };
    s = await setupSealing(get().db, converter, { config });
    // These routes never touch Temporal.
    app = await startTestApp({ db: get().db, temporal: {} as Client, deps: s.deps, config });
  });
  after(async () => {
    await app?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });
  beforeEach(() => {
    received = [];
  });

  it('a catalog answering 500 leaves the certificate stored and listed; a sealing officer re-registers it once the catalog answers 200', async () => {
    const { db } = get();
    answer.catalog = 500;
    const { number } = await issue(s, await createApplication(db, s.deps.masterKey));
    for (let i = 0; i < 2; i++) {
      await assert.rejects(s.acts.registerInCatalog(number), (err: Error & { nonRetryable?: boolean }) => /catalog answered 500/.test(err.message) && err.nonRetryable !== true);
    }
    let cert = (await getCertificate(db, number))!;
    assert.deepEqual([cert.catalogRegisteredAt, cert.catalogAttempts, cert.status], [null, 2, 'valid']);
    assert.match(cert.catalogLastError!, /500: catalog database unavailable/);

    const sealer = await app.login('market-sealer');
    const list = async (token: string) => app.fetch('/api/v1/catalog/failed', { token });
    const failed = (await (await list(sealer)).json()) as { items: { number: string; attempts: number; lastError: string }[] };
    assert.deepEqual(failed.items.map((i) => [i.number, i.attempts]), [[number, 2]]);
    assert.deepEqual(((await (await list(await app.login('health-sealer'))).json()) as { items: unknown[] }).items, [], 'other departments see none');
    assert.equal((await list(await app.login('market-handler'))).status, 403);

    const reregister = (token: string) => app.fetch(`/api/v1/catalog/failed/${number}/reregister`, { method: 'POST', token });
    assert.equal((await reregister(await app.login('health-sealer'))).status, 403);
    const stillDown = await reregister(sealer);
    assert.equal(stillDown.status, 502);
    assert.match(((await stillDown.json()) as { detail: string }).detail, /catalog answered 500/);

    answer.catalog = 200;
    const ok = await reregister(sealer);
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { registered: boolean }).registered, true);
    cert = (await getCertificate(db, number))!;
    assert.equal(cert.catalogAttempts, 4);
    assert.ok(cert.catalogRegisteredAt);
    assert.equal(cert.catalogLastError, null);
    assert.deepEqual(((await (await list(sealer)).json()) as { items: unknown[] }).items, []);

    const pushed = JSON.parse(received.at(-1)!.body);
    assert.deepEqual([pushed.certificateNumber, pushed.identifier, pushed.holder, pushed.status], [number, cert.identifier, { name: cert.holderName, code: '91350100M000100Y43', codeType: '001' }, '01']);
    const calls = received.length;
    assert.equal((await s.acts.registerInCatalog(number)).alreadyRegistered, true);
    assert.equal(received.length, calls, 'a registered certificate is not pushed again');

    const audit = await db('audit_log').where({ action: 'catalog.reregister', object_id: number }).orderBy('seq').select('outcome', 'actor_name');
    assert.deepEqual(audit.map((a) => `${a.actor_name}:${a.outcome}`), ['market-sealer:failure', 'market-sealer:success']);
  });

  it('a catalog refusing the content (422) fails without retrying; the certificate stays listed', async () => {
    const { db } = get();
    answer.catalog = 422;
    const { number } = await issue(s, await createApplication(db, s.deps.masterKey));
    await assert.rejects(s.acts.registerInCatalog(number), (err: Error & { nonRetryable?: boolean }) => err.nonRetryable === true);
    assert.equal((await getCertificate(db, number))!.catalogAttempts, 1);
  });

  it('the callback carries an HMAC the receiver verifies with its key; retried until 2xx, then never again', async () => {
    const { db } = get();
    answer.catalog = 200;
    const admin = await app.login('market-admin');
    const client = (await (await app.fetch('/api/v1/api-clients', { token: admin, json: { name: '企业登记系统', department: 'market', scopes: ['applications:write', 'certificates:read'] } })).json()) as { id: string; apiKey: string };
    const keyRes = await app.fetch('/api/v1/callbacks/signing-key', { apiKey: client.apiKey });
    assert.equal(keyRes.status, 200);
    const key = Buffer.from(((await keyRes.json()) as { key: string }).key, 'base64');
    const verify = (r: Received) => {
      const expected = Buffer.from(`sha256=${createHmac('sha256', key).update(r.body).digest('hex')}`);
      const got = Buffer.from(String(r.headers['x-certflow-signature']));
      return got.length === expected.length && timingSafeEqual(got, expected);
    };

    const appId = await createApplication(db, s.deps.masterKey, { callbackUrl: `${base}/callback`, externalRef: 'QY-2026-0042', submitter: { type: 'api-client', id: client.id } });
    const { number } = await issue(s, appId);
    answer.callback = 503;
    await assert.rejects(s.acts.notifyCallback(appId), /answered 503/);
    answer.callback = 200;
    assert.deepEqual(await s.acts.notifyCallback(appId), { delivered: true });
    assert.deepEqual(await s.acts.notifyCallback(appId), { delivered: true, skipped: 'already delivered' });

    const calls = received.filter((r) => r.path === '/callback');
    assert.equal(calls.length, 2, 'one failed attempt, one delivery, nothing after');
    for (const c of calls) assert.ok(verify(c), 'the receiver verifies the signature');
    assert.equal(verify({ ...calls[1]!, body: calls[1]!.body.replace('issued', 'revoked') }), false, 'a changed body does not verify');
    const body = JSON.parse(calls[1]!.body);
    assert.deepEqual(body, { applicationId: appId, externalRef: 'QY-2026-0042', certificateNumber: number, downloadUrl: `${s.deps.config.http.publicUrl}/api/v1/certificates/${number}/pdf`, status: 'issued' });

    const deliveries = await listCallbackDeliveries(db, appId);
    assert.deepEqual(deliveries.map((d) => [d.outcome, d.status_code]), [['failed', 503], ['delivered', 200]]);
    // The download link works for that business system, which states its reason for use.
    const pdf = await app.fetch(`/api/v1/certificates/${number}/pdf?reason=${encodeURIComponent('存档')}`, { apiKey: client.apiKey });
    assert.equal(pdf.status, 200);
    assert.equal(Buffer.from(await pdf.arrayBuffer()).subarray(0, 5).toString(), '%PDF-');
  });

  it('a receiver that never answers is cut off at the time limit and the attempt recorded as failed', async () => {
    const { db } = get();
    const appId = await createApplication(db, s.deps.masterKey, { callbackUrl: `${base}/hang` });
    await issue(s, appId);
    const impatient = sealingActivities({ ...s.deps, config: { ...s.deps.config, callbacks: { timeoutMs: 300 } } });
    const t0 = Date.now();
    await assert.rejects(impatient.notifyCallback(appId), /no answer within 300 ms/);
    assert.ok(Date.now() - t0 < 3000);
    const [d] = await listCallbackDeliveries(db, appId);
    assert.deepEqual([d.outcome, d.status_code], ['failed', null]);
  });

  it('an application without a callback URL is not called', async () => {
    const { db } = get();
    const appId = await createApplication(db, s.deps.masterKey);
    await issue(s, appId);
    assert.deepEqual(await s.acts.notifyCallback(appId), { delivered: false, skipped: 'no callback URL' });
    assert.equal(received.length, 0);
  });
});
