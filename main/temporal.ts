import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { SearchAttributeType } from '@temporalio/common';
import { msToTs } from '@temporalio/common/lib/time';
import type { Config } from '../platform/config';
import type { Logger } from '../platform/logger';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes';

/** gRPC enum values of temporal.api.enums.v1.IndexedValueType, by SDK search attribute type. */
const INDEXED_VALUE_TYPE: Record<string, number> = {
  [SearchAttributeType.TEXT]: 1,
  [SearchAttributeType.KEYWORD]: 2,
  [SearchAttributeType.INT]: 3,
  [SearchAttributeType.DOUBLE]: 4,
  [SearchAttributeType.BOOL]: 5,
  [SearchAttributeType.DATETIME]: 6,
  [SearchAttributeType.KEYWORD_LIST]: 7,
};

export interface DevServer {
  address: string;
  uiUrl: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Where `start` records the dev server it runs: DATA_DIR/run/temporal-dev.pid. */
export const devServerPidFile = (config: Config) => path.join(config.dataDir, 'run', 'temporal-dev.pid');

interface PidRecord {
  pid: number;
  /** The certflow process that started it, and its command line (pids get reused). */
  owner: number;
  ownerArgv: string[];
  argv: string[];
}

const readCmdline = (pid: number): string[] | undefined => {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return undefined; // gone, or not Linux
  }
};

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * A certflow `start` that was SIGKILLed leaves its detached dev server running on our ports,
 * and the next start fails with "address already in use". Before starting one, stop the one
 * the pid file names — only if that pid is alive, its command line is exactly the temporal
 * binary with our --db-filename (pids get reused), and the certflow process that started it is
 * gone (another `start` on this DATA_DIR still uses it: then refuse).
 */
