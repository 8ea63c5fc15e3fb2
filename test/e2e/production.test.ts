import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import knexFactory from 'knex';
import { createClient } from 'redis';
import { Client, Connection } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporalInit } from '../../main/temporal';
import { openDb, type Db } from '../../db/knex';
import { defaultTemporalCli } from '../../platform/config';
import { createS3BlobStore } from '../../platform/blobs-s3';
import { seedDemo, seedDemoTypes } from '../../db/seed-demo';
import { ensureDevelopmentTrust } from '../../services/trust/seals';
import { placeholderIssuerCode } from '../../services/issuance/sealing';
import { getDepartment, updateDepartment } from '../../db/org';
import { LICENCE } from '../support/issuance';
import { silentLogger } from '../support/app';
import { seaweedfs } from '../support/seaweedfs';
import { alive, descendants } from '../support/processes';
import { requireService, TEST_MYSQL_URL, TEST_REDIS_URL, uniqueSuffix } from '../support/services';
import { parseMetrics, valueOf } from '../support/metrics';

/**
 * The production topology as separate processes on this machine, the way docker-compose.yml
 * runs it: a Temporal server of its own (the CLI's dev server as a stand-alone "cluster"), a
 * fresh MariaDB database, Redis under a key prefix of this run, an S3 bucket on SeaweedFS, then
 * `certflow migrate` twice at once, `certflow temporal-init`, two `api`, two `worker --no-render`
 * and two `render-worker` processes with NODE_ENV=production. The demo data production refuses
 * to seed is written by the test itself, into the same database and bucket, with the same master
 * key. 30 certificates go through both APIs while one worker is SIGKILLed and a render worker is
 * SIGTERMed mid-conversion (it must drain and exit 0 within WORKER_SHUTDOWN_GRACE_SECONDS).
 */

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'certflow.js');
const MASTER_KEY = 'e2e-production-master-key-0123456789abcdef';
const NAMESPACE = 'certflow-e2e';
const COUNT = 30;
const GRACE_SECONDS = 30;

interface Proc {
  name: string;
  child: ChildProcess;
  output: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  dataDir: string;
}

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const s = net.createServer();
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

