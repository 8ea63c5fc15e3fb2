import assert from 'node:assert/strict';
import { getStatusEntry } from '../../db/credentials';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { issuanceHarness, json, LICENCE, waitForStatus, waitForTask, type IssuanceHarness } from '../support/issuance';
import { temporalEnv } from '../support/temporal';
import { spawnCrashingWorker } from '../support/crashing-worker';
import { requireService, TEST_MYSQL_URL } from '../support/services';
import { createType, setTypeStatus } from '../../db/certificate-types';
import { getDepartment } from '../../db/org';
import { DEMO_TYPES } from '../../db/seed-demo';
import { addDays } from '../../domain/calendar';
import { validityDates } from '../../domain/certificate-type';

/** Face data that passes FBP (食品经营许可证, a 60-month term). */
const PERMIT = {
  typeCode: 'FBP',
  holder: { kind: 'entity', id: '91330106MA2B3C4DB0', name: '杭州西湖示例餐饮有限公司' },
  faceData: {
    operatorName: '杭州西湖示例餐饮有限公司',
    creditCode: '91330106MA2B3C4DB0',
    legalRepresentative: '李四',
    address: '浙江省杭州市西湖区文三路2号',
    premises: '浙江省杭州市西湖区文三路2号一楼',
    businessFormat: '餐饮服务经营者',
    businessItems: ['热食类食品制售'],
  },
};

/**
 * Issue 16, items 1 and 3 (docs/lifecycle.md): change, renewal and reissue on a real Temporal
 * server, LibreOffice and SQLite; the old certificate superseded in the very transaction that
 * stores the new one, even when the store fails or the worker dies around it.
 */
