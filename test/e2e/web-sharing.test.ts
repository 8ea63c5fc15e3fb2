import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { Browser, Locator, Page } from 'playwright-core';
import { launchChromium, newPage, signIn, screenshot } from './web-harness';
import { sharingHarness, type SharingHarness } from '../support/sharing';
import { FACE_DATA } from '../integration/sealing/helpers';
import { DEMO_TYPES } from '../../db/seed-demo';
import { createType, setTypeStatus } from '../../db/certificate-types';
import { getDepartment } from '../../db/org';

/** Reloads until the locator shows (the workflow's grant lands a moment after the click). */
async function eventually(page: Page, locator: Locator, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const shown = await locator
      .first()
      .waitFor({ timeout: 1500 })
      .then(
        () => true,
        () => false,
      );
    if (shown) return;
    if (Date.now() > deadline) throw new Error(`not shown within ${timeoutMs} ms: ${locator}`);
    await page.reload();
  }
}

/**
 * Sharing through the web pages (docs/sharing.md): a market handler asks for a health
 * certificate, a health handler approves it among the requests received, and the market
 * handler downloads the annotated copy (加注件).
 */
describe('sharing through the web pages in Chromium', function () {
  this.timeout(180_000);
  let h: SharingHarness;
  let browser: Browser;
  let number: string;
  const pageErrors: string[] = [];

  before(async () => {
    [h, browser] = await Promise.all([sharingHarness('sqlite'), launchChromium()]);
    // A health certificate type (on the business licence's template), shared on condition.
    const template = (await h.t.db('certificate_type_versions').orderBy('id').first('template_sha256')).template_sha256;
    await createType(h.t.db, {
      code: 'HL',
      departmentId: (await getDepartment(h.t.db, 'health'))!.id,
      definition: { ...structuredClone(DEMO_TYPES[0]!.definition), name: '卫生许可证' },
      templateSha256: template as string,
      createdBy: 'test',
    });
    await setTypeStatus(h.t.db, 'HL', 'published', 1);
    await h.setSharing('HL', 'conditional');
    number = await h.issue({ typeCode: 'HL', faceData: FACE_DATA.BL, department: 'health' });
  });
  after(async () => {
    await browser?.close().catch(() => {});
    await h?.close();
    assert.deepEqual(pageErrors, [], 'no script errors on any page');
  });

  async function as(username: string) {
    const p = await newPage(browser, h.app.url);
    await signIn(p.page, username);
    return {
      page: p.page,
      context: p.context,
      done: async () => {
        pageErrors.push(...p.errors);
        await p.context.close();
      },
    };
  }

  it('market asks, health approves in its requests, market downloads the annotated copy', async () => {
    const market = await as('market-handler');
    // The search by holder shows the health certificate as needing a request, and leads to it.
    await market.page.goto(`/certificates?holderId=91350100M000100Y43&reason=${encodeURIComponent('核验卫生许可')}`);
    await market.page.getByRole('link', { name: '需申请用证' }).click();
    await market.page.waitForURL((u) => u.pathname === '/sharing');
    assert.equal(await market.page.getByLabel('证照编号').inputValue(), number);
    await market.page.getByLabel('用证事项').fill('食品经营许可核发');
    await market.page.getByLabel('用证事由').fill('核验卫生许可');
    const until = new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10);
    await market.page.getByLabel('有效期至').fill(until);
    await market.page.getByRole('button', { name: '提交申请' }).click();
    await market.page.getByText('用证申请已提交').waitFor();
    await market.page.getByRole('cell', { name: '待审批' }).waitFor();

    const health = await as('health-handler');
    await health.page.goto('/sharing');
    await health.page.getByRole('cell', { name: '食品经营许可核发' }).waitFor();
    await screenshot(health.page, 'sharing-received');
    await health.page.getByRole('button', { name: '同意', exact: true }).click();
    await health.page.getByText('已同意该用证申请').waitFor();
    await health.done();

    await market.page.goto('/sharing');
    const fetchButton = market.page.getByRole('button', { name: '获取加注件' });
    await eventually(market.page, fetchButton);
    const [download] = await Promise.all([market.page.waitForEvent('download'), fetchButton.click()]);
    const pdf = fs.readFileSync((await download.path())!);
    assert.match(pdf.subarray(0, 8).toString('latin1'), /^%PDF/);
    assert.ok(pdf.includes(Buffer.from('/ByteRange')), 'signed');
    const copies = await h.t.db('annotated_copies').where({ certificate_number: number, department: 'market' });
    assert.equal(copies.length, 1);
    assert.equal(copies[0].copy_sha256, (await import('node:crypto')).createHash('sha256').update(pdf).digest('hex'));
    await market.page.reload();
    await market.page.getByRole('heading', { name: '本部门获得的用证授权' }).waitFor();
    assert.ok(await market.page.getByRole('cell', { name: 'health', exact: true }).count());
    await screenshot(market.page, 'sharing-sent');
    await market.done();
  });
});
