import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { freePort } from '../support/tcp-proxy';

/**
 * The backup drill (docs/operations.md, "Backup and restore"), as an operator runs it: certflow
 * issues certificates and leaves applications waiting, `certflow backup` snapshots it while it
 * runs, `certflow restore` brings the snapshot up in a fresh DATA_DIR — so a fresh database, blob
 * store and Temporal dev server — and certflow started there verifies every certificate, verifies
 * the audit chain against its checkpoints, and carries the waiting applications on to issued.
 */

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'bin', 'certflow.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const LICENCE = (n: number) => ({
  typeCode: 'BL',
  holder: { kind: 'entity', id: '91330106MA2B3C4DB0', name: `杭州西湖示例科技有限公司${n}` },
  faceData: {
    entityName: `杭州西湖示例科技有限公司${n}`,
    creditCode: '91330106MA2B3C4DB0',
    entityType: '有限责任公司',
    legalRepresentative: '张三',
    businessScope: '软件开发；信息技术咨询服务。',
    registeredCapital: '100万元',
    establishedOn: '2024-03-15',
    address: '浙江省杭州市西湖区文三路1号',
  },
});

/** API answers, read loosely: the drill checks a few fields of each. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON of several shapes, checked by assertions
type Json = Record<string, any>;

interface Instance {
  base: string;
  env: Record<string, string>;
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

async function envFor(dataDir: string, masterKey: string): Promise<Record<string, string>> {
  return {
    DATA_DIR: dataDir,
    PORT: String(await freePort()),
    TEMPORAL_DEV_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(await freePort()),
    TEMPORAL_ADDRESS: '',
    DATABASE_URL: '',
    REDIS_URL: '',
    NODE_ENV: 'development',
    CERTFLOW_MASTER_KEY: masterKey,
    AUDIT_ANCHOR_SECONDS: '1',
    LOG_LEVEL: 'warn',
  };
}

async function start(env: Record<string, string>): Promise<Instance> {
  const child = spawn(process.execPath, [CLI, 'start'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b) => (out += b));
  child.stderr!.on('data', (b) => (out += b));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const base = `http://127.0.0.1:${env.PORT}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      if ((await fetch(`${base}/readyz`)).status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (child.exitCode !== null) throw new Error(`certflow start exited early:\n${out}`);
    if (Date.now() > deadline) throw new Error(`not ready in time:\n${out}`);
    await sleep(300);
  }
  return { base, env, child, output: () => out, exited };
}

async function stop(i: Instance | undefined) {
  if (!i || i.child.exitCode !== null) return;
  i.child.kill('SIGTERM');
  await i.exited;
}

function cli(args: string[], env: Record<string, string>) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** A tiny API client for one instance. */
function api(i: Instance) {
  const call = async (method: string, p: string, token?: string, body?: unknown) => {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const r = await fetch(`${i.base}/api/v1${p}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, body: (text ? JSON.parse(text) : undefined) as Json };
  };
  const login = async (username: string) => {
    const r = await call('POST', '/auth/login', undefined, { username, password: 'certflow-demo' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.token as string;
  };
  /** Waits until the application waits on `role`'s step or reaches `status`. */
  const waitFor = async (token: string, id: string, want: (a: Json) => boolean, what: string) => {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const a = (await call('GET', `/applications/${id}`, token)).body;
      if (want(a)) return a;
      if (Date.now() > deadline) throw new Error(`application ${id}: ${what} not reached; it is ${JSON.stringify(a)}`);
      await sleep(250);
    }
  };
  const decide = async (token: string, taskId: number) => {
    const r = await call('POST', `/tasks/${taskId}/decision`, token, { decision: 'approve' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  };
  const atStep = (stepRole: string) => (a: Json) => a.currentStep?.role === stepRole;
  return { call, login, waitFor, decide, atStep };
}

describe('backup and restore drill (SQLite, file blobs, a fresh Temporal)', function () {
  this.timeout(600_000);
  const masterKey = randomBytes(32).toString('base64');
  const dirs: string[] = [];
  const tmp = (name: string) => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), `certflow-drill-${name}-`));
    dirs.push(d);
    return d;
  };
  let first: Instance | undefined;
  let second: Instance | undefined;
  after(async () => {
    await stop(first);
    await stop(second);
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('issues, backs up while running, restores elsewhere, verifies everything, and finishes the waiting applications', async () => {
    first = await start(await envFor(tmp('a'), masterKey));
    const a = api(first);
    const [filler, reviewer, sealer] = (await Promise.all(
      ['market-filler', 'market-reviewer', 'market-sealer'].map(a.login),
    )) as [string, string, string];

    const submit = async (n: number) => {
      const r = await a.call('POST', '/applications', filler, LICENCE(n));
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body.id as string;
    };
    const issued: string[] = [];
    for (const n of [1, 2]) {
      const id = await submit(n);
      await a.decide(reviewer, (await a.waitFor(filler, id, a.atStep('reviewer'), 'review')).currentStep.taskId);
      await a.decide(
        sealer,
        (await a.waitFor(filler, id, a.atStep('sealing-officer'), 'sealing step')).currentStep.taskId,
      );
      issued.push((await a.waitFor(filler, id, (x) => x.status === 'issued', 'issued')).certificateNumber);
    }
    // One waits for its reviewer, one (already reviewed) for its sealing officer.
    const waitingReview = await submit(3);
    const reviewTask = (await a.waitFor(filler, waitingReview, a.atStep('reviewer'), 'review')).currentStep
      .taskId as number;
    const waitingSeal = await submit(4);
    await a.decide(reviewer, (await a.waitFor(filler, waitingSeal, a.atStep('reviewer'), 'review')).currentStep.taskId);
    const sealTask = (await a.waitFor(filler, waitingSeal, a.atStep('sealing-officer'), 'sealing step')).currentStep
      .taskId as number;
    await sleep(1500); // a checkpoint of the audit head (AUDIT_ANCHOR_SECONDS=1)

    const snapshot = path.join(tmp('backup'), 'snapshot');
    const b = cli(['backup', snapshot], first.env);
    assert.equal(b.code, 0, b.out);
    await stop(first);
    const manifest = JSON.parse(fs.readFileSync(path.join(snapshot, 'manifest.json'), 'utf8'));
    assert.equal(manifest.database.client, 'sqlite');
    // The two issued here, and the demo holders' certificates `start` issues in the background.
    assert.ok(manifest.database.tables.certificates >= 2, `certificates: ${manifest.database.tables.certificates}`);
    assert.ok(manifest.blobs.count >= 2 * 3 + 1, `blobs: ${manifest.blobs.count}`);
    assert.ok(manifest.auditAnchors >= 1, 'the audit checkpoints are in the snapshot');
    const keys = fs.readFileSync(path.join(snapshot, 'keys.json'), 'utf8');
    assert.ok(!keys.includes(masterKey), 'the master key itself is not in the backup');
    assert.ok(!keys.includes('PRIVATE KEY'));

    // The wrong master key is refused, naming the variable; nothing is written.
    const elsewhere = await envFor(tmp('wrong'), randomBytes(32).toString('base64'));
    const wrong = cli(['restore', snapshot], elsewhere);
    assert.equal(wrong.code, 1, wrong.out);
    assert.match(wrong.out, /CERTFLOW_MASTER_KEY: this is not the master key the backup was taken with/);
    assert.equal(fs.existsSync(path.join(elsewhere.DATA_DIR!, 'certflow.sqlite')), false);

    // A fresh DATA_DIR: empty database, empty blob store, a Temporal dev server that never saw these workflows.
    const env = await envFor(tmp('b'), masterKey);
    const restored = cli(['restore', snapshot], env);
    assert.equal(restored.code, 0, restored.out);
    assert.match(restored.out, /audit chain verified/);
    const again = cli(['restore', snapshot], env);
    assert.equal(again.code, 1, 'a second restore over restored data is refused');
    assert.match(again.out, /restore into a fresh DATA_DIR|already holds data/);

    second = await start(env);
    const s = api(second);
    const logins = ['market-filler', 'market-reviewer', 'market-sealer', 'auditor'].map(s.login);
    const [filler2, reviewer2, sealer2, auditor] = (await Promise.all(logins)) as [string, string, string, string];
    const verifies = async (number: string) => {
      const byNumber = await s.call('GET', `/verify/${encodeURIComponent(number)}`);
      assert.equal(byNumber.status, 200);
      assert.equal(byNumber.body.verdict, 'valid', JSON.stringify(byNumber.body));
      const pdf = await fetch(`${second!.base}/api/v1/certificates/${encodeURIComponent(number)}/pdf`, {
        headers: { authorization: `Bearer ${sealer2}` },
      });
      assert.equal(pdf.status, 200);
      const upload = await fetch(`${second!.base}/api/v1/verify`, {
        method: 'POST',
        headers: { 'content-type': 'application/pdf' },
        body: Buffer.from(await pdf.arrayBuffer()),
      });
      const report = (await upload.json()) as { verdict: string };
      assert.equal(report.verdict, 'valid', JSON.stringify(report));
    };
    for (const number of issued) await verifies(number);
    const audit = await s.call('GET', '/audit/verify', auditor);
    assert.equal(audit.body.ok, true, JSON.stringify(audit.body));

    // The waiting applications carry on: same inbox tasks, to issued.
    const review = await s.waitFor(filler2, waitingReview, s.atStep('reviewer'), 'review after restore');
    assert.equal(review.currentStep.taskId, reviewTask, 'the open task is the one from before the backup');
    await s.decide(reviewer2, reviewTask);
    await s.decide(
      sealer2,
      (await s.waitFor(filler2, waitingReview, s.atStep('sealing-officer'), 'sealing step')).currentStep.taskId,
    );
    const seal = await s.waitFor(filler2, waitingSeal, s.atStep('sealing-officer'), 'sealing step after restore');
    assert.equal(seal.currentStep.taskId, sealTask);
    const approved = (seal.history as Json[]).find((h) => h.kind === 'approved');
    assert.equal(approved?.actor?.name, 'market-reviewer', 'the history recorded before the backup is shown again');
    await s.decide(sealer2, sealTask);
    for (const id of [waitingReview, waitingSeal]) {
      const done = await s.waitFor(filler2, id, (x) => x.status === 'issued', 'issued after restore');
      await verifies(done.certificateNumber);
    }
    assert.equal((await s.call('GET', '/audit/verify', auditor)).body.ok, true);
  });
});