describe('change, renewal and reissue of a certificate', function () {
  this.timeout(240_000);
  let h: IssuanceHarness;
  let apiKey = '';
  let handler = '';

  before(async () => {
    h = await issuanceHarness('sqlite');
    const admin = await h.app.login('market-admin');
    handler = await h.app.login('market-handler');
    const client = { name: '审批系统', department: 'market', scopes: ['applications:write', 'applications:read'] };
    apiKey = (
      await json<{ apiKey: string }>(await h.app.fetch('/api/v1/api-clients', { token: admin, json: client }), 201)
    ).apiKey;
  });
  after(() => h?.close());

  /** Submits as the approval system (auto-seal) and waits for the certificate; answers its number. */
  async function issue(body: Record<string, unknown>): Promise<{ id: string; number: string }> {
    const { id } = await json<{ id: string }>(
      await h.app.fetch('/api/v1/applications', { apiKey, json: { mode: 'auto-seal', ...body } }),
      201,
    );
    const done = (await waitForStatus(h.app, handler, id, 'issued', 120_000)) as unknown as {
      certificateNumber: string;
    };
    return { id, number: done.certificateNumber };
  }
  const cert = (number: string) => h.t.db('certificates').where({ number }).first();
  const submit = (body: Record<string, unknown>) =>
    h.app.fetch('/api/v1/applications', { apiKey, json: { mode: 'auto-seal', typeCode: 'BL', ...body } });

  it('changes a licence: the new one carries the changed field, keeps the holder, and the old one is superseded', async () => {
    const first = await issue(LICENCE);
    const changed = await issue({
      typeCode: 'BL',
      kind: 'change',
      replaces: first.number.toLowerCase(),
      faceData: { address: '浙江省杭州市滨江区网商路699号' },
      reason: '住所变更',
    });
    const [old, now] = [await cert(first.number), await cert(changed.number)];
    assert.equal(old.status, 'superseded');
    assert.equal(old.superseded_by, changed.number);
    // Superseded never comes back: its W3C credential counts as revoked in the status list (docs/trust.md).
    assert.equal((await getStatusEntry(h.t.db, first.number))?.revoked, true);
    assert.match(old.status_reason, new RegExp(`superseded by ${changed.number} \\(变更\\)`));
    assert.equal(now.status, 'valid');
    assert.equal(now.replaces_number, first.number);
    assert.equal(now.holder_id_hash, old.holder_id_hash, 'a change keeps the holder');
    const face = JSON.parse(now.face_data);
    assert.equal(face.address, '浙江省杭州市滨江区网商路699号');
    assert.equal(face.legalRepresentative, LICENCE.faceData.legalRepresentative, 'unchanged fields are carried');

    // The reader of the department sees the chain with what each version changed.
    const view = await json<{
      versions: { number: string; kind: string; changedFields: string[] }[];
      replaces: string;
    }>(await h.app.fetch(`/api/v1/certificates/${changed.number}`, { token: handler }), 200);
    assert.equal(view.replaces, first.number);
    assert.deepEqual(
      view.versions.map((v) => [v.number, v.kind, v.changedFields]),
      [
        [first.number, 'new', []],
        [changed.number, 'change', ['address']],
      ],
    );
    const audit = await h.t.db('audit_log').where({ action: 'certificate.supersede', object_id: first.number });
    assert.equal(audit.length, 1);

    // Verify of the old number: superseded by X, and X's status.
    const report = await json<{
      verdict: string;
      checks: { id: string; status: string; reason: string }[];
      certificate: { status: string; statusCode: string; supersededBy: { number: string; status: string } };
    }>(await h.app.fetch(`/api/v1/verify/${first.number}`), 200);
    assert.equal(report.verdict, 'invalid');
    assert.equal(report.certificate.status, 'superseded');
    assert.equal(report.certificate.statusCode, '99');
    assert.deepEqual(report.certificate.supersededBy, { number: changed.number, status: 'valid', statusCode: '01' });
    const status = report.checks.find((c) => c.id === 'status')!;
    assert.match(status.reason, new RegExp(`superseded by ${changed.number}.*; ${changed.number} is valid`));

    // A superseded certificate is not changed again; nor is a change without any change accepted.
    const again = await submit({ kind: 'change', replaces: first.number, faceData: { address: '别处' } });
    assert.equal(again.status, 409, await again.text());
    const same = await submit({ kind: 'change', replaces: changed.number, faceData: { address: face.address } });
    assert.equal(same.status, 422);
    assert.match(await same.text(), /faceData/);
  });

  it('refuses a reissue without a reason or with face data, naming the field, and stores nothing', async () => {
    const { number } = await issue({ ...LICENCE, holder: { ...LICENCE.holder }, externalRef: 'REISSUE-BAD' });
    const before = await h.t.db('applications').count({ n: '*' });
    for (const [body, field] of [
      [{ kind: 'reissue', replaces: number }, 'reason'],
      [{ kind: 'reissue', replaces: number, reason: '遗失', faceData: { address: 'x' } }, 'faceData'],
      [{ kind: 'renewal', replaces: number }, 'replaces'], // a permanent licence has nothing to renew
      [{ kind: 'change', faceData: { address: 'x' } }, 'replaces'],
      [{ kind: 'change', replaces: 'BL-330100-2026-0000001-0', faceData: { address: 'x' } }, 'replaces'],
    ] as const) {
      const r = await submit(body);
      const text = await r.text();
      assert.equal(r.status, 422, text);
      assert.ok(
        (JSON.parse(text) as { errors: { field: string }[] }).errors.some((e) => e.field === field),
        text,
      );
    }
    assert.deepEqual(await h.t.db('applications').count({ n: '*' }), before);
    assert.equal((await cert(number)).status, 'valid');
  });

  it('renews a permit from the old end date, for the type’s term', async () => {
    const first = await issue(PERMIT);
    const renewed = await issue({ typeCode: 'FBP', kind: 'renewal', replaces: first.number });
    const [old, now] = [await cert(first.number), await cert(renewed.number)];
    const day = (v: unknown) => (v instanceof Date ? v.toISOString() : String(v)).slice(0, 10);
    const from = addDays(day(old.valid_until), 1);
    assert.equal(day(now.valid_from), from);
    assert.equal(day(now.valid_until), validityDates({ kind: 'term', months: 60 }, from).validUntil);
    assert.equal(old.status, 'superseded');
    const record = JSON.parse(now.record) as { validity: { from: string; until: string } };
    assert.deepEqual(record.validity, { from, until: day(now.valid_until) }, 'the signed record says so too');
  });

  it("runs the kind's own chain when the type configures one, and reissues with the same face and a reason", async () => {
    const bl = DEMO_TYPES[0]!;
    const dept = (await getDepartment(h.t.db, 'market'))!;
    const template = await h.t
      .db('certificate_type_versions as v')
      .join('certificate_types as t', 't.id', 'v.type_id')
      .where('t.code', 'BL')
      .first('v.template_sha256');
    await createType(h.t.db, {
      code: 'BLK',
      departmentId: dept.id,
      definition: {
        ...bl.definition,
        chainsByKind: { reissue: [{ key: 'seal', name: '签章', role: 'sealing-officer' }] },
      } as typeof bl.definition,
      templateSha256: template.template_sha256,
      createdBy: 'test',
    });
    await setTypeStatus(h.t.db, 'BLK', 'published', 1);
    const first = await issue({ ...LICENCE, typeCode: 'BLK' });
    const filler = await h.app.login('market-filler');
    const { id } = await json<{ id: string }>(
      await h.app.fetch('/api/v1/applications', {
        token: filler,
        json: { typeCode: 'BLK', kind: 'reissue', replaces: first.number, reason: '原证遗失' },
      }),
      201,
    );
    const taskId = await waitForTask(h.app, filler, id);
    const app = await json<{ currentStep: { role: string }; kind: string; replaces: string }>(
      await h.app.fetch(`/api/v1/applications/${id}`, { token: filler }),
      200,
    );
    assert.equal(app.currentStep.role, 'sealing-officer', 'the reissue chain has only the sealing step');
    assert.deepEqual([app.kind, app.replaces], ['reissue', first.number]);
    assert.equal((await cert(first.number)).status, 'valid', 'the old one stays valid until the new one is stored');
    const sealer = await h.app.login('market-sealer');
    await json(
      await h.app.fetch(`/api/v1/tasks/${taskId}/decision`, { token: sealer, json: { decision: 'approve' } }),
      200,
    );
    const done = (await waitForStatus(h.app, filler, id, 'issued', 120_000)) as unknown as {
      certificateNumber: string;
    };
    const [old, now] = [await cert(first.number), await cert(done.certificateNumber)];
    assert.equal(now.face_data, old.face_data, 'a reissue keeps the face data');
    assert.equal(old.superseded_by, done.certificateNumber);
    assert.match(old.status_reason, /补发/);
  });

  it('leaves neither half done when storing fails inside the transaction, then completes both on retry', async () => {
    const first = await issue({ ...LICENCE, externalRef: 'ATOMIC-1' });
    // A fault the real database cannot be made to show on cue: the supersede UPDATE fails once
    // the new row is already inserted, inside the same transaction.
    await h.t.db.raw(
      `CREATE TRIGGER fail_supersede BEFORE UPDATE OF status ON certificates
       WHEN NEW.status = 'superseded' BEGIN SELECT RAISE(ABORT, 'injected supersede failure'); END`,
    );
    const { id } = await json<{ id: string }>(
      await submit({ kind: 'change', replaces: first.number, faceData: { registeredCapital: '200万元' } }),
      201,
    );
    const env = await temporalEnv();
    const handle = env.client.workflow.getHandle(`issuance-${id}`);
    const deadline = Date.now() + 120_000;
    for (;;) {
      const pending = (await handle.describe()).raw.pendingActivities ?? [];
      const store = pending.find((a) => a.activityType?.name === 'storeCertificate');
      if (store && (store.attempt ?? 0) >= 2 && /injected/.test(store.lastFailure?.message ?? '')) break;
      assert.ok(Date.now() < deadline, 'the store never failed');
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal((await h.t.db('certificates').where({ application_id: id })).length, 0, 'no new certificate');
    const old = await cert(first.number);
    assert.deepEqual([old.status, old.superseded_by], ['valid', null], 'the old one untouched');
    assert.equal(
      (await h.t.db('audit_log').where({ action: 'certificate.supersede', object_id: first.number })).length,
      0,
    );

    await h.t.db.raw('DROP TRIGGER fail_supersede');
    const done = (await waitForStatus(h.app, handler, id, 'issued', 120_000)) as unknown as {
      certificateNumber: string;
    };
    assert.equal((await cert(first.number)).superseded_by, done.certificateNumber);
    assert.equal((await cert(done.certificateNumber)).status, 'valid');
  });

  it('survives a worker killed right after the store committed: both changes there, once', async () => {
    const first = await issue({ ...LICENCE, externalRef: 'KILL-CHANGE' });
    await h.worker.stop(); // the child process below is the only worker on the main queue
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'certflow-change-kill-'));
    const marker = path.join(tmp, 'crashed');
    const { output, exited } = await spawnCrashingWorker(h, { activity: 'storeCertificate', marker });
    const { id } = await json<{ id: string }>(
      await submit({ kind: 'change', replaces: first.number, faceData: { legalRepresentative: '王五' } }),
      201,
    );
    const signal = await Promise.race([
      exited,
      new Promise((_, reject) => setTimeout(() => reject(new Error(`worker never crashed:\n${output()}`)), 150_000)),
    ]);
    assert.equal(signal, 'SIGKILL', output());
    // Killed before Temporal heard of the store: both halves are in the database all the same.
    const stored = await h.t.db('certificates').where({ application_id: id });
    assert.equal(stored.length, 1);
    assert.equal((await cert(first.number)).superseded_by, stored[0].number);

    await h.restartWorker();
    const done = (await waitForStatus(h.app, handler, id, 'issued', 120_000)) as unknown as {
      certificateNumber: string;
    };
    assert.equal(done.certificateNumber, stored[0].number);
    assert.equal((await h.t.db('certificates').where({ application_id: id })).length, 1, 'one certificate');
    assert.equal(
      (await h.t.db('audit_log').where({ action: 'certificate.supersede', object_id: first.number })).length,
      1,
    );
  });
});

