import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { freePort } from '../support/tcp-proxy';
import { alive, descendants } from '../support/processes';

const ROOT = path.resolve(__dirname, '../..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function npmStart(env: Record<string, string>): Started {
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b) => (out += b));
  child.stderr!.on('data', (b) => (out += b));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function waitReady(base: string, s: Started) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      const r = await fetch(`${base}/readyz`);
      if (r.status === 200) return;
    } catch {
      /* not listening yet */
    }
    if (s.child.exitCode !== null) throw new Error(`npm start exited early:\n${s.output()}`);
    if (Date.now() > deadline) throw new Error(`not ready in time:\n${s.output()}`);
    await sleep(300);
  }
}

async function stop(s: Started) {
  const tree = descendants(s.child.pid!);
  s.child.kill('SIGTERM');
  const code = await s.exited;
  // Give the reaped children a moment to disappear from the process table.
  const deadline = Date.now() + 10_000;
  while (tree.some(alive) && Date.now() < deadline) await sleep(100);
  return { code, tree, leftovers: tree.filter(alive) };
}

describe('npm start (the embedded default, as a newcomer runs it)', function () {
  this.timeout(240_000);
  let dataDir: string;
  let ports: { api: number; temporal: number; ui: number };
  let env: Record<string, string>;

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'certflow-e2e-'));
    ports = { api: await freePort(), temporal: await freePort(), ui: await freePort() };
    env = {
      DATA_DIR: dataDir,
      PORT: String(ports.api),
      TEMPORAL_DEV_PORT: String(ports.temporal),
      TEMPORAL_UI_PORT: String(ports.ui),
      TEMPORAL_ADDRESS: '',
      DATABASE_URL: '',
      REDIS_URL: '',
      NODE_ENV: 'development',
    };
  });
  after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('brings up Temporal, worker and API; runs a ping; the Web UI lists it; SIGTERM leaves no process behind; workflows survive a restart', async () => {
    const base = `http://127.0.0.1:${ports.api}`;
    const first = npmStart(env);
    let pingId: string;
    let auth: Record<string, string>;
    try {
      await waitReady(base, first);
      assert.match(first.output(), new RegExp(`API\\s+http://127\\.0\\.0\\.1:${ports.api}/api/v1`));
      assert.match(first.output(), new RegExp(`Temporal Web UI\\s+http://localhost:${ports.ui}`));

      const ready = (await (await fetch(`${base}/readyz`)).json()) as { checks: Record<string, { ok: boolean }> };
      assert.deepEqual(Object.keys(ready.checks).sort(), ['cache', 'database', 'temporal']);

      assert.match(first.output(), /Demo logins \(password: certflow-demo\)/);
      assert.match(first.output(), /market-reviewer/);
      const login = await fetch(`${base}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"username":"market-filler","password":"certflow-demo"}',
      });
      assert.equal(login.status, 200);
      auth = { authorization: `Bearer ${((await login.json()) as { token: string }).token}` };
      const r = await fetch(`${base}/api/v1/pings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth },
        body: '{"message":"e2e"}',
      });
      assert.equal(r.status, 202);
      pingId = ((await r.json()) as { id: string }).id;
      let state: { status?: string } = {};
      for (let i = 0; i < 100 && state.status !== 'recorded'; i++) {
        await sleep(100);
        state = (await (await fetch(`${base}/api/v1/pings/${pingId}`, { headers: auth })).json()) as typeof state;
      }
      assert.equal(state.status, 'recorded');

      // The Web UI is served, and the run is in the server's visibility store that the UI lists from.
      const ui = await fetch(`http://localhost:${ports.ui}/`);
      assert.equal(ui.status, 200);
      assert.match(await ui.text(), /<html/i);
      const connection = await Connection.connect({ address: `127.0.0.1:${ports.temporal}` });
      try {
        const client = new Client({ connection });
        const runs = [];
        for await (const w of client.workflow.list({ query: `WorkflowId = 'ping-${pingId}'` })) runs.push(w);
        assert.equal(runs.length, 1);
        assert.equal(runs[0]!.type, 'pingWorkflow');
        assert.equal(runs[0]!.status.name, 'COMPLETED');
      } finally {
        await connection.close();
      }
    } catch (err) {
      first.child.kill('SIGKILL');
      throw err;
    }

    const stopped = await stop(first);
    assert.equal(stopped.code, 0, first.output());
    assert.ok(stopped.tree.length >= 2, `expected node and temporal under npm, saw ${stopped.tree}`);
    assert.deepEqual(stopped.leftovers, [], 'no temporal or node child may outlive npm start');
    assert.match(first.output(), /stopped/);

    // Second start on the same data folder: the earlier workflow is still there.
    const second = npmStart(env);
    try {
      await waitReady(base, second);
      const again = (await (await fetch(`${base}/api/v1/pings/${pingId!}`, { headers: auth! })).json()) as {
        status: string;
      };
      assert.equal(again.status, 'recorded');
    } finally {
      const s2 = await stop(second);
      assert.deepEqual(s2.leftovers, []);
    }
  });

  it('refuses to start on a bad setting, naming the variable', () => {
    const r = spawnSync('node', ['bin/certflow.js', 'start'], {
      cwd: ROOT,
      env: { ...process.env, PORT: 'eighty', DATA_DIR: dataDir },
      encoding: 'utf8',
    });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /PORT: /);
  });

  it('requires TEMPORAL_ADDRESS for the separate production entry points', () => {
    const r = spawnSync('node', ['bin/certflow.js', 'worker'], {
      cwd: ROOT,
      env: { ...process.env, TEMPORAL_ADDRESS: '', DATA_DIR: dataDir },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /TEMPORAL_ADDRESS: required for "certflow worker"/);
  });

  it('render-worker is a production entry point too; flags are checked; a bad BLOB_STORE_URL stops start-up', () => {
    const certflow = (args: string[], extra: Record<string, string>) =>
      spawnSync('node', ['bin/certflow.js', ...args], {
        cwd: ROOT,
        env: { ...process.env, TEMPORAL_ADDRESS: '', BLOB_STORE_URL: '', DATA_DIR: dataDir, ...extra },
        encoding: 'utf8',
        timeout: 60_000,
      });
    const render = certflow(['render-worker'], {});
    assert.equal(render.status, 1);
    assert.match(render.stderr, /TEMPORAL_ADDRESS: required for "certflow render-worker"/);
    const flag = certflow(['api', '--no-render'], {});
    assert.equal(flag.status, 2);
    assert.match(flag.stderr, /usage: certflow .*worker \[--no-render\]/);
    const blobs = certflow(['worker'], { BLOB_STORE_URL: 'http://127.0.0.1:8333/certflow' });
    assert.equal(blobs.status, 2);
    assert.match(blobs.stderr, /BLOB_STORE_URL: must start with s3:\/\//);
  });
});
