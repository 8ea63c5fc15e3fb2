import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { converterWorkDir, sweepStaleConverterDirs } from '../../../services/documents/convert';

describe('hardening: soffice folders left by a killed process', function () {
  this.timeout(30_000);

  it('live under one parent per pid, and only the folders of dead pids are swept', async () => {
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'certflow-sweep-test-'));
    try {
      // A process that made its folder and was SIGKILLed before it could remove it.
      const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      const dead = child.pid!;
      fs.mkdirSync(path.join(parent, String(dead), 'lo-x', 'profile'), { recursive: true });
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const mine = converterWorkDir(parent);
      const live = path.join(parent, String(process.ppid)); // running, and not ours to touch
      fs.mkdirSync(live);
      fs.mkdirSync(path.join(parent, 'not-a-pid'));

      assert.deepEqual(sweepStaleConverterDirs(parent), [dead]);
      assert.deepEqual(fs.readdirSync(parent).sort(), [String(process.pid), String(process.ppid), 'not-a-pid'].sort());
      assert.equal(mine, path.join(parent, String(process.pid)));
    } finally {
      fs.rmSync(parent, { recursive: true, force: true });
    }
  });
});
