import assert from 'node:assert/strict';
import { testWarmConverter } from '../../support/app';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { forEachDatabase } from '../../support/databases';
import { startTestApp, testConfig, type TestApp } from '../../support/app';
import { sealingActivities } from '../../../activities/sealing';
import { lifecycleActivities } from '../../../activities/lifecycle';
import { getCertificate } from '../../../db/certificates';
import { listOutboxAttempts, listOutboxMessages, type OutboxMessage } from '../../../db/outbox';
import { enqueue } from '../../../services/outbox';
import { createApplication, issue, setupSealing, type SealingSetup } from './helpers';

/**
 * The outbound steps against a real local HTTP server: the catalog push (failing, then
 * repaired by a sealing officer) and the signed callbacks to the business system (issued,
 * revoked, expiring), all through the outbox.
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
        res.statusCode = req.url === '/catalog' ? answer.catalog : req.url === '/refuse' ? 422 : answer.callback;
        res.end(res.statusCode === 200 ? '{"ok":true}' : 'catalog database unavailable');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const config = {
      ...testConfig(),
      catalog: { url: `${base}/catalog`, timeoutMs: 3000 },
      callbacks: { timeoutMs: 3000, allowPrivate: true },
    };
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
      await assert.rejects(
        s.acts.registerInCatalog(number),
        (err: Error & { nonRetryable?: boolean }) =>
          /catalog answered 500/.test(err.message) && err.nonRetryable !== true,
      );
    }
    let cert = (await getCertificate(db, number))!;
    assert.deepEqual([cert.catalogRegisteredAt, cert.catalogAttempts, cert.status], [null, 2, 'valid']);
    assert.match(cert.catalogLastError!, /500: catalog database unavailable/);

    const sealer = await app.login('market-sealer');
    const list = async (token: string) => app.fetch('/api/v1/catalog/failed', { token });
    const failed = (await (await list(sealer)).json()) as {
      items: { number: string; attempts: number; lastError: string }[];
    };
    assert.deepEqual(
      failed.items.map((i) => [i.number, i.attempts]),
      [[number, 2]],
    );
    assert.deepEqual(
      ((await (await list(await app.login('health-sealer'))).json()) as { items: unknown[] }).items,
      [],
      'other departments see none',
    );
    assert.equal((await list(await app.login('market-handler'))).status, 403);

    const reregister = (token: string) =>
      app.fetch(`/api/v1/catalog/failed/${number}/reregister`, { method: 'POST', token });
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
    assert.deepEqual(
      [pushed.certificateNumber, pushed.identifier, pushed.holder, pushed.status],
      [number, cert.identifier, { name: cert.holderName, code: '91350100M000100Y43', codeType: '001' }, '01'],
    );
    const calls = received.length;
    assert.equal((await s.acts.registerInCatalog(number)).alreadyRegistered, true);
    assert.equal(received.length, calls, 'a registered certificate is not pushed again');

    const audit = await db('audit_log')
      .where({ action: 'catalog.reregister', object_id: number })
      .orderBy('seq')
      .select('outcome', 'actor_name');
    assert.deepEqual(
      audit.map((a) => `${a.actor_name}:${a.outcome}`),
      ['market-sealer:failure', 'market-sealer:success'],
    );
  });

  it('a catalog refusing the content (422) fails without retrying; the certificate stays listed', async () => {
    const { db } = get();
    answer.catalog = 422;
    const { number } = await issue(s, await createApplication(db, s.deps.masterKey));
    await assert.rejects(
      s.acts.registerInCatalog(number),
      (err: Error & { nonRetryable?: boolean }) => err.nonRetryable === true,
    );
    assert.equal((await getCertificate(db, number))!.catalogAttempts, 1);
  });

  /** The callback key the business system fetches with its own ApiKey, and a checker for what it receives. */
  async function businessSystem() {
    const admin = await app.login('market-admin');
    const client = (await (
      await app.fetch('/api/v1/api-clients', {
        token: admin,
        json: { name: '企业登记系统', department: 'market', scopes: ['applications:write', 'certificates:read'] },
      })
    ).json()) as { id: string; apiKey: string };
    const keyRes = await app.fetch('/api/v1/callbacks/signing-key', { apiKey: client.apiKey });
    assert.equal(keyRes.status, 200);
    const key = Buffer.from(((await keyRes.json()) as { key: string }).key, 'base64');
    const verify = (r: Received) => {
      const expected = Buffer.from(`sha256=${createHmac('sha256', key).update(r.body).digest('hex')}`);
      const got = Buffer.from(String(r.headers['x-certflow-signature']));
      return got.length === expected.length && timingSafeEqual(got, expected);
    };
    /** Signature, body digest, event and delivery id, as a receiver checks them. */
    const check = (r: Received, msg: OutboxMessage, event: string) => {
      assert.ok(verify(r), 'the receiver verifies the signature');
      assert.equal(r.headers['x-certflow-body-sha256'], createHash('sha256').update(r.body).digest('hex'));
      assert.equal(r.headers['x-certflow-body-sha256'], msg.bodySha256);
      assert.equal(r.headers['x-certflow-event'], event);
      assert.equal(r.headers['x-certflow-delivery'], String(msg.id));
      assert.equal(r.body, msg.body, 'the exact stored bytes are sent');
    };
    return { client, verify, check };
  }

  const attemptsOf = async (msg: OutboxMessage) =>
    (await listOutboxAttempts(get().db, msg.id)).map((a) => [a.outcome, a.statusCode]);
  type Failure = Error & { nonRetryable?: boolean };
  /** Thrown for Temporal to retry, with a message matching `re`. */
  const retryable = (re: RegExp) => (err: Failure) => re.test(err.message) && err.nonRetryable !== true;
  const nonRetryable =
    (re = /./) =>
    (err: Failure) =>
      re.test(err.message) && err.nonRetryable === true;

  it(
    'the issued callback carries an HMAC the receiver verifies with its key and the body digest; ' +
      'retried until 2xx, then never again',
    async () => {
      const { db } = get();
      answer.catalog = 200;
      const { client, verify, check } = await businessSystem();

      const appId = await createApplication(db, s.deps.masterKey, {
        callbackUrl: `${base}/callback`,
        externalRef: 'QY-2026-0042',
        submitter: { type: 'api-client', id: client.id },
      });
      const { number } = await issue(s, appId);
      answer.callback = 503;
      await assert.rejects(s.acts.notifyCallback(appId), retryable(/answered 503/));
      answer.callback = 200;
      assert.deepEqual(await s.acts.notifyCallback(appId), { delivered: true });
      assert.deepEqual(await s.acts.notifyCallback(appId), { delivered: true, skipped: 'already delivered' });

      const calls = received.filter((r) => r.path === '/callback');
      assert.equal(calls.length, 2, 'one failed attempt, one delivery, nothing after');
      const [msg, ...more] = await listOutboxMessages(db, { subject: appId });
      assert.equal(more.length, 0, 'one message for the application, however often it was notified');
      assert.deepEqual(
        [msg!.event, msg!.dedupeKey, msg!.status, msg!.attempts, msg!.lastStatusCode, msg!.signingOwner],
        ['certificate.issued', `certificate.issued:${appId}`, 'delivered', 2, 200, `api-client:${client.id}`],
      );
      for (const c of calls) check(c, msg!, 'certificate.issued');
      assert.equal(
        verify({ ...calls[1]!, body: calls[1]!.body.replace('issued', 'revoked') }),
        false,
        'a changed body does not verify',
      );
      const body = JSON.parse(calls[1]!.body);
      assert.deepEqual(body, {
        applicationId: appId,
        externalRef: 'QY-2026-0042',
        certificateNumber: number,
        // The link works for the receiver as it is: it states the reason API clients must give.
        downloadUrl:
          `${s.deps.config.http.publicUrl}/api/v1/certificates/${number}/pdf?reason=` +
          encodeURIComponent(`certificate.issued callback: collect the certificate issued for application ${appId}`),
        status: 'issued',
      });
      assert.deepEqual(await attemptsOf(msg!), [
        ['failed', 503],
        ['delivered', 200],
      ]);

      // Enqueueing the same event again keeps the first message, body and all.
      const again = await enqueue(db, {
        event: 'certificate.issued',
        subject: appId,
        targetUrl: `${base}/elsewhere`,
        owner: { kind: 'department', code: 'market' },
        body: { status: 'changed' },
      });
      assert.deepEqual([again.id, again.body, again.targetUrl], [msg!.id, msg!.body, msg!.targetUrl]);
      assert.equal((await listOutboxMessages(db, { subject: appId })).length, 1);

      // The download link works for that business system, which states its reason for use.
      const pdf = await app.fetch(`/api/v1/certificates/${number}/pdf?reason=${encodeURIComponent('存档')}`, {
        apiKey: client.apiKey,
      });
      assert.equal(pdf.status, 200);
      assert.equal(
        Buffer.from(await pdf.arrayBuffer())
          .subarray(0, 5)
          .toString(),
        '%PDF-',
      );
    },
  );

  it('the revocation notice goes through the same outbox: signed, digest, retried, recorded', async () => {
    const { db } = get();
    const { client, check } = await businessSystem();
    const life = lifecycleActivities(s.deps);
    const appId = await createApplication(db, s.deps.masterKey, {
      callbackUrl: `${base}/callback`,
      externalRef: 'QY-2026-0043',
      submitter: { type: 'api-client', id: client.id },
    });
    const { number } = await issue(s, appId);
    const actor = { type: 'user', id: 'market-admin', name: 'market-admin' } as const;
    const revoked = await life.revokeCertificate({ number, status: 'revoked', reason: '以欺骗手段取得许可', actor });
    assert.equal(revoked?.changed, true);

    answer.callback = 500;
    const notify = () => life.notifyStatusChange({ number, event: 'revoked' });
    await assert.rejects(notify(), retryable(/answered 500/));
    await assert.rejects(notify(), retryable(/answered 500/));
    answer.callback = 200;
    assert.deepEqual(await notify(), { delivered: true });
    assert.deepEqual(await notify(), { delivered: true, skipped: 'already delivered' });

    const calls = received.filter((r) => r.path === '/callback');
    assert.equal(calls.length, 3);
    const [msg, ...more] = await listOutboxMessages(db, { subject: number });
    assert.equal(more.length, 0);
    assert.deepEqual(
      [msg!.event, msg!.dedupeKey, msg!.status, msg!.attempts],
      ['certificate.revoked', `certificate.revoked:${number}`, 'delivered', 3],
    );
    for (const c of calls) check(c, msg!, 'certificate.revoked');
    const cert = (await getCertificate(db, number))!;
    assert.deepEqual(JSON.parse(calls[2]!.body), {
      applicationId: appId,
      externalRef: 'QY-2026-0043',
      certificateNumber: number,
      status: 'revoked',
      reason: '以欺骗手段取得许可',
      changedAt: cert.statusChangedAt,
    });
    assert.deepEqual(await attemptsOf(msg!), [
      ['failed', 500],
      ['failed', 500],
      ['delivered', 200],
    ]);
    await assert.rejects(life.notifyStatusChange({ number, event: 'renamed' }), nonRetryable(/no callback for event/));
  });

  it('a receiver refusing the content (422) fails without retrying and the message is marked failed', async () => {
    const { db } = get();
    const appId = await createApplication(db, s.deps.masterKey, { callbackUrl: `${base}/refuse` });
    await issue(s, appId);
    await assert.rejects(s.acts.notifyCallback(appId), nonRetryable(/answered 422/));
    await assert.rejects(s.acts.notifyCallback(appId), nonRetryable(/was refused/));
    assert.equal(received.length, 1, 'a refused message is not sent again');
    const [msg] = await listOutboxMessages(db, { subject: appId });
    assert.deepEqual(
      [msg!.status, msg!.attempts, msg!.lastStatusCode, msg!.signingOwner],
      ['failed', 1, 422, 'department:market'],
    );
  });

  it('expiry reminders are sent once through the outbox; a failed one waits for a later sweep', async () => {
    const { db } = get();
    const { check } = await businessSystem();
    const life = lifecycleActivities(s.deps);
    const appId = await createApplication(db, s.deps.masterKey, { callbackUrl: `${base}/callback` });
    const { number } = await issue(s, appId);
    await db('certificates').where({ number }).update({ valid_until: '2099-12-30' });
    assert.equal(await life.remindExpiring({ from: '2099-12-01', to: '2099-12-31', limit: 100 }), 1);

    answer.callback = 502;
    assert.deepEqual(await life.notifyExpiring({ limit: 100 }), { enqueued: 1, attempted: 1, delivered: 0 });
    let [msg] = await listOutboxMessages(db, { subject: number, event: 'certificate.expiring' });
    assert.deepEqual([msg!.status, msg!.attempts, msg!.lastStatusCode], ['pending', 1, 502]);
    assert.ok(Date.parse(msg!.nextAttemptAt!) > Date.now(), 'backed off');
    const nothing = { enqueued: 0, attempted: 0, delivered: 0 };
    assert.deepEqual(await life.notifyExpiring({ limit: 100 }), nothing, 'not due yet, not enqueued again');

    answer.callback = 200;
    // The next sweep, an hour on.
    await db('outbox')
      .where({ id: msg!.id })
      .update({ next_attempt_at: new Date(Date.now() - 1000) });
    assert.deepEqual(await life.notifyExpiring({ limit: 100 }), { enqueued: 0, attempted: 1, delivered: 1 });
    assert.deepEqual(await life.notifyExpiring({ limit: 100 }), nothing);
    [msg] = await listOutboxMessages(db, { subject: number, event: 'certificate.expiring' });
    assert.deepEqual([msg!.status, msg!.attempts], ['delivered', 2]);
    const calls = received.filter((r) => r.path === '/callback');
    assert.equal(calls.length, 2);
    // Staff entered this application: the department's key signs it (its admin hands it out).
    const admin = await app.login('market-admin');
    const keyRes = await app.fetch('/api/v1/callbacks/signing-key?department=market', { token: admin });
    const key = Buffer.from(((await keyRes.json()) as { key: string }).key, 'base64');
    for (const c of calls) {
      const hmac = createHmac('sha256', key).update(c.body).digest('hex');
      assert.equal(c.headers['x-certflow-signature'], `sha256=${hmac}`);
      const otherKey = /verifies the signature/;
      assert.throws(() => check(c, msg!, 'certificate.expiring'), otherKey, "an API client's key does not verify it");
    }
    const body = JSON.parse(calls[1]!.body);
    assert.deepEqual(
      [body.certificateNumber, body.status, body.validUntil, body.applicationId],
      [number, 'valid', '2099-12-30', appId],
    );
  });

  it('a receiver that never answers is cut off at the time limit and the attempt recorded as failed', async () => {
    const { db } = get();
    const appId = await createApplication(db, s.deps.masterKey, { callbackUrl: `${base}/hang` });
    await issue(s, appId);
    const impatient = sealingActivities({
      ...s.deps,
      config: { ...s.deps.config, callbacks: { timeoutMs: 300, allowPrivate: true } },
    });
    const t0 = Date.now();
    await assert.rejects(impatient.notifyCallback(appId), /no answer within 300 ms/);
    assert.ok(Date.now() - t0 < 3000);
    const [msg] = await listOutboxMessages(db, { subject: appId });
    assert.deepEqual([msg!.status, msg!.attempts, msg!.lastStatusCode], ['pending', 1, null]);
    assert.match(msg!.lastError!, /no answer within 300 ms/);
    assert.deepEqual(await attemptsOf(msg!), [['failed', null]]);
  });

  it('an application without a callback URL is not called', async () => {
    const { db } = get();
    const appId = await createApplication(db, s.deps.masterKey);
    await issue(s, appId);
    assert.deepEqual(await s.acts.notifyCallback(appId), { delivered: false, skipped: 'no callback URL' });
    assert.equal(received.length, 0);
  });
});
