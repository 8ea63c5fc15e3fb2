import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import PizZip from 'pizzip';
import {
  issuanceHarness,
  json,
  LICENCE,
  licenceTypeWithChain,
  waitForStatus,
  waitForTask,
  type IssuanceHarness,
} from '../support/issuance';
import { Worker } from '@temporalio/worker';
import { temporalEnv, temporalUiUrl, workflowBundle } from '../support/temporal';
import { defaultTemporalCli } from '../../platform/config';
import type { Browser } from 'playwright-core';
import { ARTIFACTS, launchChromium } from '../e2e/web-harness';
import { createType, setTypeStatus } from '../../db/certificate-types';
import { getDepartment } from '../../db/org';
import { DEMO_TYPES } from '../../db/seed-demo';
import { sha256 } from '../../platform/blobs';
import { chinaTime } from '../../domain/operations';
import { ensureExpirySchedule, EXPIRY_SCHEDULE_ID } from '../../main/schedules';
import type { ApplicationState } from '../../domain/issuance';
import { retryUpdate } from '../../workflows/issuance';
import { problemOf } from '../../api/problem';

const ROOT = path.resolve(__dirname, '../..');
/** What must never show in Temporal: the holder's ID number and name, and face data. */
const PERSONAL = [
  LICENCE.holder.id,
  LICENCE.holder.name,
  LICENCE.faceData.legalRepresentative,
  LICENCE.faceData.address,
];