describe('change and suspension on MariaDB [mysql]', function () {
  this.timeout(240_000);
  let h: IssuanceHarness;

  before(async function () {
    try {
      h = await issuanceHarness('mysql');
    } catch (err) {
      requireService(this, `MariaDB at ${TEST_MYSQL_URL}`, err);
    }
  });
  after(() => h?.close());

  it('supersedes under row locks, and suspends and reinstates by hand', async () => {
    const admin = await h.app.login('market-admin');
    const client = { name: '审批系统', department: 'market', scopes: ['applications:write', 'applications:read'] };
    const { apiKey } = await json<{ apiKey: string }>(
      await h.app.fetch('/api/v1/api-clients', { token: admin, json: client }),
      201,
    );
    const issue = async (body: Record<string, unknown>) => {
      const { id } = await json<{ id: string }>(
        await h.app.fetch('/api/v1/applications', { apiKey, json: { mode: 'auto-seal', ...body } }),
        201,
      );
      return ((await waitForStatus(h.app, admin, id, 'issued', 120_000)) as unknown as { certificateNumber: string })
        .certificateNumber;
    };
    const first = await issue(LICENCE);
    const url = `/api/v1/certificates/${first}`;
    await json(await h.app.fetch(`${url}/suspend`, { token: admin, json: { reason: '核查期间暂停' } }), 200);
    const busy = await h.app.fetch('/api/v1/applications', {
      apiKey,
      json: { typeCode: 'BL', mode: 'auto-seal', kind: 'change', replaces: first, faceData: { address: '新址' } },
    });
    assert.equal(busy.status, 409, 'a suspended certificate is not changed');
    await json(await h.app.fetch(`${url}/reinstate`, { token: admin, json: { reason: '核查完毕' } }), 200);
    const second = await issue({ typeCode: 'BL', kind: 'change', replaces: first, faceData: { address: '新址' } });
    const old = await h.t.db('certificates').where({ number: first }).first();
    assert.deepEqual([old.status, old.superseded_by], ['superseded', second]);
    const now = await h.t.db('certificates').where({ number: second }).first();
    assert.deepEqual([now.status, now.replaces_number], ['valid', first]);
  });
});
