import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { launchChromium, newPage, signIn, screenshot } from './web-harness';
import {
  issuanceHarness,
  json,
  LICENCE,
  licenceTypeWithChain,
  waitForTask,
  type IssuanceHarness,
} from '../support/issuance';

/** Bulk decisions from the inbox page (docs/issuance.md, "Bulk decisions"), keyboard first, in Chromium. */
describe('bulk approve from the inbox page in Chromium', function () {
  this.timeout(180_000);
  let h: IssuanceHarness;
  let browser: Browser;

  before(async () => {
    [h, browser] = await Promise.all([issuanceHarness('sqlite'), launchChromium()]);
    await licenceTypeWithChain(h, 'RR', [
      { key: 'review', name: '审核', role: 'reviewer' },
      { key: 'second-review', name: '复核', role: 'reviewer' },
    ]);
  });
  after(async () => {
    await browser?.close().catch(() => {});
    await h?.close();
  });

  it('the reviewer selects every task with the keyboard and approves them at once; the one four-eyes refuses is named', async () => {
    const filler = await h.app.login('market-filler');
    const reviewer = await h.app.login('market-reviewer');
    const tasks: number[] = [];
    for (let i = 0; i < 4; i++) {
      const { id } = await json<{ id: string }>(
        await h.app.fetch('/api/v1/applications', { token: filler, json: { ...LICENCE, typeCode: 'RR' } }),
        201,
      );
      tasks.push(await waitForTask(h.app, filler, id));
    }
    // The reviewer already approved the first step of one: its second step is theirs to see, not to decide.
    const first = await json<{ currentStep: { taskId: number } }>(
      await h.app.fetch(`/api/v1/tasks/${tasks[0]}/decision`, { token: reviewer, json: { decision: 'approve' } }),
      200,
    );
    const secondStep = first.currentStep.taskId;

    const { page, context, errors } = await newPage(browser, h.app.url);
    await signIn(page, 'market-reviewer');
    await page.goto('/inbox?view=queue');
    await page.getByRole('group', { name: '批量处理已选任务' }).waitFor();
    const boxes = page.getByRole('checkbox', { name: /^选择任务/ });
    for (let i = 0; i < 50 && (await boxes.count()) < 4; i++) {
      await page.waitForTimeout(200);
      await page.reload();
    }
    assert.equal(await boxes.count(), 4);

    const all = page.getByRole('checkbox', { name: '全选本页任务' });
    await all.focus();
    await page.keyboard.press('Space');
    await page.getByText('已选 4 项').waitFor();
    assert.equal(await page.getByLabel('处理结果').inputValue(), 'approve');
    await page.getByRole('button', { name: '批量提交' }).focus();
    await page.keyboard.press('Enter');
    await page.getByText('已通过 3 项；1 项未能处理。').waitFor();
    const refused = await page.getByText(`任务 #${secondStep}：`).innerText();
    assert.match(refused, /four-eyes: you already approved/);
    await screenshot(page, 'inbox-bulk-approved');

    const approved = await h.t.db('tasks').whereIn('id', tasks.slice(1)).pluck('decision');
    assert.deepEqual(approved, ['approve', 'approve', 'approve']);
    assert.equal((await h.t.db('tasks').where({ id: secondStep }).first()).status, 'open');
    assert.deepEqual(errors, [], 'no script errors');
    await context.close();
  });

  it('the department admin sees all tasks of the department and reassigns one to a named reviewer', async () => {
    const open = await h.t.db('tasks').where({ status: 'open', department: 'market' }).orderBy('id').first();
    const { page, context, errors } = await newPage(browser, h.app.url);
    await signIn(page, 'market-admin');
    await page.goto('/inbox?view=all');
    await page.getByRole('tab', { name: /本部门全部任务/ }).waitFor();
    await page.getByRole('button', { name: `转办任务 #${open.id}` }).click();
    const dialog = page.getByRole('dialog', { name: /转办/ });
    await dialog.getByLabel('转给').selectOption({ label: '市场监督管理局审核员（market-reviewer）' });
    await dialog.getByRole('button', { name: '确认转办' }).click();
    await page.getByText('已转办给 market-reviewer。').waitFor();
    await screenshot(page, 'inbox-reassigned');
    const row = await h.t.db('tasks').where({ id: open.id }).first();
    assert.equal(row.assignee_name, 'market-reviewer');
    assert.ok(
      await h.t
        .db('audit_log')
        .where({ action: 'task.assign', object_id: String(open.id) })
        .first(),
    );
    assert.deepEqual(errors, [], 'no script errors');
    await context.close();
  });

  it('the reviewer sets a follow-up date on the task page, and the inbox shows it', async () => {
    const open = await h.t.db('tasks').where({ status: 'open', department: 'market' }).orderBy('id').first();
    const { page, context, errors } = await newPage(browser, h.app.url);
    await signIn(page, 'market-reviewer');
    await page.goto(`/tasks/${open.id}`);
    await page.getByLabel('跟进日期').fill('2030-05-01');
    await page.getByRole('button', { name: '保存跟进日期' }).click();
    await page.getByText('已保存跟进日期。').waitFor();
    const row = await h.t.db('tasks').where({ id: open.id }).first();
    assert.ok(row.follow_up_at, 'stored');
    await page.goto('/inbox?view=mine');
    await page
      .getByText(/跟进：2030/)
      .first()
      .waitFor();
    assert.deepEqual(errors, [], 'no script errors');
    await context.close();
  });
});
