import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
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
      if ((await fetch(`${base}/readyz`)).status === 200) return;
    } catch {
      /* not listening yet */
    }
    if (s.child.exitCode !== null) throw new Error(`npm start exited early:\n${s.output()}`);
    if (Date.now() > deadline) throw new Error(`not ready in time:\n${s.output()}`);
    await sleep(300);
  }
}

const cmdline = (pid: number) => {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
};

describe('npm start after a crash (certflow SIGKILLed)', function () {
  this.timeout(300_000);

  it('reclaims the Temporal dev server the killed start left running, and starts again', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'certflow-e2e-crash-'));
    const ports = { api: await freePort(), temporal: await freePort(), ui: await freePort() };
    const env = {
      DATA_DIR: dataDir,
      PORT: String(ports.api),
      TEMPORAL_DEV_PORT: String(ports.temporal),
      TEMPORAL_UI_PORT: String(ports.ui),
      TEMPORAL_ADDRESS: '',
      DATABASE_URL: '',
      REDIS_URL: '',
      NODE_ENV: 'development',
    };
    const base = `http://127.0.0.1:${ports.api}`;
    const first = npmStart(env);
    let temporalPid: number;
    try {
      await waitReady(base, first);
      const tree = descendants(first.child.pid!);
      const certflow = tree.find((p) => /certflow\.js start|cli\.ts start/.test(cmdline(p)));
      temporalPid = tree.find((p) => /server start-dev/.test(cmdline(p)))!;
      assert.ok(certflow && temporalPid, `found ${tree.map(cmdline).join(' | ')}`);
      const record = JSON.parse(fs.readFileSync(path.join(dataDir, 'run', 'temporal-dev.pid'), 'utf8')) as {
        pid: number;
      };
      assert.equal(record.pid, temporalPid);
      process.kill(certflow, 'SIGKILL');
      await first.exited;
    } catch (err) {
      for (const p of descendants(first.child.pid!)) process.kill(p, 'SIGKILL');
      throw err;
    }
    assert.ok(alive(temporalPid!), 'the dev server outlived the killed process (the situation to recover from)');

    const second = npmStart(env);
    try {
      await waitReady(base, second);
      assert.equal(alive(temporalPid!), false, 'the stale dev server was stopped');
      assert.match(second.output(), /crashed certflow start/);
    } finally {
      const tree = descendants(second.child.pid!);
      second.child.kill('SIGTERM');
      await second.exited;
      const deadline = Date.now() + 10_000;
      while (tree.some(alive) && Date.now() < deadline) await sleep(100);
      assert.deepEqual(tree.filter(alive), []);
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
