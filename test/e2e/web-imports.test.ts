import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { issuanceHarness, type IssuanceHarness } from '../support/issuance';
import { launchChromium, newPage, screenshot, signIn } from './web-harness';
import { expectedRejection, licenceCsv, validRows } from '../support/import-files';

/**
 * Issue 16 item 4, the import page: a department admin uploads a file, watches the progress bar
 * reach 100 % and downloads the row-level report — in Debian's Chromium, on a real worker.
 */
describe('web: bulk import page (docs/import.md)', function () {
  this.timeout(240_000);
  let h: IssuanceHarness;
  let browser: Browser;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'certflow-web-import-'));

  before(async () => {
    [h, browser] = await Promise.all([issuanceHarness('sqlite'), launchChromium()]);
  });
  after(async () => {
    await browser?.close().catch(() => {});
    await h?.close();
  });

  it('uploads a CSV, shows the progress bar reaching 100 % and downloads the report', async () => {
    const rows = 1500;
    const file = path.join(tmp, '存量营业执照.csv');
    fs.writeFileSync(file, licenceCsv(rows, 50_000));
    const { context, page, errors } = await newPage(browser, h.app.url);
    await signIn(page, 'market-admin');
    await page.getByRole('link', { name: '证照导入' }).click();
    await page.waitForURL('**/admin/imports');
    await page.getByLabel('证照类型').selectOption('BL');
    await page.locator('input[type=file]').setInputFiles(file);
    await page.getByRole('button', { name: '开始导入' }).click();
    await page.getByText('已上传 存量营业执照.csv，正在导入。').waitFor();

    const bar = page.getByRole('progressbar', { name: '存量营业执照.csv 的导入进度' });
    const seen = new Set<string>();
    const deadline = Date.now() + 180_000;
    for (;;) {
      const value = (await bar.getAttribute('value').catch(() => null)) ?? '';
      seen.add(value);
      if (value === '100' && (await page.getByText('已完成').count()) > 0) break;
      assert.ok(Date.now() < deadline, `the bar stayed at ${[...seen].join(', ')}`);
      await page.waitForTimeout(200);
    }
    await page.getByText(`${rows} / ${rows} 行`).waitFor();
    await screenshot(page, 'imports-done');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: '下载 存量营业执照.csv 的结果报告' }).click(),
    ]);
    const saved = path.join(tmp, 'report.csv');
    await download.saveAs(saved);
    const lines = fs
      .readFileSync(saved, 'utf8')
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    assert.equal(lines[0], 'row,outcome,certificateNumber,field,reason');
    assert.equal(lines.length, rows + 1);
    const rejected = lines.slice(1).filter((l) => l.split(',')[1] === 'rejected');
    assert.equal(rejected.length, rows - validRows(rows));
    for (const l of rejected) assert.equal(l.split(',')[3], expectedRejection(Number(l.split(',')[0])));
    assert.deepEqual(errors, []);
    await context.close();
  });
});