/** Issue 21: what an operator sees of each run in the Temporal Web UI, and the repairs of docs/runbook.md. */
describe('operators read and repair runs through Temporal', function () {
  this.timeout(240_000);
  let h: IssuanceHarness;
  let filler = '';
  let platformAdmin = '';
  let apiKey = '';
  let marketAdmin = '';
  let clientId = '';
  let issuedNumber = '';
  let browser: Browser | undefined;

  before(async () => {
    h = await issuanceHarness('sqlite');
    filler = await h.app.login('market-filler');
    platformAdmin = await h.app.login('platform-admin');
    const admin = await h.app.login('market-admin');
    marketAdmin = admin;
    const client = { name: '审批系统', department: 'market', scopes: ['applications:write', 'applications:read'] };
    const created = await json<{ apiKey: string; id: string }>(
      await h.app.fetch('/api/v1/api-clients', { token: admin, json: client }),
      201,
    );
    apiKey = created.apiKey;
    clientId = created.id;
    // A type of its own, so that the certificate numbers (and so the ids revocation-<number> on the
    // Temporal server that all test files share) are this file's alone.
    await licenceTypeWithChain(h, 'BLOPS', DEMO_TYPES[0]!.definition.approvalChain);
  });
  after(async () => {
    await browser?.close();
    await h?.close();
  });

  /**
   * The run's page in the Temporal Web UI, tab User Metadata (summary, details, current details),
   * saved to test-artifacts/temporal-ui-<name>.png; answers the text shown.
   */
  async function screenshotRun(name: string, workflowId: string, runId: string, expect: string): Promise<string> {
    browser ??= await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    try {
      await page.goto(`${await temporalUiUrl()}/namespaces/default/workflows/${workflowId}/${runId}/history`);
      await page.getByText('User Metadata').first().click({ timeout: 60_000 });
      // The UI renders summary, details and current details (markdown) in frames of their own.
      const shown = async () => {
        const texts = await Promise.all(
          page.frames().map((f) =>
            f
              .locator('body')
              .innerText()
              .catch(() => ''),
          ),
        );
        return texts.join('\n');
      };
      for (let i = 0; i < 120 && !(await shown()).includes(expect); i++) await page.waitForTimeout(500);
      await page.waitForTimeout(1500); // the current details come from a query to the worker
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, `temporal-ui-${name}.png`), fullPage: true });
      return await shown();
    } finally {
      await page.close();
    }
  }

  async function explain(workflowId: string) {
    const handle = (await temporalEnv()).client.workflow.getHandle(workflowId);
    const d = await handle.describe();
    const meta = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    return {
      summary: (await d.staticSummary()) ?? '',
      details: (await d.staticDetails()) ?? '',
      current: meta.currentDetails ?? '',
      status: d.status.name,
      runId: d.runId,
    };
  }
  function assertNoPersonalData(texts: Record<string, string>) {
    for (const [where, text] of Object.entries(texts)) {
      for (const p of PERSONAL) assert.ok(!text.includes(p), `${where} shows personal data "${p}": ${text}`);
    }
  }

  it('a run waiting on a reviewer names type, department, role, due time and round; no personal data', async () => {
    const body = { ...LICENCE, typeCode: 'BLOPS' };
    const { id, workflowId } = await json<{ id: string; workflowId: string }>(
      await h.app.fetch('/api/v1/applications', { token: filler, json: body }),
      201,
    );
    const review = await waitForTask(h.app, filler, id);
    const app = await json<{ currentStep: { dueAt: string } }>(
      await h.app.fetch(`/api/v1/applications/${id}`, { token: filler }),
      200,
    );
    const run = await explain(workflowId);
    assert.equal(run.summary, '签发 营业执照 BLOPS v1 · market · review');
    assert.match(run.details, new RegExp(`application: ${id}`));
    assert.match(run.details, /department: market/);
    assert.match(run.details, /approval chain: 审核 \(reviewer, 24 h\) → 签章 \(sealing-officer, 8 h\)/);
    assert.equal(run.current, `等待审核 · reviewer · market · due ${chinaTime(app.currentStep.dueAt)} · round 1`);
    assert.match(run.current, /due \d{4}-\d\d-\d\d \d\d:\d\d \+08:00/);
    assertNoPersonalData(run);
    const shown = await screenshotRun('run-waiting', workflowId, run.runId, run.summary);
    assert.ok(shown.includes(run.current), `the run page shows the current details:\n${shown}`);
    assertNoPersonalData({ shown });

    const next = await json<ApplicationState>(
      await h.app.fetch(`/api/v1/tasks/${review}/decision`, {
        token: await h.app.login('market-reviewer'),
        json: { decision: 'approve' },
      }),
      200,
    );
    assert.match((await explain(workflowId)).current, /^等待签章 · sealing-officer · market · due .* · round 1$/);
    await json(
      await h.app.fetch(`/api/v1/tasks/${next.currentStep!.taskId}/decision`, {
        token: await h.app.login('market-sealer'),
        json: { decision: 'approve' },
      }),
      200,
    );
    const done = (await waitForStatus(h.app, filler, id, 'issued', 60_000)) as unknown as { certificateNumber: string };
    issuedNumber = done.certificateNumber;
    for (let i = 0; i < 300 && (await explain(workflowId)).current !== `issued ${issuedNumber}`; i++)
      await new Promise((r) => setTimeout(r, 100));
    const issued = await explain(workflowId);
    assert.equal(issued.current, `issued ${issuedNumber}`);
    assertNoPersonalData(issued);
  });

  it('revocation, its notice, the expiry schedule and ping say what they are', async () => {
    assert.ok(issuedNumber, 'needs the certificate of the previous test');
    const admin = await h.app.login('market-admin');
    await json(
      await h.app.fetch(`/api/v1/certificates/${issuedNumber}/revoke`, {
        token: admin,
        json: { reason: '以欺骗手段取得' },
      }),
      200,
    );
    const revocation = await explain(`revocation-${issuedNumber}`);
    assert.equal(revocation.summary, `revoked ${issuedNumber} · 营业执照 BLOPS · market`);
    assert.match(revocation.details, /department: market/);
    assert.equal(revocation.current, `${issuedNumber} is revoked; business system notified in a child run`);
    assertNoPersonalData(revocation);
    assert.ok(!JSON.stringify(revocation).includes('以欺骗手段取得'), 'free-text reasons stay out of the Web UI');
    const notice = await explain(`notify-revoked-${issuedNumber}`);
    assert.equal(notice.summary, `notify business system: ${issuedNumber} revoked`);

    const env = await temporalEnv();
    await ensureExpirySchedule(env.client, { taskQueue: h.worker.taskQueue, everyMinutes: 60, reminderDays: 30 });
    const handle = env.client.schedule.getHandle(EXPIRY_SCHEDULE_ID);
    const schedule = await handle.describe();
    await handle.delete(); // test/workflows/lifecycle.test.ts makes its own
    assert.equal(schedule.action.type, 'startWorkflow');
    assert.match(
      (schedule.action as { staticSummary?: string }).staticSummary ?? '',
      /^expiry sweep · all types · all departments · every \d+ min$/,
    );
    assert.match(
      (schedule.action as { staticDetails?: string }).staticDetails ?? '',
      /docs\/runbook\.md#expiry-schedule/,
    );

    const ping = await json<{ workflowId: string }>(
      await h.app.fetch('/api/v1/pings', { token: platformAdmin, json: { message: 'hello' } }),
      202,
    );
    await (await temporalEnv()).client.workflow.getHandle(ping.workflowId).result();
    const pingRun = await explain(ping.workflowId);
    assert.equal(pingRun.summary, 'ping · API → Temporal → worker → database');
    assert.match(pingRun.current, /^recorded at /);
  });

  it('a sealing run whose template blob is missing names cause and fix, waits, and issues one number after the documented retry', async () => {
    // A published type whose template blob is not in the store (as after a lost disk).
    const bl = DEMO_TYPES[0]!;
    const zip = new PizZip(fs.readFileSync(path.join(ROOT, 'templates/business-licence.docx')));
    zip.file('word/document.xml', zip.file('word/document.xml')!.asText().replace('营业执照', '营业执照（副本）'));
    const template = zip.generate({ type: 'nodebuffer' }) as Buffer;
    const dept = (await getDepartment(h.t.db, 'market'))!;
    await createType(h.t.db, {
      code: 'BLLOST',
      departmentId: dept.id,
      definition: bl.definition,
      templateSha256: sha256(template),
      createdBy: 'test',
    });
    await setTypeStatus(h.t.db, 'BLLOST', 'published', 1);
    assert.equal(await h.deps.blobs.has(sha256(template)), false);

    const { id, workflowId } = await json<{ id: string; workflowId: string }>(
      await h.app.fetch('/api/v1/applications', {
        apiKey,
        json: { ...LICENCE, typeCode: 'BLLOST', mode: 'auto-seal' },
      }),
      201,
    );
    const handler = await h.app.login('market-handler');
    await waitForStatus(h.app, handler, id, 'failed', 60_000);
    const failed = await json<{ error: string }>(
      await h.app.fetch(`/api/v1/applications/${id}`, { token: handler }),
      200,
    );
    assert.match(
      failed.error,
      new RegExp(
        `^BlobMissing: template of BLLOST v1: blob ${sha256(template)} not found — fix: restore the missing blob`,
      ),
    );
    assert.match(failed.error, /docs\/runbook\.md#failure-types/);
    const run = await explain(workflowId);
    assert.equal(run.status, 'RUNNING', 'the run waits for an operator instead of ending');
    assert.equal(
      run.current,
      `failed: ${failed.error} — fix the cause, then update \`retry\` (or \`cancel\`): docs/runbook.md#retry-a-failed-sealing`,
    );
    assertNoPersonalData(run);
    const shown = await screenshotRun('run-failed', workflowId, run.runId, run.summary);
    assert.ok(shown.includes('failed: BlobMissing'), `the run page shows the cause:\n${shown}`);
    assertNoPersonalData({ shown });
    const allocated = await h.t.db('certificate_allocations').where({ application_id: id });
    assert.equal(allocated.length, 1, 'the number was taken before rendering');

    // Only the platform admin may repair through the API; a retry needs a reason.
    assert.equal(
      (
        await h.app.fetch(`/api/v1/applications/${id}/retry`, {
          token: await h.app.login('market-admin'),
          json: { reason: 'fixed' },
        })
      ).status,
      403,
    );
    const noReason = await h.app.fetch(`/api/v1/applications/${id}/retry`, { token: platformAdmin, json: {} });
    assert.equal(noReason.status, 422);
    assert.equal(((await noReason.json()) as { errors: { field: string }[] }).errors[0]!.field, 'reason');
    // The same refusal from the workflow's validator (as a CLI Update without a reason gets it): the one
    // mapping of api/problem.ts answers 422 naming the field the validator gave.
    const blank = await (
      await temporalEnv()
    ).client.workflow
      .getHandle(workflowId)
      .executeUpdate(retryUpdate, { args: [{ reason: ' ' }] })
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    const refused = problemOf(blank);
    assert.equal(refused?.status, 422);
    assert.deepEqual(
      refused?.errors?.map((e) => e.field),
      ['reason'],
    );

    // The operator restores the blob, then retries with the command of docs/runbook.md.
    assert.equal(await h.deps.blobs.put(template), sha256(template));
    const address = (await temporalEnv()).address;
    // Asynchronously: the worker in this process must run the Update while the CLI waits.
    const { stdout: out } = await promisify(execFile)(
      defaultTemporalCli(),
      [
        'workflow',
        'update',
        'execute',
        '--address',
        address,
        '--workflow-id',
        workflowId,
        '--name',
        'retry',
        '--input',
        '{"reason":"template blob restored from backup"}',
      ],
      { encoding: 'utf8' },
    );
    assert.match(out, /sealing/, out);
    await waitForStatus(h.app, handler, id, 'issued', 90_000);

    const certs = await h.t.db('certificates').where({ application_id: id });
    assert.equal(certs.length, 1);
    assert.equal(certs[0].number, allocated[0].number, 'issued under the number taken before the failure');
    assert.equal((await h.t.db('certificate_allocations').where({ application_id: id })).length, 1);
    const kinds = await h.t.db('application_events').where({ application_id: id }).orderBy('id').pluck('kind');
    assert.deepEqual(
      kinds.filter((k) => ['failed', 'retried', 'issued'].includes(k)),
      ['failed', 'retried', 'issued'],
    );
    const audit = await h.t.db('audit_log').where({ action: 'application.retry', object_id: id });
    assert.equal(audit.length, 1);
    assert.equal(audit[0].actor_name, 'temporal-operator');
    assert.match(audit[0].detail, /template blob restored from backup/);
    const after = await json<{ error: string | null }>(
      await h.app.fetch(`/api/v1/applications/${id}`, { token: handler }),
      200,
    );
    assert.equal(after.error, null);
    // A second retry has nothing to retry.
    assert.equal(
      (await h.app.fetch(`/api/v1/applications/${id}/retry`, { token: platformAdmin, json: { reason: 'again' } }))
        .status,
      409,
    );
  });

  it('a platform admin cancels a stuck application with a reason, through the API; nobody else may', async () => {
    const { id, workflowId } = await json<{ id: string; workflowId: string }>(
      await h.app.fetch('/api/v1/applications', { token: filler, json: LICENCE }),
      201,
    );
    await waitForTask(h.app, filler, id);
    assert.equal(
      (
        await h.app.fetch(`/api/v1/applications/${id}/cancel`, {
          token: await h.app.login('market-admin'),
          json: { reason: '系统故障，重新申请' },
        })
      ).status,
      403,
    );
    assert.equal(
      (
        await h.app.fetch(`/api/v1/applications/${id}/retry`, {
          token: platformAdmin,
          json: { reason: 'nothing failed' },
        })
      ).status,
      409,
    );
    const cancelled = await json<{ status: string }>(
      await h.app.fetch(`/api/v1/applications/${id}/cancel`, {
        token: platformAdmin,
        json: { reason: '系统故障，重新申请' },
      }),
      200,
    );
    assert.equal(cancelled.status, 'cancelled');
    assert.deepEqual(await h.t.db('tasks').where({ application_id: id }).pluck('status'), ['cancelled']);
    const row = await h.t.db('applications').where({ id }).first();
    assert.equal(row.status, 'cancelled');
    const audit = await h.t.db('audit_log').where({ action: 'application.cancel', object_id: id }).first();
    assert.equal(audit.actor_name, 'platform-admin');
    const run = await explain(workflowId);
    assert.equal(run.status, 'COMPLETED');
    assert.match(run.current, /^cancelled by an operator/);
    assert.equal(
      (await h.app.fetch(`/api/v1/applications/${id}/cancel`, { token: platformAdmin, json: { reason: 'again' } }))
        .status,
      409,
    );
  });

  it('re-sends the certificate.issued callback that the business system did not take, audited', async () => {
    let accept = false;
    const received: string[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push(body);
        res.statusCode = accept ? 200 : 503;
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
      // Callbacks go only to origins registered for the API client (docs/security.md).
      const origins = { callbackOrigins: [new URL(url).origin] };
      const path = `/api/v1/api-clients/${clientId}/callback-origins`;
      await json(await h.app.fetch(path, { token: marketAdmin, method: 'PUT', json: origins }), 200);
      const { id } = await json<{ id: string }>(
        await h.app.fetch('/api/v1/applications', {
          apiKey,
          json: { ...LICENCE, mode: 'auto-seal', callbackUrl: url },
        }),
        201,
      );
      for (let i = 0; i < 300 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(received.length >= 1, 'the run tried the callback');
      accept = true;
      const resent = await json<{ delivered: boolean; skipped?: string }>(
        await h.app.fetch(`/api/v1/applications/${id}/resend-callback`, {
          token: platformAdmin,
          json: { reason: '业务系统补收' },
        }),
        200,
      );
      assert.deepEqual(resent, { id, delivered: true });
      assert.equal(JSON.parse(received.at(-1)!).applicationId, id);
      // One outbox message, delivered once, after the failed attempts the run made before.
      const message = await h.t.db('outbox').where({ event: 'certificate.issued', subject: id }).first();
      assert.equal(message?.status, 'delivered');
      const attempts = await h.t.db('outbox_attempts').where({ outbox_id: message.id });
      assert.equal(attempts.filter((a: { outcome: string }) => a.outcome === 'delivered').length, 1);
      assert.ok(attempts.length >= 2, 'the failed attempts are recorded too');
      assert.ok(
        await h.t
          .db('audit_log')
          .where({ action: 'application.resend-callback', object_id: id, actor_name: 'platform-admin' })
          .first(),
      );
      const run = await explain(`resend-callback-${id}`);
      assert.equal(run.summary, 'resend certificate.issued · BL · market');
      assert.equal(run.current, 'delivered');
    } finally {
      server.close();
    }
  });

  it('replays the runs of this file (failed, retried, cancelled, re-sent) deterministically', async () => {
    const env = await temporalEnv();
    const ids: string[] = [];
    const query = `TaskQueue = '${h.worker.taskQueue}'`; // this file's runs only
    for await (const w of env.client.workflow.list({ query })) ids.push(w.workflowId);
    assert.ok(ids.length >= 5, ids.join(', '));
    for (const workflowId of ids) {
      const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, workflowId);
    }
  });

  it('lists issuance runs in the Web UI with their status, department and type columns (screenshot)', async () => {
    browser ??= await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1920, height: 900 } });
    try {
      const query = encodeURIComponent(`WorkflowType = 'issuanceWorkflow' AND TaskQueue = '${h.worker.taskQueue}'`);
      await page.goto(`${await temporalUiUrl()}/namespaces/default/workflows?query=${query}`);
      await page.getByText('issuance-').first().waitFor({ timeout: 60_000 });
      // The list has no summary column; the search attributes are what an operator filters by (docs/runbook.md).
      await page.getByTestId('workflows-summary-table-configuration-button').click();
      for (const column of ['ApplicationStatus', 'Department', 'CertType']) {
        await page.getByTestId(`orderable-list-item-${column}-add-button`).click();
      }
      // Room for them on screen: the run id and start time are one click away on the run page.
      for (const column of ['Run ID', 'Start']) {
        await page
          .getByTestId(`orderable-list-item-${column}-remove-button`)
          .click({ timeout: 5000 })
          .catch(() => undefined);
      }
      // The chosen columns are kept in the browser; a reload closes the drawer.
      await page.reload();
      await page.getByText('issuance-').first().waitFor({ timeout: 60_000 });
      await page.getByText('cancelled').first().waitFor({ timeout: 30_000 });
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'temporal-ui-workflows.png') });
      const text = await page.locator('main').innerText();
      for (const v of ['issued', 'cancelled', 'market', 'BLLOST']) assert.ok(text.includes(v), `the list shows ${v}`);
      for (const p of PERSONAL) assert.ok(!text.includes(p), `the list shows "${p}"`);
    } finally {
      await page.close();
    }
  });
});
