import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { holderHarness, type HolderHarness } from '../support/holder';
import { launchChromium, screenshot } from './web-harness';

/**
 * The holder portal in Chromium at a phone viewport (docs/holders.md): sign in through the
 * development identity provider, see the certificates issued to the company, grant a department,
 * watch its handler's access appear in the usage log, revoke, and show a certificate once.
 */
describe('web: holder portal on a phone', function () {
  this.timeout(180_000);
  let h: HolderHarness;
  let browser: Browser;

  before(async () => {
    [h, browser] = await Promise.all([holderHarness(), launchChromium()]);
  });
  after(async () => {
    await browser?.close().catch(() => {});
    await h?.close();
  });

  it('signs in, grants, sees the use, revokes, and shows a code once', async () => {
    const context = await browser.newContext({
      baseURL: h.url,
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
      deviceScaleFactor: 2,
    });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));

    await page.goto('/holder');
    await page.getByRole('link', { name: '登录' }).click();
    await page.waitForURL(/\/dev-idp\/interaction\//);
    await screenshot(page, 'holder-idp');
    await page.getByRole('button', { name: /杭州西湖示例科技有限公司/ }).click();
    await page.waitForURL((u) => u.pathname === '/holder');
    await page.getByRole('heading', { name: '我的证照' }).waitFor();
    const cards = page.locator('a.cert-card');
    await cards.first().waitFor();
    assert.equal(await cards.count(), 2);
    await page.getByText('张三（代表 杭州西湖示例科技有限公司）').waitFor();
    await screenshot(page, 'holder-certificates');

    await page.locator(`a[href="/holder/certificates/${h.numbers.companyBL}"]`).click();
    await page.getByRole('heading', { name: '营业执照' }).waitFor();
    // The W3C credential for a wallet (docs/trust.md): a download link beside the PDF and the record.
    const credential = page.getByRole('link', { name: '下载可验证凭证（W3C VC）' });
    assert.equal(
      await credential.getAttribute('href'),
      `/api/v1/holder/certificates/${h.numbers.companyBL}/credential`,
    );
    await page.getByLabel('被授权部门').selectOption('health');
    await page.getByLabel('办理事项').fill('办理卫生许可');
    await page.getByRole('button', { name: '确认授权' }).click();
    await page.getByText(/已授权，至/).waitFor();
    await screenshot(page, 'holder-granted');

    const handler = await h.login('health-handler');
    const pdf = `/api/v1/certificates/${h.numbers.companyBL}/pdf?reason=${encodeURIComponent('核验营业执照')}`;
    assert.equal((await h.fetch(pdf, { token: handler })).status, 200);

    await page.getByRole('link', { name: '用证记录' }).click();
    await page.getByText('依据您的授权').waitFor();
    await page.getByText('用证事由: 核验营业执照').waitFor();
    await page.getByText(/经办人员 health-handler/).waitFor();
    await screenshot(page, 'holder-usage');

    await page.getByRole('link', { name: '用证授权' }).click();
    await page.getByRole('button', { name: '撤销授权' }).click();
    await page.getByText('授权已撤销。').waitFor();
    await screenshot(page, 'holder-revoked');
    assert.equal((await h.fetch(pdf, { token: handler })).status, 403);

    await page.getByRole('link', { name: '我的证照' }).click();
    await page.locator(`a[href="/holder/certificates/${h.numbers.companyBL}"]`).click();
    await page.getByRole('button', { name: '生成亮证码' }).click();
    const codeEl = page.locator('.show-code .code');
    await codeEl.waitFor();
    const code = (await codeEl.textContent())!.trim();
    await page.getByRole('img', { name: `亮证二维码，亮证码 ${code}` }).waitFor();
    await screenshot(page, 'holder-show-code');
    const redeem = () =>
      h.fetch('/api/v1/show-codes/redeem', { method: 'POST', token: handler, json: { code, reason: '窗口核验' } });
    assert.equal((await redeem()).status, 200);
    assert.equal((await redeem()).status, 410);
    assert.deepEqual(errors, []);
    await context.close();
  });
});
