import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { launchChromium, newPage, signIn, screenshot } from './web-harness';
import { issuanceHarness, LICENCE, type IssuanceHarness } from '../support/issuance';

/** Reloads until the locator shows (work done by the workflow lands a moment after the click). */
async function eventually(page: Page, locator: Locator, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // The page draws after its API calls answer: give it a moment before looking again.
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
 * The whole issuance path through the pages, as the people who do it every day:
 * a filler submits, a reviewer returns it, the filler amends, the reviewer approves, the
 * sealing officer seals on the online-sealing page, and anyone verifies the certificate.
 */
describe('issuance through the web pages in Chromium', function () {
  this.timeout(120_000);
  let h: IssuanceHarness;
  let browser: Browser;
  let applicationId = '';
  let certificateNumber = '';
  const pageErrors: string[] = [];

  before(async () => {
    [h, browser] = await Promise.all([issuanceHarness('sqlite'), launchChromium()]);
  });
  after(async () => {
    await browser?.close().catch(() => {});
    await h?.close();
    assert.deepEqual(pageErrors, [], 'no script errors on any page');
  });

  /** Each step continues the one before; stop at once when that did not happen. */
  const needs = (what: string, value: string) => assert.ok(value, `needs ${what} from the step before`);

  async function as(username: string) {
    const p = await newPage(browser, h.app.url);
    await signIn(p.page, username);
    return {
      page: p.page,
      done: async () => {
        pageErrors.push(...p.errors);
        await p.context.close();
      },
    };
  }

  it('a filler submits an application through the form generated from the type, checked in the browser first', async () => {
    const { page, done } = await as('market-filler');
    await page.getByRole('navigation', { name: '主导航' }).getByRole('link', { name: '新建申请' }).click();
    await page.getByRole('link', { name: '填报营业执照' }).first().click();
    await page.getByRole('heading', { name: /新建申请：营业执照/ }).waitFor();
    const holder = page.getByRole('group', { name: /持证主体（法人或其他组织）/ });
    await holder.getByLabel('统一社会信用代码').fill('91330106MA2B3C4DB1'); // wrong check character
    await holder.getByLabel('名称').fill(LICENCE.holder.name);
    const face = page.locator('section', { has: page.getByRole('heading', { name: '照面信息' }) });
    const f = LICENCE.faceData;
    await face.getByRole('textbox', { name: '名称', exact: true }).fill(f.entityName);
    await face.getByLabel('统一社会信用代码').fill(f.creditCode);
    await face.getByLabel('类型').selectOption(f.entityType);
    await face.getByLabel('法定代表人').fill(f.legalRepresentative);
    await face.getByLabel('经营范围').fill(f.businessScope);
    await face.getByLabel('注册资本').fill(f.registeredCapital);
    await face.getByLabel('成立日期').fill(f.establishedOn);
    await face.getByLabel('住所').fill(f.address);
    await page.getByRole('button', { name: '提交申请' }).click();
    const summary = page.getByRole('alert');
    await summary.waitFor();
    assert.match(await summary.innerText(), /统一社会信用代码：校验码应为 0，实际为 1/);
    assert.equal(
      await h.t
        .db('applications')
        .count({ n: '*' })
        .first()
        .then((r) => Number(r?.n)),
      0,
      'nothing was sent',
    );
    await screenshot(page, 'filler-form-check-digit');

    await holder.getByLabel('统一社会信用代码').fill(LICENCE.holder.id);
    await page.getByRole('button', { name: '提交申请' }).click();
    await page.waitForURL(/\/applications\/[0-9a-f-]{36}\?created=1/);
    applicationId = /\/applications\/([0-9a-f-]{36})/.exec(page.url())![1]!;
    await page.getByText('申请已提交，进入审批流程。').waitFor();
    assert.match(await page.locator('dl.facts').first().innerText(), /审批中/);
    await done();
  });

  it('the reviewer finds it in the inbox and returns it for correction with a comment', async () => {
    needs('the application', applicationId);
    const { page, done } = await as('market-reviewer');
    await page.waitForURL(/\/inbox/);
    await page.getByRole('tab', { name: /本岗位待领任务/ }).click();
    const row = page.getByRole('row', { name: new RegExp(applicationId.slice(0, 8)) });
    await eventually(page, row);
    assert.match(await row.innerText(), /营业执照\s+杭州西湖示例科技有限公司\s+审核\s+审核人员\s+market/);
    assert.match(await page.getByRole('tab', { name: /本岗位待领任务/ }).innerText(), /\(\d+\)/);
    await screenshot(page, 'inbox');

    await row.getByRole('link', { name: '办理' }).click();
    await page.getByRole('heading', { name: '审核：营业执照' }).waitFor();
    const face = await page.getByRole('table', { name: '照面信息' }).innerText();
    assert.match(face, /名称\s+杭州西湖示例科技有限公司/);
    assert.match(face, /成立日期\s+2024-03-15/);
    await page.getByLabel('退回修改').check();
    await page.getByRole('button', { name: '提交' }).click();
    await page.getByText('退回修改或不予通过时必须填写处理意见。').first().waitFor();
    await page.getByLabel('处理意见').fill('经营范围请按营业执照核准内容填写。');
    await page.getByRole('button', { name: '提交' }).click();
    await page.getByText('已退回申请人修改。').waitFor();
    await screenshot(page, 'task-returned');
    await done();
  });

  it('the filler sees it returned, reads the comment and amends', async () => {
    needs('the application', applicationId);
    const { page, done } = await as('market-filler');
    await page.goto('/applications');
    const row = page.getByRole('row', { name: /已退回待修改/ });
    await eventually(page, row);
    await row.getByRole('link', { name: '修改' }).click();
    await page.getByRole('note').getByText('经营范围请按营业执照核准内容填写。').waitFor();
    const scope = page.getByLabel('经营范围');
    assert.equal(await scope.inputValue(), LICENCE.faceData.businessScope, 'the form starts from what was submitted');
    await scope.fill('软件开发；信息技术咨询服务；数据处理服务。');
    await page.getByRole('button', { name: '修改后重新提交' }).click();
    await page.getByText('修改已提交，审批流程重新开始。').waitFor();
    await done();
  });

  it('the reviewer approves the corrected application', async () => {
    needs('the application', applicationId);
    const { page, done } = await as('market-reviewer');
    await page.goto('/inbox?view=queue');
    const row = page.getByRole('row', { name: new RegExp(applicationId.slice(0, 8)) });
    await eventually(page, row);
    await row.getByRole('link', { name: '办理' }).click();
    assert.match(await page.getByRole('table', { name: '照面信息' }).innerText(), /数据处理服务/);
    assert.match(await page.locator('.timeline').innerText(), /退回修改[\s\S]*经营范围请按营业执照核准内容填写/);
    await page.getByLabel('处理意见').fill('同意。');
    await page.getByRole('button', { name: '提交' }).click();
    await page.getByText('已提交：通过。').waitFor();
    await done();
  });

  it('the sealing officer seals on the online-sealing page and the certificate appears', async () => {
    needs('the application', applicationId);
    const { page, done } = await as('market-sealer');
    await page.goto(`/seal/${applicationId}`);
    await page.getByRole('heading', { name: '在线签章：营业执照' }).waitFor();
    await eventually(page, page.getByRole('button', { name: '提交' }));
    await page.getByRole('button', { name: '提交' }).click();
    await page.getByText('已确认签章').waitFor();
    const link = page.getByRole('region', { name: '已发证' }).locator('a[href^="/certificates/"]');
    await eventually(page, link, 60_000);
    certificateNumber = decodeURIComponent((await link.first().getAttribute('href'))!.split('/').pop()!);
    await link.first().click();
    await page.getByRole('heading', { name: new RegExp(certificateNumber) }).waitFor();
    assert.match(await page.locator('dl.facts').first().innerText(), /状态\s+有效/);
    const pdf = page.waitForResponse((r) => r.url().endsWith('/pdf'));
    await page.getByRole('button', { name: '查看证照 PDF' }).click();
    assert.equal((await pdf).headers()['content-type'], 'application/pdf');
    await page.locator('iframe.pdf-frame').waitFor();
    await page.waitForTimeout(1500); // Chromium's PDF viewer draws the page
    await screenshot(page, 'certificate');
    await done();
  });

  it('four-eyes: someone who filled in an application cannot approve it, and is told so in plain words', async () => {
    const admin = await h.app.login('market-admin');
    const created = await h.app.fetch('/api/v1/users', {
      token: admin,
      json: {
        username: 'market-both',
        displayName: '兼任填报与审核',
        password: 'both-roles-2026',
        roles: [
          { role: 'filler', department: 'market' },
          { role: 'reviewer', department: 'market' },
        ],
      },
    });
    assert.equal(created.status, 201);
    const both = await h.app.login('market-both', 'both-roles-2026');
    const submitted = await h.app.fetch('/api/v1/applications', { token: both, json: LICENCE });
    const body = await submitted.text();
    assert.equal(submitted.status, 201, body);
    const { id } = JSON.parse(body) as { id: string };

    const p = await newPage(browser, h.app.url);
    await signIn(p.page, 'market-both', 'both-roles-2026');
    await p.page.goto('/inbox?view=queue');
    const row = p.page.getByRole('row', { name: new RegExp(id.slice(0, 8)) });
    await eventually(p.page, row);
    await row.getByRole('link', { name: '办理' }).click();
    await p.page.getByRole('button', { name: '提交' }).click();
    const alert = p.page.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), /四眼原则/);
    assert.doesNotMatch(await alert.locator('.msg-text').innerText(), /[{}"]|four-eyes/);
    await screenshot(p.page, 'task-four-eyes');
    pageErrors.push(...p.errors);
    await p.context.close();
  });

  it('the public verify page shows the certificate valid, check by check, without sign-in', async () => {
    needs('the certificate', certificateNumber);
    const p = await newPage(browser, h.app.url);
    await p.page.goto(`/verify/${encodeURIComponent(certificateNumber)}`);
    await p.page.getByText('证照真实有效').waitFor();
    const checks = await p.page.locator('ul.checks').innerText();
    assert.match(checks, /数字签名有效[\s\S]*证照当前有效/);
    assert.doesNotMatch(checks, /未通过|无法确定|已被修改/);
    await screenshot(p.page, 'verify-valid');
    pageErrors.push(...p.errors);
    await p.context.close();
  });

  it('the same page shows a tampered PDF as not valid, naming the failed check', async () => {
    needs('the certificate', certificateNumber);
    const sealer = await h.app.login('market-sealer');
    const pdf = Buffer.from(
      await (
        await h.app.fetch(`/api/v1/certificates/${encodeURIComponent(certificateNumber)}/pdf`, { token: sealer })
      ).arrayBuffer(),
    );
    const tampered = Buffer.from(pdf);
    const at = tampered.indexOf('/Producer') > 0 ? tampered.indexOf('/Producer') + 12 : Math.floor(tampered.length / 3);
    tampered[at] = tampered[at]! ^ 0x01;
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'certflow-web-')), 'tampered.pdf');
    fs.writeFileSync(file, tampered);

    const p = await newPage(browser, h.app.url);
    await p.page.goto('/verify');
    await p.page.getByLabel('证照 PDF 文件').setInputFiles(file);
    await p.page.getByRole('button', { name: '上传并验证' }).click();
    await p.page.getByText('验证未通过').waitFor();
    assert.match(await p.page.locator('ul.checks').innerText(), /文件已被修改/);
    await p.page.getByText('您上传的文件与签发的原件不一致').waitFor();
    await screenshot(p.page, 'verify-tampered');
    pageErrors.push(...p.errors);
    await p.context.close();
  });

  it("a handler finds the certificate by the holder's credit code, with a reason for use", async () => {
    needs('the certificate', certificateNumber);
    const { page, done } = await as('market-handler');
    await page.waitForURL(/\/certificates$/);
    await page.getByLabel('持证主体证件号码').fill(LICENCE.holder.id);
    await page.getByLabel('用证事由').fill('办理食品经营许可核查主体资格');
    await page.getByRole('button', { name: '查询' }).click();
    const row = page.getByRole('row', { name: new RegExp(certificateNumber) });
    await row.waitFor();
    assert.match(await row.innerText(), /营业执照\s+杭州西湖示例科技有限公司 913301\*+4DB0\s+市场监督管理局/);
    await screenshot(page, 'certificates-search');
    await done();
  });

  it('the department admin revokes it with a reason, and the certificate page says so', async () => {
    needs('the certificate', certificateNumber);
    const { page, done } = await as('market-admin');
    await page.goto(`/certificates/${encodeURIComponent(certificateNumber)}`);
    await page.getByRole('button', { name: '吊销' }).click();
    const dialog = page.getByRole('dialog', { name: `吊销证照 ${certificateNumber}？` });
    await dialog.getByRole('button', { name: '吊销' }).click();
    await dialog.getByText('必填').waitFor(); // a reason is required
    await dialog.getByLabel('原因').fill('以欺骗手段取得登记，依法吊销。');
    await dialog.getByRole('button', { name: '吊销' }).click();
    await page.getByText('证照已吊销。').waitFor();
    assert.match(await page.locator('dl.facts').first().innerText(), /状态\s+吊销 以欺骗手段取得登记，依法吊销。/);
    assert.equal(
      await page.getByRole('button', { name: '吊销' }).count(),
      0,
      'a revoked certificate cannot be revoked again',
    );
    await done();
  });

  it('after revocation the public verify page shows it revoked, with the reason', async () => {
    needs('the certificate', certificateNumber);
    const p = await newPage(browser, h.app.url);
    await p.page.goto(`/verify/${encodeURIComponent(certificateNumber)}`);
    await p.page.getByText('证照真实，但当前无效：吊销').waitFor();
    assert.match(await p.page.locator('.verdict').innerText(), /证照状态：吊销 — 以欺骗手段取得登记，依法吊销。/);
    assert.match(await p.page.locator('ul.checks').innerText(), /证照当前无效（吊销）/);
    await screenshot(p.page, 'verify-revoked');
    pageErrors.push(...p.errors);
    await p.context.close();
  });
});
