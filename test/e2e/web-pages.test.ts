import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import PizZip from 'pizzip';
import type { Page } from 'playwright-core';
import { startWebWorld, newPage, signIn, screenshot, ARTIFACTS, type WebWorld } from './web-harness';
import {
  residentIdCheckChar,
  creditCodeCheckChar,
  validateCreditCode,
  validateResidentId,
} from '../../domain/check-digits';
import { validateFaceData } from '../../domain/face-fields';
import { DEMO_TYPES } from '../../db/seed-demo';

const TEMPLATES = path.resolve(__dirname, '../../templates');

/**
 * Runs `body` in the page with the web module at `modulePath` bound to `m` and `arg` as `arg`.
 * A string, not a function: the test file is compiled to CommonJS, which would turn import() into require().
 */
function inModule<T>(page: Page, modulePath: string, body: string, arg: unknown = null): Promise<T> {
  return page.evaluate(
    `(async (arg) => { const m = await import(${JSON.stringify(modulePath)}); ${body} })(${JSON.stringify(arg)})`,
  ) as Promise<T>;
}

/** A copy of a shipped template with its document.xml edited, written to a temp file for the file chooser. */
function editedTemplate(file: string, edit: (xml: string) => string): string {
  const zip = new PizZip(fs.readFileSync(path.join(TEMPLATES, file)));
  zip.file('word/document.xml', edit(zip.file('word/document.xml')!.asText()));
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'certflow-web-')), 'bad-template.docx');
  fs.writeFileSync(out, zip.generate({ type: 'nodebuffer' }) as Buffer);
  return out;
}

