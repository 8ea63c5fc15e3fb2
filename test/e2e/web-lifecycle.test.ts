import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { launchChromium, newPage, signIn, screenshot } from './web-harness';
import { issuanceHarness, json, LICENCE, waitForStatus, type IssuanceHarness } from '../support/issuance';
import { addRole, getDepartment } from '../../db/org';

/**
 * Issue 16, the certificate page (docs/lifecycle.md): a filler who also handles certificates
 * changes one through the face form, and the department admin suspends and reinstates it.
 */
describe('change, suspension and reinstatement on the certificate page in Chromium', function () {
  this.timeout(180_000);
  let h: IssuanceHarness;
  let browser: Browser;
  let number = '';
  const pageErrors: string[] = [];

  before(async () => {
    [h, browser] = await Promise.all([issuanceHarness('sqlite'), launchChromium()]);
    // Fillers do not read certificates; one who is also a handler of the department does both.
    const market = (await getDepartment(h.t.db, 'market'))!;
    const filler = await h.t.db('users').where({ username: 'market-filler' }).first('id');
    await addRole(h.t.db, Number(filler.id), 'handler', market);
    const admin = await h.app.login('market-admin');
    const client = { name: '审批系统', department: 'market', scopes: ['applications:write', 'applications:read'] };
    const { apiKey } = await json<{ apiKey: string }>(
      await h.app.fetch('/api/v1/api-clients', { token: admin, json: client }),
      201,
    );
    const { id } = await json<{ id: string }>(
      await h.app.fetch('/api/v1/applications', { apiKey, json: { ...LICENCE, mode: 'auto-seal' } }),
      201,
    );
    number = ((await waitForStatus(h.app, admin, id, 'issued', 120_000)) as unknown as { certificateNumber: string })
      .certificateNumber;
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
      done: async () => {
        pageErrors.push(...p.errors);
        await p.context.close();
      },
    };
  }

  it('the department admin suspends it with a reason and a last day, then reinstates it', async () => {
    const { page, done } = await as('market-admin');
    await page.goto(`/certificates/${encodeURIComponent(number)}`);
    await page.getByRole('button', { name: '暂停' }).click();
    await page.getByLabel('原因').fill('停业整顿期间暂停');
    await page.getByLabel('暂停截止日').fill('2099-06-30');
    await page.locator('.lifecycle-panel').getByRole('button', { name: '暂停' }).click();
    await page.getByText('证照已暂停。').waitFor();
    assert.match(await page.locator('dl.facts').first().innerText(), /暂停 停业整顿期间暂停 （至 2099/);
    assert.equal(await page.getByRole('button', { name: '暂停' }).count(), 0, 'no second suspension');
    await screenshot(page, 'certificate-suspended');

    await page.getByRole('button', { name: '恢复' }).click();
    const dialog = page.getByRole('dialog', { name: `恢复证照 ${number}？` });
    await dialog.getByLabel('原因').fill('整改完成');
    await dialog.getByRole('button', { name: '恢复' }).click();
    await page.getByText('证照已恢复有效。').waitFor();
    assert.match(await page.locator('dl.facts').first().innerText(), /状态\s+有效/);
    assert.equal((await h.t.db('certificates').where({ number }).first()).status, 'valid');
    await done();
  });

  it('a filler changes it through the face form: only the changed field is sent, and the change is under way', async () => {
    const { page, done } = await as('market-filler');
    await page.goto(`/certificates/${encodeURIComponent(number)}`);
    assert.equal(await page.getByRole('button', { name: '暂停' }).count(), 0, 'suspension is for the admin');
    await page.getByRole('button', { name: '变更', exact: true }).click();
    const panel = page.locator('.lifecycle-panel');
    await panel.getByLabel('住所').fill('浙江省杭州市滨江区网商路699号');
    const sent = page.waitForRequest((r) => r.url().endsWith('/api/v1/applications') && r.method() === 'POST');
    await panel.getByRole('button', { name: '提交变更申请' }).click();
    const body = JSON.parse((await sent).postData()!) as Record<string, unknown>;
    assert.deepEqual(body, {
      typeCode: 'BL',
      kind: 'change',
      replaces: number,
      faceData: { address: '浙江省杭州市滨江区网商路699号' },
    });
    await page.waitForURL(/\/applications\/[0-9a-f-]{36}$/);
    const id = page.url().split('/').pop()!;
    const app = await h.t.db('applications').where({ id }).first();
    assert.deepEqual([app.kind, app.replaces_number, app.status], ['change', number, 'in-review']);
    await done();
  });
});
