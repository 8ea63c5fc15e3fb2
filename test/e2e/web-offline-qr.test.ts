import assert from 'node:assert/strict';
import PizZip from 'pizzip';
import type { Browser, Route } from 'playwright-core';
import type { Client } from '@temporalio/client';
import { createTestDatabase, type TestDatabase } from '../support/databases';
import { startTestApp, testWarmConverter, type TestApp } from '../support/app';
import { createApplication, issue, setupSealing, type Issued, type SealingSetup } from '../integration/sealing/helpers';
import { launchChromium, newPage, screenshot } from './web-harness';
import { makeQrPng } from '../../services/documents/render';
import { verifyUrl } from '../../services/documents/certificate';

/**
 * The printed QR code's offline signature (docs/trust.md, "Offline QR"), end to end: the sealed
 * DOCX carries a QR code whose URL has the token after `#`; the public verify page checks it in
 * Chromium with WebCrypto against the department key it cached, and shows the result while the
 * live status request is still unanswered — the offline part is computed in the browser.
 */
describe('verify page: offline QR check (Chromium)', function () {
  this.timeout(180_000);
  let database: TestDatabase;
  let s: SealingSetup;
  let app: TestApp;
  let browser: Browser;
  let issued: Issued;
  let token: string;

  before(async () => {
    database = await createTestDatabase('sqlite');
    await testWarmConverter().start();
    s = await setupSealing(database.db, testWarmConverter());
    issued = await issue(
      s,
      await createApplication(database.db, s.deps.masterKey, {
        typeCode: 'PQ',
        holder: { kind: 'person', id: '11010519491231002X', name: '张三丰' },
      }),
    );
    token = (await database.db('offline_qr_signatures').where({ certificate_number: issued.number }).first()).token;
    [app, browser] = await Promise.all([
      startTestApp({ db: database.db, temporal: {} as Client, deps: s.deps }),
      launchChromium(),
    ]);
  });
  after(async () => {
    await browser?.close().catch(() => {});
    await app?.close();
    await database?.drop();
  });

  it('the sealed DOCX prints the verify URL with the signature after #', async () => {
    const docx = await s.deps.blobs.get(issued.docxSha);
    const media = new PizZip(docx).file(/^word\/media\//).map((f) => f.asNodeBuffer());
    const expected = await makeQrPng(`${verifyUrl(s.deps.config.http.publicUrl, issued.number)}#${token}`);
    assert.ok(
      media.some((m) => m.equals(expected)),
      'the QR image encodes verify URL # token',
    );
  });

  it('shows the offline result computed in the browser before the server answers, then the live status; a forged token fails', async () => {
    const { context, page, errors } = await newPage(browser, app.url);
    // First visit: the page fetches and keeps the departments' keys.
    await page.goto(`/verify/${issued.number}#${token}`);
    await page.locator('[data-offline="passed"]').waitFor();
    await page.locator('.verify-report').waitFor();
    assert.ok(await page.evaluate('localStorage.getItem("certflow.offlineKeys")'));

    // Second visit: every API request is held unanswered and recorded.
    const held: Route[] = [];
    const asked: string[] = [];
    await context.route('**/api/**', (route) => {
      asked.push(new URL(route.request().url()).pathname);
      held.push(route);
    });
    await page.goto('/verify'); // another document first: the same URL with a fragment would not load again
    await page.goto(`/verify/${issued.number}#${token}`);
    const offline = page.locator('[data-offline="passed"]');
    await offline.waitFor();
    const text = await offline.innerText();
    assert.match(text, /二维码签名有效/);
    assert.match(text, /张\*丰/, 'the masked name the department signed');
    assert.match(text, new RegExp(issued.number));
    assert.equal(await page.locator('.verify-report').count(), 0, 'no live answer yet');
    assert.deepEqual(asked, [`/api/v1/verify/${issued.number}`], 'only the live status was asked, no key, no token');
    await screenshot(page, 'verify-offline-qr');
    for (const r of held) await r.continue();
    await context.unroute('**/api/**');
    await page.locator('.verify-report.verify-passed').waitFor();

    // A token whose facts were changed (validity stretched) does not verify.
    const [prefix, payload, sig] = token.split('.') as [string, string, string];
    const facts = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown[];
    facts[4] = '2099-12-31';
    const forged = `${prefix}.${Buffer.from(JSON.stringify(facts)).toString('base64url')}.${sig}`;
    await page.goto('/verify');
    await page.goto(`/verify/${issued.number}#${forged}`);
    const failed = page.locator('[data-offline="failed"]');
    await failed.waitFor();
    assert.match(await failed.innerText(), /签名与信息不符/);
    await screenshot(page, 'verify-offline-qr-forged');
    assert.deepEqual(errors, []);
    await context.close();
  });
});
