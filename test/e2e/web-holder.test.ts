import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { holderHarness, type HolderHarness } from '../support/holder';
import { launchChromium, newPage, screenshot, signIn } from './web-harness';
import { addNotice } from '../../db/lifecycle';

/**
 * The holder portal in Chromium at a phone viewport (docs/holders.md): sign in through the
 * development identity provider, see the certificates issued to the company, grant a department,
 * watch its handler's access appear in the usage log, revoke, and show a certificate once; file a
 * correction request that the department's handler decides from the inbox, and show a
 * certificate at the counter page.
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

  async function phone() {
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
    await page.getByRole('button', { name: /杭州西湖示例科技有限公司/ }).click();
    await page.waitForURL((u) => u.pathname === '/holder');
    await page.getByRole('heading', { name: '我的证照' }).waitFor();
    return { context, page, errors };
  }

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

  it('files a correction that the handler decides from the inbox, and the holder sees the outcome', async () => {
    const holder = await phone();
    const page = holder.page;
    await page.locator(`a[href="/holder/certificates/${h.numbers.companyFBP}"]`).click();
    await page.getByRole('heading', { name: '申请注销或更正' }).waitFor();
    await page.getByRole('radio', { name: '更正申请（异议）' }).check();
    await page.getByLabel('有误的项目').selectOption('holder.name');
    await page.getByLabel('申请说明').fill('名称少了“示例”二字，应为杭州西湖示例科技有限公司');
    await page.getByRole('button', { name: '提交申请' }).click();
    await page.getByText('申请已提交，发证部门办理后将通知您。').waitFor();
    await screenshot(page, 'holder-request-filed');
    await page.getByRole('link', { name: '我的申请' }).first().click();
    const card = page.locator('section[data-request]').first();
    await card.getByText('办理中').waitFor();
    const requestId = await card.getAttribute('data-request');

    // The department's handler, at a desk: the request is in the inbox and opens on its own page.
    const staff = await newPage(browser, h.url);
    await signIn(staff.page, 'market-handler');
    await staff.page.goto('/inbox?view=queue');
    const link = staff.page.getByRole('link', { name: `持证人申请 #${requestId}` });
    // The workflow opens the task a moment after the request is filed.
    for (let i = 0; i < 60 && !(await link.count()); i++) {
      await staff.page.waitForTimeout(500);
      await staff.page.reload();
    }
    await link.click();
    await staff.page.getByRole('heading', { name: `更正申请（异议）：${h.numbers.companyFBP}` }).waitFor();
    await staff.page.getByText('名称少了“示例”二字').waitFor();
    await staff.page.getByRole('button', { name: '不予受理' }).click();
    await staff.page.getByText('不予受理时请填写理由。').waitFor();
    await staff.page.getByLabel('处理意见').fill('核实无误，将换发新证');
    await staff.page.getByRole('button', { name: '受理', exact: true }).click();
    await staff.page.getByText('已受理，持证人将收到通知。').waitFor();
    await screenshot(staff.page, 'holder-request-decided');

    await page.reload();
    await card.getByText('已受理').waitFor();
    await card.getByText(/部门将为您换发更正后的证照/).waitFor();
    await card.getByText('部门意见: 核实无误，将换发新证').waitFor();
    await screenshot(page, 'holder-request-outcome');

    // A reminder the expiry sweep would record (test/workflows/holder-requests.test.ts runs the sweep itself).
    await addNotice(h.t.db, {
      number: h.numbers.companyFBP,
      event: 'expiring',
      applicationId: null,
      callbackUrl: null,
      dueOn: '2031-12-01',
    });
    await page.reload();
    await page.getByRole('link', { name: /提醒/ }).click();
    await page.getByRole('heading', { name: '提醒', level: 1 }).waitFor();
    await page.getByText('1 条未读提醒').first().waitFor();
    await page.getByText(/证照将于 .*到期，请及时办理延续/).waitFor();
    await screenshot(page, 'holder-reminders');
    await page.getByRole('button', { name: '全部标为已读' }).click();
    await page.getByText('提醒已全部标为已读。').waitFor();
    assert.equal(await page.locator('li.reminder.unread').count(), 0);

    // The counter: the holder shows a code, the clerk sees the certificate once.
    await page.getByRole('link', { name: '我的证照' }).click();
    await page.locator(`a[href="/holder/certificates/${h.numbers.companyFBP}"]`).click();
    await page.getByRole('button', { name: '生成亮证码' }).click();
    const code = (await page.locator('.show-code .code').textContent())!.trim();
    await staff.page.getByRole('link', { name: '亮证核验' }).click();
    await staff.page.getByRole('textbox', { name: '亮证码' }).fill(code);
    await staff.page.getByRole('textbox', { name: '用证事由' }).fill('窗口办理变更');
    await staff.page.getByRole('button', { name: '核验并查看证照' }).click();
    await staff.page.locator(`[data-number="${h.numbers.companyFBP}"]`).waitFor();
    await screenshot(staff.page, 'counter-shown');
    await staff.page.getByRole('textbox', { name: '亮证码' }).fill(code);
    await staff.page.getByRole('button', { name: '核验并查看证照' }).click();
    await staff.page.getByRole('alert').waitFor();
    assert.equal(await staff.page.locator(`[data-number="${h.numbers.companyFBP}"]`).count(), 0);

    assert.deepEqual([...holder.errors, ...staff.errors], []);
    await staff.context.close();
    await holder.context.close();
  });
});