const text = (p: Proc) => p.output.join('');

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, proc?: Proc) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (proc && proc.child.exitCode !== null) {
      throw new Error(`${proc.name} exited (${proc.child.exitCode}):\n${text(proc)}`);
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${proc ? `\n${text(proc)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('the production topology as separate processes [mysql, redis, s3, temporal]', function () {
  this.timeout(600_000);
  const procs: Proc[] = [];
  const suffix = uniqueSuffix();
  const dbName = `certflow_e2e_${suffix}`;
  const redisPrefix = `certflow-e2e-${suffix}:`;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'certflow-production-'));
  let temporalServer: ChildProcess | undefined;
  let temporalAddress = '';
  let env: Record<string, string> = {};
  let db: Db | undefined;
  let temporal: Client | undefined;

  function start(name: string, args: string[], extra: Record<string, string> = {}): Proc {
    const dataDir = path.join(work, `data-${name}`);
    fs.mkdirSync(dataDir, { recursive: true });
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...env, DATA_DIR: dataDir, ...extra },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    child.stdout!.on('data', (b: Buffer) => output.push(b.toString()));
    child.stderr!.on('data', (b: Buffer) => output.push(b.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const p = { name, child, output, exited, dataDir };
    procs.push(p);
    return p;
  }

  async function run(name: string, args: string[]): Promise<{ code: number | null; out: string }> {
    const p = start(name, args);
    const { code } = await p.exited;
    return { code, out: text(p) };
  }

  // Each worker bundles the workflow code at start: on a busy 2-core machine that alone takes a minute.
  const running = (p: Proc) => waitFor(`${p.name} ready`, () => /certflow \S+ is running/.test(text(p)), 240_000, p);

  before(async function () {
    const cli = defaultTemporalCli();
    if (cli.includes('/') && !fs.existsSync(cli)) requireService(this, 'the Temporal CLI (scripts/setup.sh)', cli);
    let s3: Awaited<ReturnType<typeof seaweedfs>>;
    try {
      s3 = await seaweedfs();
    } catch (err) {
      requireService(this, 'SeaweedFS (.tools/bin/weed)', err);
    }
    const connection = { uri: TEST_MYSQL_URL } as never;
    const admin = knexFactory({ client: 'mysql2', connection, pool: { min: 0, max: 1 } });
    try {
      await admin.raw(`CREATE DATABASE \`${dbName}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    } catch (err) {
      requireService(this, `MariaDB at ${TEST_MYSQL_URL}`, err);
    } finally {
      await admin.destroy();
    }
    const redis = createClient({ url: TEST_REDIS_URL });
    try {
      await redis.connect();
      await redis.close();
    } catch (err) {
      requireService(this, `Redis at ${TEST_REDIS_URL}`, err);
    }

    // The "cluster": a stand-alone Temporal server with its own SQLite file, no namespace of ours yet.
    const [grpc, http, metrics] = await freePorts(3);
    temporalServer = spawn(
      cli,
      [
        'server',
        'start-dev',
        '--headless',
        '--ip',
        '127.0.0.1',
        '--port',
        String(grpc),
        '--http-port',
        String(http),
        '--metrics-port',
        String(metrics),
        '--db-filename',
        path.join(work, 'temporal.db'),
        '--log-level',
        'error',
      ],
      { stdio: 'ignore' },
    );
    temporalAddress = `127.0.0.1:${grpc}`;
    await waitFor(
      'Temporal server',
      async () => {
        try {
          const c = await Connection.connect({ address: temporalAddress, connectTimeout: 1000 });
          await c.workflowService.getSystemInfo({});
          await c.close();
          return true;
        } catch {
          return false;
        }
      },
      60_000,
    );

    const dbUrl = new URL(TEST_MYSQL_URL);
    dbUrl.pathname = `/${dbName}`;
    const bucket = await s3!.createBucket();
    env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? os.tmpdir(),
      ...(process.env.NODE_PATH ? { NODE_PATH: process.env.NODE_PATH } : {}),
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      CERTFLOW_MASTER_KEY: MASTER_KEY,
      DATABASE_URL: dbUrl.toString(),
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: redisPrefix,
      BLOB_STORE_URL: `s3://${bucket}?endpoint=${s3!.endpoint}`,
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_NAMESPACE: NAMESPACE,
      PUBLIC_URL: 'https://certs.example.gov.cn',
      RENDER_CONCURRENCY: '1',
      VERIFY_RATE_LIMIT_PER_MINUTE: '10000',
      LOG_LEVEL: 'warn',
    };
    db = openDb({ client: 'mysql', url: dbUrl.toString() });
  });

  after(async () => {
    const pids = procs.flatMap((p) => (p.child.pid ? [p.child.pid, ...descendants(p.child.pid)] : []));
    if (temporalServer?.pid) pids.push(temporalServer.pid, ...descendants(temporalServer.pid));
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await temporal?.connection.close();
    // Reaped children only: wait for our own to be collected, then for their descendants to go.
    await Promise.all(procs.map((p) => p.exited));
    if (temporalServer && temporalServer.exitCode === null && temporalServer.signalCode === null) {
      await new Promise((resolve) => temporalServer!.once('exit', resolve));
    }
    for (let i = 0; i < 50 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 200));
    const left = pids.filter(alive);
    if (db) {
      await db.raw(`DROP DATABASE IF EXISTS \`${dbName}\``).catch(() => undefined);
      await db.destroy();
    }
    const redis = createClient({ url: TEST_REDIS_URL });
    await redis.connect().catch(() => undefined);
    if (redis.isOpen) {
      for await (const keys of redis.scanIterator({ MATCH: `${redisPrefix}*`, COUNT: 500 })) {
        if (keys.length) await redis.del(keys);
      }
      await redis.close();
    }
    fs.rmSync(work, { recursive: true, force: true });
    assert.deepEqual(left, [], 'no process of the topology outlives the suite');
  });

  it('migrates once when started twice at once; temporal-init prepares the cluster once', async () => {
    // Two rollouts' migrate at once, and an api starting meanwhile (it migrates too, then must refuse:
    // the cluster has not been prepared by temporal-init yet, and it says what to run).
    const [a, b, early] = await Promise.all([
      run('migrate-a', ['migrate']),
      run('migrate-b', ['migrate']),
      run('api-early', ['api']),
    ]);
    assert.equal(a.code, 0, a.out);
    assert.equal(b.code, 0, b.out);
    // Exactly one of the three applied the migrations (the api migrates on start too, and may win):
    // one knex batch, and neither migrate claims it if the api won.
    const claimed = [a.out, b.out].filter((o) => o.startsWith('applied: ')).length;
    assert.ok(claimed <= 1, `${a.out}\n${b.out}`);
    const batches = (await db!('knex_migrations').distinct('batch').pluck('batch')) as number[];
    assert.equal(batches.length, 1, `one migrator applied them all: batches ${batches.join()}`);
    const names = (await db!('knex_migrations').pluck('name')) as string[];
    assert.equal(new Set(names).size, names.length, `each migration once: ${names.join()}`);
    assert.ok(names.includes('015_metrics_indexes') && names.includes('001_foundation'));

    assert.equal(early.code, 1, early.out);
    assert.match(early.out, /certflow temporal-init/);

    const init = await run('temporal-init', ['temporal-init']);
    assert.equal(init.code, 0, init.out);
    assert.match(init.out, new RegExp(`namespace ${NAMESPACE} created; search attributes added: CertType`));
    // Running it again changes nothing (in-process: the command is this function).
    const again = await temporalInit({ address: temporalAddress, namespace: NAMESPACE });
    assert.deepEqual(again, { namespaceCreated: false, searchAttributesAdded: [] });
  });

  it('issues 30 certificates through two APIs while a worker is killed and a render worker drains', async () => {
    // What NODE_ENV=production refuses to seed: demo staff and types, development seals (in the shared bucket).
    const blobs = createS3BlobStore({ kind: 's3', ...(await seaweedBucket(env.BLOB_STORE_URL!)) });
    const masterKey = Buffer.from(MASTER_KEY, 'utf8');
    await seedDemo(db!, 'certflow-demo');
    await ensureDevelopmentTrust({ db: db!, blobs, masterKey, logger: silentLogger });
    await seedDemoTypes(db!, blobs);
    const market = (await getDepartment(db!, 'market'))!;
    // Production issues only under a real issuer code (services/issuance/sealing.ts).
    await updateDepartment(db!, 'market', { creditCode: placeholderIssuerCode(market.regionCode, market.id) });
    blobs.close?.();

    const [port1, port2, apiMetrics, renderMetrics, sdkMetrics] = await freePorts(5);
    const api1 = start('api-1', ['api'], { PORT: String(port1), METRICS_PORT: String(apiMetrics) });
    const api2 = start('api-2', ['api'], { PORT: String(port2) });
    const workerA = start('worker-a', ['worker', '--no-render']);
    const workerB = start('worker-b', ['worker', '--no-render'], { TEMPORAL_METRICS_PORT: String(sdkMetrics) });
    const grace = { WORKER_SHUTDOWN_GRACE_SECONDS: String(GRACE_SECONDS) };
    const render1 = start('render-1', ['render-worker'], { ...grace, METRICS_PORT: String(renderMetrics) });
    const render2 = start('render-2', ['render-worker']);
    await Promise.all([api1, api2, workerA, workerB, render1, render2].map(running));

    const apis = [`http://127.0.0.1:${port1}`, `http://127.0.0.1:${port2}`];
    const call = (i: number, p: string, init: RequestInit & { json?: unknown; auth?: string } = {}) => {
      const headers: Record<string, string> = {};
      if (init.auth) headers.authorization = init.auth;
      if (init.json !== undefined) headers['content-type'] = 'application/json';
      const body = init.json !== undefined ? JSON.stringify(init.json) : undefined;
      return fetch(apis[i % 2] + p, { method: init.json !== undefined ? 'POST' : 'GET', headers, body });
    };
    const credentials = { username: 'market-admin', password: 'certflow-demo' };
    const login = await call(0, '/api/v1/auth/login', { json: credentials });
    assert.equal(login.status, 200, await login.clone().text());
    const token = ((await login.json()) as { token: string }).token;
    const scopes = ['applications:write', 'applications:read', 'certificates:read'];
    const system = { name: 'e2e 审批系统', department: 'market', scopes };
    const created = await call(1, '/api/v1/api-clients', { auth: `Bearer ${token}`, json: system });
    assert.equal(created.status, 201, await created.clone().text());
    const auth = `ApiKey ${((await created.json()) as { apiKey: string }).apiKey}`;

    const ids: string[] = [];
    for (let i = 0; i < COUNT; i++) {
      const application = { ...LICENCE, mode: 'auto-seal', externalRef: `E2E-${i}` };
      const r = await call(i, '/api/v1/applications', { auth, json: application });
      assert.equal(r.status, 201, await r.clone().text());
      ids.push(((await r.json()) as { id: string }).id);
    }

    // A render worker converting right now gets SIGTERM; a main worker dies mid-pipeline.
    const busy = async () => {
      const r = await fetch(`http://127.0.0.1:${renderMetrics}/metrics`).catch(() => undefined);
      return r?.ok ? valueOf(parseMetrics(await r.text()), 'certflow_converter_pool_busy') >= 1 : false;
    };
    await waitFor('render-1 converting', busy, 60_000, render1);
    const termAt = Date.now();
    render1.child.kill('SIGTERM');
    workerA.child.kill('SIGKILL');
    const drained = await render1.exited;
    const drainMs = Date.now() - termAt;
    assert.deepEqual(drained, { code: 0, signal: null }, text(render1));
    assert.ok(drainMs < GRACE_SECONDS * 1000, `render-1 drained in ${drainMs} ms`);
    assert.equal((await workerA.exited).signal, 'SIGKILL');

    const issued = async () => {
      const [row] = await db!('applications').whereIn('id', ids).where({ status: 'issued' }).count({ n: '*' });
      return Number(row!.n);
    };
    await waitFor('every application issued', async () => (await issued()) === COUNT, 150_000);

    const columns = ['number', 'application_id', 'pdf_sha256'];
    const certs = (await db!('certificates').whereIn('application_id', ids).select(columns)) as {
      number: string;
      application_id: string;
      pdf_sha256: string;
    }[];
    assert.equal(certs.length, COUNT, 'one certificate per application');
    assert.equal(new Set(certs.map((c) => c.application_id)).size, COUNT);
    assert.equal(new Set(certs.map((c) => c.number)).size, COUNT, 'no serial twice');
    const allocated = await db!('certificate_allocations').whereIn('application_id', ids).pluck('number');
    assert.equal(allocated.length, COUNT, 'one number allocated per application');
    assert.equal(new Set(allocated).size, COUNT);

    await Promise.all(
      certs.map(async (c) => {
        const reason = `?reason=${encodeURIComponent('核验')}`;
        const [a, b] = await Promise.all(
          [0, 1].map(async (i) => {
            const r = await call(i, `/api/v1/certificates/${c.number}/pdf${reason}`, { auth });
            assert.equal(r.status, 200, `${c.number} from api-${i + 1}`);
            return Buffer.from(await r.arrayBuffer());
          }),
        );
        assert.equal(sha256(a!), c.pdf_sha256, `${c.number}: the PDF from api-1 is the stored one`);
        assert.equal(sha256(b!), c.pdf_sha256, `${c.number}: the PDF from api-2 is the stored one`);
        for (const i of [0, 1]) {
          const v = (await (await call(i, `/api/v1/verify/${c.number}`)).json()) as { verdict: string };
          assert.equal(v.verdict, 'valid', `${c.number} verified by api-${i + 1}`);
        }
      }),
    );

    // render-1 finished what it had started after SIGTERM: its completions are in the histories.
    temporal = new Client({ connection: await Connection.connect({ address: temporalAddress }), namespace: NAMESPACE });
    const identity = `${render1.child.pid}@${os.hostname()}`;
    const histories = await Promise.all(ids.map((id) => temporal!.workflow.getHandle(`issuance-${id}`).fetchHistory()));
    let completedAfterTerm = 0;
    for (const e of histories.flatMap((h) => h.events ?? [])) {
      const done = e.activityTaskCompletedEventAttributes;
      if (done?.identity === identity && e.eventTime && tsToMs(e.eventTime) > termAt) completedAfterTerm++;
    }
    assert.ok(completedAfterTerm >= 1, 'the in-flight conversion completed during the drain');

    const scraped = parseMetrics(await (await fetch(`http://127.0.0.1:${apiMetrics}/metrics`)).text());
    assert.equal(valueOf(scraped, 'certflow_applications', { status: 'issued' }), COUNT);
    const sdk = await (await fetch(`http://127.0.0.1:${sdkMetrics}/metrics`)).text();
    assert.match(sdk, /^temporal_\w+/m, 'the Temporal SDK worker metrics');

    for (const p of procs) {
      const blobsDir = path.join(p.dataDir, 'blobs');
      const empty = !fs.existsSync(blobsDir) || fs.readdirSync(blobsDir).length === 0;
      assert.ok(empty, `${p.name} wrote blobs to local disk`);
    }
  });
});

/** The S3 store configuration behind a BLOB_STORE_URL of this suite (anonymous, path-style). */
async function seaweedBucket(url: string) {
  const u = new URL(url);
  const endpoint = u.searchParams.get('endpoint')!;
  return { bucket: u.hostname, prefix: '', endpoint, region: 'us-east-1', credentials: undefined };
}