describe('web pages in Chromium: sign-in, admin, language', function () {
  this.timeout(90_000);
  let w: WebWorld;
  const pageErrors: string[] = [];

  before(async () => {
    w = await startWebWorld();
  });
  after(async () => {
    await w?.close();
    assert.deepEqual(pageErrors, [], 'no script errors on any page');
  });

  async function open(locale?: string) {
    const p = await newPage(w.browser, w.app.url, { locale });
    return {
      ...p,
      done: async () => {
        pageErrors.push(...p.errors);
        await p.context.close();
      },
    };
  }

  it('serves the pages, scripts and styles with a content security policy, and nothing outside web/static', async () => {
    const shell = await fetch(`${w.app.url}/verify/ABC`);
    assert.equal(shell.status, 200);
    assert.match(shell.headers.get('content-type') ?? '', /text\/html/);
    assert.match(shell.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.match(await shell.text(), /<script type="module" src="\/static\/js\/app.js">/);
    const js = await fetch(`${w.app.url}/static/js/app.js`);
    assert.match(js.headers.get('content-type') ?? '', /text\/javascript/);
    const again = await fetch(`${w.app.url}/static/js/app.js`, {
      headers: { 'if-none-match': js.headers.get('etag')! },
    });
    assert.equal(again.status, 304);
    for (const bad of [
      '/static/../serve.ts',
      '/static/%2e%2e/serve.ts',
      '/static/%2e%2e/%2e%2e/package.json',
      '/static/nothing.js',
      '/nowhere',
    ]) {
      const r = await fetch(`${w.app.url}${bad}`);
      assert.equal(r.status, 404, bad);
      assert.match(r.headers.get('content-type') ?? '', /problem\+json/, bad);
    }
    assert.equal((await fetch(`${w.app.url}/api/v1/auth/me`)).status, 401, 'the API is untouched');
  });

  it('signs in: a wrong password is told in Chinese, then the header shows who and which roles, and the navigation fits them', async () => {
    const { page, done } = await open();
    await page.goto('/inbox');
    await page.waitForURL(/\/login\?next=%2Finbox/);
    await page.getByLabel('用户名').fill('market-admin');
    await page.getByLabel('密码').fill('not-the-password');
    await page.getByRole('button', { name: '登录' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), /用户名或密码错误/);
    assert.doesNotMatch(await alert.innerText(), /[{}"]|Unauthorized/, 'no raw JSON or English');
    assert.equal(await page.getByLabel('密码').inputValue(), '', 'the password is cleared');
    await screenshot(page, 'login-wrong-password', { fullPage: false });

    await page.getByLabel('密码').fill('certflow-demo');
    await page.getByRole('button', { name: '登录' }).click();
    await page.waitForURL(/\/inbox$/);
    const header = page.locator('#topbar');
    await header.getByText('市场监督管理局管理员').waitFor();
    assert.match(await header.innerText(), /部门管理员 · market/);
    assert.ok(await page.evaluate('sessionStorage.getItem("certflow.token")'), 'token kept in sessionStorage');
    const nav = await page.getByRole('navigation', { name: '主导航' }).innerText();
    for (const item of ['待办任务', '证照类型', '人员与角色', '印章管理', '证照查询', '证照验证'])
      assert.match(nav, new RegExp(item));
    assert.doesNotMatch(nav, /新建申请/, 'an admin does not fill in applications');

    await page.getByRole('button', { name: '退出登录' }).click();
    await page.waitForURL(/\/login\?signedOut=1/);
    await page.getByText('您已安全退出').waitFor();
    assert.equal(await page.evaluate('sessionStorage.getItem("certflow.token")'), null);
    await done();
  });

  it("a filler sees only the filler's pages", async () => {
    const { page, done } = await open();
    await signIn(page, 'market-filler');
    const nav = await page.getByRole('navigation', { name: '主导航' }).innerText();
    assert.match(nav, /新建申请/);
    assert.match(nav, /我的申请/);
    assert.doesNotMatch(nav, /证照类型|人员与角色|印章管理|待办任务/);
    await done();
  });

  it('a department admin creates a staff member with a role, who can then sign in', async () => {
    const { page, done } = await open();
    await signIn(page, 'market-admin');
    await page.getByRole('link', { name: '人员与角色' }).click();
    await page.getByRole('heading', { name: '人员与角色', level: 1 }).waitFor();
    await page.getByRole('cell', { name: 'market-reviewer', exact: true }).waitFor();

    const form = page.locator('form', { has: page.getByRole('button', { name: '创建人员' }) });
    await form.getByLabel('用户名').fill('market-reviewer2');
    await form.getByLabel('姓名').fill('市场监管局审核员二');
    await form.getByLabel('初始密码').fill('short');
    await form.getByLabel('角色', { exact: true }).selectOption('reviewer');
    await form.getByRole('button', { name: '创建人员' }).click();
    const summary = form.getByRole('alert');
    await summary.waitFor();
    assert.match(await summary.innerText(), /初始密码：至少 10 个字符/);
    assert.equal(await form.getByLabel('初始密码').getAttribute('aria-invalid'), 'true');

    await form.getByLabel('初始密码').fill('a-good-password-2026');
    await form.getByRole('button', { name: '创建人员' }).click();
    await page.getByRole('status').filter({ hasText: '已创建人员 market-reviewer2' }).waitFor();
    const row = page.getByRole('row', { name: /market-reviewer2/ });
    await row.waitFor();
    assert.match(await row.innerText(), /审核人员 · 市场监督管理局/);
    await screenshot(page, 'admin-staff');

    const created = await w.database.db('users').where({ username: 'market-reviewer2' }).first();
    assert.ok(created, 'the user exists');
    const token = await w.app.login('market-reviewer2', 'a-good-password-2026');
    const me = (await (await w.app.fetch('/api/v1/auth/me', { token })).json()) as {
      roles: { role: string; department: string }[];
    };
    assert.deepEqual(
      me.roles.map((r) => [r.role, r.department]),
      [['reviewer', 'market']],
    );
    await done();
  });

  it('uploads a template whose tags do not fit and is shown each bad tag by name; then previews the type as a PDF', async () => {
    const { page, done } = await open();
    await signIn(page, 'market-admin');
    await page.waitForURL(/\/admin\/types$/);
    await page.getByRole('link', { name: '营业执照' }).click();
    await page.getByRole('heading', { name: '营业执照', level: 1 }).waitFor();
    assert.match(await page.locator('table').first().innerText(), /entityName[\s\S]*名称[\s\S]*文本/);

    const bad = editedTemplate('business-licence.docx', (x) => x.replace('{entityName}', '{companyName}'));
    await page.getByLabel('模板文件').setInputFiles(bad);
    await page.getByRole('button', { name: '上传并检查' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), /模板中的标签与照面字段不符/);
    const problems = page.getByRole('table', { name: '模板标签检查结果' });
    await problems.waitFor();
    const text = await problems.innerText();
    assert.match(text, /companyName\s+未知标签 \{companyName\}：不是本类型的照面字段/);
    assert.match(text, /entityName\s+必填照面字段 entityName（名称）未出现在模板中/);
    await screenshot(page, 'admin-template-bad-tag');
    const bl = await w.database.db('certificate_types').where({ code: 'BL' }).first();
    assert.equal(bl.latest_version, 1, 'a refused template saves nothing');

    const preview = page.waitForResponse((r) => r.url().includes('/api/v1/certificate-types/BL/preview'));
    await page.getByRole('button', { name: '生成样本预览' }).click();
    const response = await preview;
    assert.equal(response.status(), 200);
    assert.equal(response.headers()['content-type'], 'application/pdf');
    const frame = page.locator('iframe.pdf-frame');
    await frame.waitFor();
    assert.match((await frame.getAttribute('src')) ?? '', /^blob:/);
    assert.equal(await frame.getAttribute('title'), '营业执照 v1 样本预览（PDF）');
    await frame.scrollIntoViewIfNeeded();
    await page.waitForTimeout(2000); // let Chromium's PDF viewer draw the page before the screenshot
    await frame.screenshot({ path: `${ARTIFACTS}/web-admin-type-preview.png` });
    await done();
  });

  it('creates a certificate type with the face fields editor, catching a missing option list before sending', async () => {
    const { page, done } = await open();
    await signIn(page, 'market-admin');
    await page.getByRole('link', { name: '新建证照类型' }).click();
    await page.getByLabel('类型代码').fill('WEB1');
    await page.getByRole('textbox', { name: '名称', exact: true }).fill('网页测试证');
    await page.getByRole('button', { name: '添加字段' }).click();
    const f1 = page.getByRole('group', { name: /^字段 1/ });
    await f1.getByLabel('字段键').fill('title');
    await f1.getByLabel('显示名称').fill('标题');
    await f1.getByLabel('最多字数').fill('20');
    await page.getByRole('button', { name: '添加字段' }).click();
    const f2 = page.getByRole('group', { name: /^字段 2/ });
    await f2.getByLabel('字段键').fill('grade');
    await f2.getByLabel('显示名称').fill('等级');
    await f2.getByLabel('类型').selectOption('enum');
    await page.getByRole('button', { name: '创建（草稿）' }).click();
    const summary = page.getByRole('alert');
    await summary.waitFor();
    assert.match(await summary.innerText(), /字段 2 · 选项：选项类字段必须填写选项/);
    await f2.getByLabel('选项').fill('甲\n乙');
    await page.getByRole('button', { name: '创建（草稿）' }).click();
    await page.waitForURL(/\/admin\/types\/WEB1\?saved=1/);
    await page.getByRole('heading', { name: '网页测试证', level: 1 }).waitFor();
    const fieldsText = await page.getByRole('table', { name: '照面字段' }).innerText();
    assert.match(fieldsText, /title\s+标题\s+文本\s+是\s+最多 20 字/);
    assert.match(fieldsText, /grade\s+等级\s+选项\s+是\s+选项：甲、乙/);
    await screenshot(page, 'admin-type-created');
    await done();
  });

  it('adds a seal from a PNG alone outside production (a development certificate is made), listed with its certificate', async () => {
    const { page, done } = await open();
    await signIn(page, 'market-admin');
    await page.getByRole('link', { name: '印章管理' }).click();
    await page.getByRole('heading', { name: '印章管理', level: 1 }).waitFor();
    const before = await page.getByRole('table', { name: '印章管理' }).getByRole('row').count();
    await page.getByRole('button', { name: '添加印章' }).click();
    const summary = page.getByRole('alert');
    await summary.waitFor();
    assert.match(await summary.innerText(), /印章名称：至少 2 个字符[\s\S]*印章图片：请选择印章图片/);
    await page.getByRole('textbox', { name: '印章名称', exact: true }).fill('市场监管局网页测试章');
    await page.getByLabel('印章图片').setInputFiles(path.join(TEMPLATES, 'seals', 'market.png'));
    await page.getByRole('img', { name: '印章图片预览' }).waitFor();
    await page.getByLabel('设为本部门默认印章').uncheck(); // the other tests preview with the default seal
    await page.getByRole('button', { name: '添加印章' }).click();
    await page.getByRole('status').filter({ hasText: '已添加印章“市场监管局网页测试章”' }).waitFor();
    const row = page.getByRole('row', { name: /市场监管局网页测试章/ });
    await row.waitFor();
    assert.match(await row.innerText(), /market\s+\S+\s+\d{4}-\d{2}-\d{2} — \d{4}-\d{2}-\d{2}\s+否\s+在用/);
    assert.equal(await page.getByRole('table', { name: '印章管理' }).getByRole('row').count(), before + 1);
    await screenshot(page, 'admin-seals');
    await done();
  });

  it('signs in with the keyboard alone: skip link first, then the fields, Enter submits', async () => {
    const { page, done } = await open();
    await page.goto('/login');
    await page.getByRole('heading', { name: '电子证照管理平台' }).waitFor();
    assert.equal(
      await page.evaluate('document.activeElement && document.activeElement.name'),
      'username',
      'the username field has focus',
    );
    await page.keyboard.type('market-reviewer');
    await page.keyboard.press('Tab');
    await page.keyboard.type('certflow-demo');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/inbox/);
    await page.getByRole('heading', { name: '待办任务', level: 1 }).waitFor();
    assert.equal(
      await page.evaluate('document.activeElement.textContent'),
      '待办任务',
      "focus moves to the new page's heading",
    );
    await page.reload();
    await page.getByRole('heading', { name: '待办任务', level: 1 }).waitFor();
    await page.keyboard.press('Tab');
    assert.equal(
      await page.evaluate('document.activeElement.className'),
      'skip-link',
      'the first Tab reaches "skip to content"',
    );
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    assert.match(
      String(await page.evaluate('document.activeElement.closest("main") !== null')),
      /true/,
      'after skipping, Tab goes into the page',
    );
    await done();
  });

  it('the audit admin reads the log and verifies the hash chain', async () => {
    const { page, done } = await open();
    await signIn(page, 'auditor');
    await page.waitForURL(/\/audit$/);
    const entries = page.getByRole('table', { name: '审计记录' });
    await entries.waitFor();
    assert.match(
      await entries.innerText(),
      /登录\s+login\s+失败\s+market-admin/,
      'the wrong password earlier is on record',
    );
    await page.getByLabel('类别').selectOption('configuration');
    await page.getByRole('button', { name: '查询' }).click();
    await page.waitForURL(/category=configuration/);
    await page
      .getByRole('row', { name: /user\.create/ })
      .first()
      .waitFor();
    await page.getByRole('button', { name: '验证审计链' }).click();
    await page.getByText(/审计链完整：\d+ 条记录均未被篡改、删除或截断。/).waitFor();
    await screenshot(page, 'audit');
    await done();
  });

  it('switches between Chinese and English, remembers the choice, and speaks errors in the chosen language', async () => {
    const { page, done } = await open();
    await page.goto('/login');
    assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
    await page.getByRole('heading', { name: '电子证照管理平台' }).waitFor();
    await page.getByRole('button', { name: /Switch to English/ }).click();
    await page.getByRole('heading', { name: 'E-Certificate Platform' }).waitFor();
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    await page.reload();
    await page.getByLabel('Username').fill('market-admin');
    await page.getByLabel('Password').fill('wrong-again');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Wrong username or password.' }).waitFor();
    await screenshot(page, 'login-english', { fullPage: false });

    await page.getByLabel('Password').fill('certflow-demo');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Certificate types', level: 1 }).waitFor();
    assert.match(await page.locator('#topbar').innerText(), /Department admin · market/);
    await page.getByRole('button', { name: /切换为中文/ }).click();
    await page.getByRole('heading', { name: '证照类型', level: 1 }).waitFor();
    assert.equal(await page.evaluate('localStorage.getItem("certflow.lang")'), 'zh-CN');

    // Both dictionaries carry the same keys.
    const zh = await inModule<string[]>(page, '/static/i18n/zh-CN.js', 'return Object.keys(m.default).sort();');
    const en = await inModule<string[]>(page, '/static/i18n/en.js', 'return Object.keys(m.default).sort();');
    const keys = { zh, en };
    assert.ok(keys.zh.length > 300);
    assert.deepEqual(keys.en, keys.zh);
    await done();
  });

  it('checks face data in the browser as the server does: check digits, lengths, dates, options, lists', async () => {
    const { page, done } = await open();
    await page.goto('/verify');
    // Resident IDs and credit codes: valid ones, and each with every wrong check character.
    const ids: string[] = [];
    for (const body of [
      '11010519491231002',
      '33010619900307123',
      '44030419851120456',
      '01010519491231002',
      '11010519490230002',
      '11010517991231002',
    ]) {
      for (const c of '0123456789X') ids.push(body + c);
    }
    ids.push(
      `${'11010519491231002'}${residentIdCheckChar('11010519491231002').toLowerCase()}`,
      '1101051949123100',
      '11010519491231002XX',
      'A1010519491231002X',
    );
    const codes: string[] = [];
    for (const body of ['91350100M000100Y4', '91330106MA2B3C4DB', '12100000400010398', '9133AB06MA2B3C4DB']) {
      for (const c of '0123456789ABCDEFGHJKLMNPQRTUWXY') codes.push(body + c);
    }
    codes.push(
      `91330106ma2b3c4db${creditCodeCheckChar('91330106MA2B3C4DB').toLowerCase()}`,
      '91330106MA2B3C4DBO',
      '9133010',
    );
    const browser = await inModule<{ ids: boolean[]; codes: boolean[] }>(
      page,
      '/static/js/validate.js',
      'return { ids: arg.ids.map((s) => m.residentIdProblem(s) === null), codes: arg.codes.map((s) => m.creditCodeProblem(s) === null) };',
      { ids, codes },
    );
    assert.deepEqual(
      browser.ids,
      ids.map((s) => validateResidentId(s).ok),
      'resident IDs',
    );
    assert.deepEqual(
      browser.codes,
      codes.map((s) => validateCreditCode(s).ok),
      'credit codes',
    );
    assert.ok(browser.ids.filter(Boolean).length >= 4 && browser.codes.filter(Boolean).length >= 4);

    // Whole face data against the demo types' fields.
    const cases: Record<string, unknown>[] = [
      {
        entityName: '杭州西湖示例科技有限公司',
        creditCode: '91330106MA2B3C4DB0',
        entityType: '有限责任公司',
        legalRepresentative: '张三',
        businessScope: '软件开发',
        registeredCapital: '100万元',
        establishedOn: '2024-03-15',
        address: '杭州市',
      },
      {
        entityName: '',
        creditCode: '91330106MA2B3C4DB1',
        entityType: '公司',
        legalRepresentative: '张'.repeat(51),
        businessScope: ' ',
        registeredCapital: '1',
        establishedOn: '2023-02-29',
        address: '杭州市',
      },
      {
        entityName: '  名称  ',
        creditCode: '91330106ma2b3c4db0',
        entityType: '个体工商户',
        legalRepresentative: '𠀀'.repeat(50),
        businessScope: 'x',
        registeredCapital: '1',
        establishedOn: '2024-3-15',
        address: 'a',
      },
    ];
    const fieldSets = DEMO_TYPES.map((t) => t.definition.faceFields);
    cases.push({
      operatorName: '店',
      creditCode: '91350100M000100Y43',
      legalRepresentative: '李四',
      address: 'a',
      premises: 'b',
      businessFormat: '单位食堂',
      businessItems: ['热食类食品制售', '  ', '冷食类'],
    });
    cases.push({
      operatorName: '店',
      creditCode: '91350100M000100Y43',
      legalRepresentative: '李四',
      address: 'a',
      premises: 'b',
      businessFormat: '餐馆',
      businessItems: Array.from({ length: 21 }, (_, i) => `项目${i}`),
    });
    const inBrowser = await inModule<{ data: Record<string, unknown>; bad: string[] }[]>(
      page,
      '/static/js/validate.js',
      'return arg.cases.map((c, i) => { const r = m.checkFaceData(arg.fieldSets[i < 3 ? 0 : 1], c); return { data: r.data, bad: Object.keys(r.problems).sort() }; });',
      { cases, fieldSets },
    );
    cases.forEach((c, i) => {
      const fields = fieldSets[i < 3 ? 0 : 1]!;
      // The browser drops blank list rows before sending, as a person would expect.
      const sent = Object.fromEntries(
        Object.entries(c).map(([k, val]) => [k, Array.isArray(val) ? val.filter((x) => String(x).trim()) : val]),
      );
      const server = validateFaceData(fields, sent);
      const serverBad = server.ok ? [] : [...new Set(server.errors.map((e) => e.field))].sort();
      assert.deepEqual(inBrowser[i]!.bad, serverBad, `case ${i}: the same fields are refused`);
      if (server.ok) assert.deepEqual(inBrowser[i]!.data, server.data, `case ${i}: the same normalised data`);
    });
    await done();
  });
});
