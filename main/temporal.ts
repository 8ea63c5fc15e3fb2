import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { SearchAttributeType } from '@temporalio/common';
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
    'server', 'start-dev',
    '--ip', '127.0.0.1',
    '--port', String(port),
    '--ui-port', String(uiPort),
    '--db-filename', dbFilename,
    '--namespace', config.temporal.namespace,
    '--log-level', 'warn',
  ];
  // Its own process group: Ctrl-C in a terminal must not stop the server before the
  // worker has drained; we stop it last. The exit hook covers every other way out.
  await reclaimStaleDevServer(config, logger);
  const child = spawn(cliPath, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const pidFile = devServerPidFile(config);
  if (child.pid) {
    const argv = readCmdline(child.pid) ?? [cliPath, ...args];
    fs.mkdirSync(path.dirname(pidFile), { recursive: true });
    fs.writeFileSync(pidFile, JSON.stringify({
      pid: child.pid, owner: process.pid, ownerArgv: readCmdline(process.pid) ?? [], argv,
    } satisfies PidRecord));
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
        if (Date.now() > deadline) throw new Error(`Temporal dev server did not answer on ${address}: ${String(err)}`);
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

/**
 * Registers the project's search attributes where the namespace lacks them: on the dev
 * server and on a production cluster alike (there an operator can do it instead when this
 * identity may not change the namespace).
 */
export async function ensureSearchAttributes(client: Client, namespace: string): Promise<void> {
  const existing = await client.connection.operatorService.listSearchAttributes({ namespace });
  const missing = SEARCH_ATTRIBUTES.filter((k) => !(k.name in (existing.customAttributes ?? {})));
  if (missing.length === 0) return;
  await client.connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((k) => [k.name, INDEXED_VALUE_TYPE[k.type]!])),
  });
}

/** A deadline, not just a timeout around the call: the SDK would otherwise keep retrying in the background. */
export async function pingTemporal(client: Client, timeoutMs = 1500): Promise<void> {
  await client.connection.withDeadline(Date.now() + timeoutMs, () => client.connection.workflowService.getSystemInfo({}));
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
}): Promise<{ worker: Worker; connection: NativeConnection }> {
  const connection = await NativeConnection.connect({ address: opts.address });
  const worker = await Worker.create({
    connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    activities: opts.activities,
    ...(opts.identity ? { identity: opts.identity } : {}),
    ...(opts.maxConcurrentActivities ? { maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivities } : {}),
    ...(opts.workflows === false
      ? {}
      : opts.workflowBundle
        ? { workflowBundle: opts.workflowBundle }
        : { workflowsPath: require.resolve('../workflows') }),
  });
  return { worker, connection };
}
