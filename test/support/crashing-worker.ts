import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import type { IssuanceHarness } from './issuance';
import { temporalEnv } from './temporal';

const ROOT = path.resolve(__dirname, '../..');

export interface CrashingWorker {
  child: ChildProcess;
  /** Everything the worker printed so far, for assertion messages. */
  output(): string;
  /** The signal that ended the worker: SIGKILL when it crashed as planned. */
  exited: Promise<NodeJS.Signals | null>;
}

/**
 * The harness's worker in a child process (test/support/worker-process.ts) that SIGKILLs itself
 * right after `activity` did its work — on the `onCall`-th call when given — once, leaving `marker`
 * behind. Stop `h.worker` first, so the child is the only worker on the queue.
 */
export async function spawnCrashingWorker(
  h: IssuanceHarness,
  crash: { activity: string; marker: string; onCall?: number },
): Promise<CrashingWorker> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/worker-process.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      WORKER_CONFIG: JSON.stringify({
        database: h.t.config,
        blobDir: h.blobDir,
        masterKeyHex: h.deps.masterKey.toString('hex'),
        taskQueue: h.worker.taskQueue,
        address: (await temporalEnv()).address,
      }),
      CRASH_IN: crash.activity,
      ...(crash.onCall === undefined ? {} : { CRASH_ON_CALL: String(crash.onCall) }),
      CRASH_MARKER: crash.marker,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (b) => (output += b));
  child.stderr.on('data', (b) => (output += b));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_c, signal) => resolve(signal)));
  return { child, output: () => output, exited };
}