export async function reclaimStaleDevServer(config: Config, logger: Logger): Promise<void> {
  const file = devServerPidFile(config);
  let rec: PidRecord;
  try {
    rec = JSON.parse(fs.readFileSync(file, 'utf8')) as PidRecord;
  } catch {
    return; // none recorded (or unreadable: nothing we can safely act on)
  }
  const argv = readCmdline(rec.pid);
  const ours =
    argv !== undefined &&
    argv.length === rec.argv.length &&
    argv.every((a, i) => a === rec.argv[i]) &&
    argv.includes(config.temporal.devServer.dbFilename);
  if (!ours) {
    fs.rmSync(file, { force: true });
    return;
  }
  const ownerArgv = readCmdline(rec.owner);
  const ownerRuns = ownerArgv !== undefined && ownerArgv.join('\0') === (rec.ownerArgv ?? []).join('\0');
  if (rec.owner !== process.pid && ownerRuns) {
    throw new Error(`another certflow start (pid ${rec.owner}) runs the Temporal dev server for ${config.dataDir}`);
  }
  logger.warn({ pid: rec.pid }, 'stopping the Temporal dev server a crashed certflow start left running');
  try {
    process.kill(-rec.pid, 'SIGTERM'); // it leads its own process group (detached)
  } catch {
    process.kill(rec.pid, 'SIGTERM');
  }
  const deadline = Date.now() + 10_000;
  while (isAlive(rec.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(rec.pid)) process.kill(rec.pid, 'SIGKILL');
  fs.rmSync(file, { force: true });
}

/**
 * Runs `temporal server start-dev` as a child of this process: SQLite persistence under
 * the data folder, so workflows survive a restart of `npm start`. The caller stops it
 * on shutdown (cli.ts wires SIGINT/SIGTERM to that).
 */
export async function startDevServer(config: Config, logger: Logger): Promise<DevServer> {
  const { cliPath, port, uiPort, dbFilename } = config.temporal.devServer;
  if (cliPath.includes('/') && !fs.existsSync(cliPath)) {
    throw new Error(`TEMPORAL_CLI: ${cliPath} does not exist; run scripts/setup.sh`);
  }
  fs.mkdirSync(path.dirname(dbFilename), { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--ui-port',
    String(uiPort),
    '--db-filename',
    dbFilename,
    '--namespace',
    config.temporal.namespace,
    '--log-level',
    'warn',
  ];
  // Its own process group: Ctrl-C in a terminal must not stop the server before the
  // worker has drained; we stop it last. The exit hook covers every other way out.
  await reclaimStaleDevServer(config, logger);
  const child = spawn(cliPath, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const pidFile = devServerPidFile(config);
  if (child.pid) {
    const argv = readCmdline(child.pid) ?? [cliPath, ...args];
    fs.mkdirSync(path.dirname(pidFile), { recursive: true });
    fs.writeFileSync(
      pidFile,
      JSON.stringify({
        pid: child.pid,
        owner: process.pid,
        ownerArgv: readCmdline(process.pid) ?? [],
        argv,
      } satisfies PidRecord),
    );
    child.once('exit', () => {
      if (fs.existsSync(pidFile) && JSON.parse(fs.readFileSync(pidFile, 'utf8')).pid === child.pid) fs.rmSync(pidFile);
    });
  }
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const output: string[] = [];
  const keep = (b: Buffer) => {
    output.push(b.toString());
    if (output.length > 50) output.shift();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (err) => reject(new Error(`TEMPORAL_CLI: cannot run ${cliPath}: ${err.message}`))),
  );

  const address = `127.0.0.1:${port}`;
  const ready = (async () => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        const connection = await Connection.connect({ address, connectTimeout: 1000 });
        await connection.workflowService.describeNamespace({ namespace: config.temporal.namespace });
        await connection.close();
        return;
      } catch (err) {
        if (Date.now() > deadline) {
          throw new Error(`Temporal dev server did not answer on ${address}: ${String(err)}`, { cause: err });
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  })();
  const died = exited.then((code) => {
    throw new Error(`temporal server start-dev exited with code ${code}:\n${output.join('')}`);
  });
  try {
    await Promise.race([ready, died, spawnError]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  logger.debug({ pid: child.pid, address }, 'temporal dev server up');
  return {
    address,
    uiUrl: `http://localhost:${uiPort}`,
    process: child,
    async stop() {
      process.off('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export async function connectClient(address: string, namespace: string): Promise<Client> {
  const connection = await Connection.connect({ address, connectTimeout: 5000 });
  return new Client({ connection, namespace });
}

async function missingSearchAttributes(client: Client, namespace: string) {
  const existing = await client.connection.operatorService.listSearchAttributes({ namespace });
  return SEARCH_ATTRIBUTES.filter((k) => !(k.name in (existing.customAttributes ?? {})));
}

/**
 * Registers the project's search attributes where the namespace lacks them. `certflow start`
 * does it on its dev server; against a cluster `certflow temporal-init` does it once, so that
 * api and worker processes need no right to change the namespace (requireSearchAttributes).
 */
export async function ensureSearchAttributes(client: Client, namespace: string): Promise<string[]> {
  const missing = await missingSearchAttributes(client, namespace);
  if (missing.length === 0) return [];
  await client.connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((k) => [k.name, INDEXED_VALUE_TYPE[k.type]!])),
  });
  return missing.map((k) => k.name);
}

/** Fails start-up, naming what is missing, when the cluster was not prepared by `certflow temporal-init`. */
export async function requireSearchAttributes(client: Client, namespace: string): Promise<void> {
  let missing: { name: string }[];
  try {
    missing = await missingSearchAttributes(client, namespace);
  } catch (err) {
    const e = err as { code?: number; message?: string };
    // gRPC NOT_FOUND: the namespace itself is missing.
    if (e.code === 5) {
      const message = `namespace "${namespace}" does not exist; run \`certflow temporal-init\` first`;
      throw new Error(`TEMPORAL_NAMESPACE: ${message}`, { cause: err });
    }
    throw err;
  }
  if (missing.length) {
    const names = missing.map((k) => k.name).join(', ');
    throw new Error(
      `TEMPORAL_ADDRESS: namespace "${namespace}" lacks the search attributes ${names}; ` +
        'run `certflow temporal-init` once',
    );
  }
}

/**
 * `certflow temporal-init`: once per cluster (and again after an upgrade that adds search
 * attributes), before api and workers start. Waits for the cluster, creates the namespace if
 * it is missing and adds the missing search attributes. Running it again changes nothing.
 */
export async function temporalInit(opts: {
  address: string;
  namespace: string;
  retentionDays?: number;
  waitMs?: number;
}): Promise<{ namespaceCreated: boolean; searchAttributesAdded: string[] }> {
  const deadline = Date.now() + (opts.waitMs ?? 60_000);
  const retry = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (Date.now() > deadline) {
          throw new Error(`TEMPORAL_ADDRESS: ${what} failed: ${(err as Error).message}`, { cause: err });
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  };
  const client = await retry(`connecting to ${opts.address}`, () => connectClient(opts.address, opts.namespace));
  try {
    const service = client.connection.workflowService;
    const exists = await retry('describing the namespace', () =>
      service.describeNamespace({ namespace: opts.namespace }).then(
        () => true,
        (err: { code?: number }) => {
          if (err.code === 5) return false;
          throw err;
        },
      ),
    );
    if (!exists) {
      const days = opts.retentionDays ?? 30;
      await service.registerNamespace({
        namespace: opts.namespace,
        workflowExecutionRetentionPeriod: msToTs(`${days} days`),
      });
    }
    // A namespace just made takes a few seconds to reach every frontend: retry until it answers.
    const added = await retry('adding the search attributes', () => ensureSearchAttributes(client, opts.namespace));
    return { namespaceCreated: !exists, searchAttributesAdded: added };
  } finally {
    await client.connection.close();
  }
}

export async function createWorker(opts: {
  address: string;
  namespace: string;
  taskQueue: string;
  activities: object;
  /** A prebuilt bundle (tests build it once for all workers); otherwise bundled from workflows/. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** false: an activity-only worker (the render queue). */
  workflows?: boolean;
  maxConcurrentActivities?: number;
  identity?: string;
  /** On shutdown, in-flight activities get this long to finish before they are cancelled. */
  shutdownGraceSeconds?: number;
}): Promise<{ worker: Worker; connection: NativeConnection }> {
  const connection = await NativeConnection.connect({ address: opts.address });
  const worker = await Worker.create({
    connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    activities: opts.activities,
    ...(opts.identity ? { identity: opts.identity } : {}),
    ...(opts.maxConcurrentActivities ? { maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivities } : {}),
    ...(opts.shutdownGraceSeconds
      ? {
          shutdownGraceTime: opts.shutdownGraceSeconds * 1000,
          // An activity that ignores its cancellation must not hold the process past the grace period.
          shutdownForceTime: (opts.shutdownGraceSeconds + 10) * 1000,
        }
      : {}),
    ...(opts.workflows === false
      ? {}
      : opts.workflowBundle
        ? { workflowBundle: opts.workflowBundle }
        : { workflowsPath: require.resolve('../workflows') }),
  });
  return { worker, connection };
}
