import type { Server } from 'node:http';
import { Runtime } from '@temporalio/worker';
import type { LogLevel, LogMetadata } from '@temporalio/common';
import { ConfigError, loadConfig, type Config } from '../platform/config';
import { createLogger, type Logger } from '../platform/logger';
import { createCache } from '../platform/cache';
import {
  connectClient,
  createWorker,
  ensureSearchAttributes,
  requireSearchAttributes,
  startDevServer,
  temporalInit,
} from './temporal';
import { migrate, openDb } from '../db/knex';
import { demoLogins, seedDemo, seedDemoTypes } from '../db/seed-demo';
import { createActivities, createRenderActivities } from '../activities';
import { ensureDevelopmentTrust } from '../services/trust/seals';
import { LibreofficeConvertConverter, sweepStaleConverterDirs, WarmConverter } from '../services/documents/convert';
import { createBlobStore } from '../platform/blobs';
import { ensureExpirySchedule } from './schedules';
import { loadMasterKey } from '../platform/master-key';
import { createApp } from '../api/app';
import { serveMetrics } from '../platform/metrics';
import { refreshDatabaseGauges } from '../services/metrics';
import { startAuditAnchoring } from '../db/audit-anchors';
import { resumeInFlight } from '../services/issuance/resume';
import { backup, restore } from '../services/backup';
import { warnAboutStaleTypeDefinitions } from '../services/type-definitions';
import { closeSharedTemplatePools } from '../services/documents/template-pool';
import fs from 'node:fs';
import path from 'node:path';
import type * as DevIdpModule from './dev-idp';
import type { DevIdp } from './dev-idp';

/**
 * The entry points: `start` (the embedded default: Temporal dev server + worker + API in
 * one process tree), `api`, `worker` and `render-worker` (production, scaled separately),
 * `migrate` and `temporal-init` (one-shots of a rollout). Each one wires config → database →
 * Temporal → Koa and nothing else.
 * `worker` polls both queues unless given --no-render; `render-worker` polls only the render
 * queue (DOCX → PDF on warm LibreOffice), so conversions scale apart from the workflows.
 */

type Cleanup = () => Promise<unknown> | unknown;

/** Resources are released in reverse order of acquisition, also when start-up fails half-way. */
class Lifecycle {
  private cleanups: { name: string; fn: Cleanup }[] = [];
  private stopping: Promise<void> | undefined;
  constructor(private logger: Logger) {}

  add(name: string, fn: Cleanup) {
    this.cleanups.push({ name, fn });
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const { name, fn } of this.cleanups.reverse()) {
        try {
          await fn();
          this.logger.debug(`stopped ${name}`);
        } catch (err) {
          this.logger.error({ err }, `failed to stop ${name}`);
        }
      }
    })();
    return this.stopping;
  }
}

function temporalLogger(logger: Logger) {
  const log = (level: LogLevel, message: string, meta?: LogMetadata) =>
    logger[level === 'TRACE' ? 'trace' : (level.toLowerCase() as 'debug' | 'info' | 'warn' | 'error')](
      { temporal: meta },
      message,
    );
  return {
    log,
    trace: (m: string, meta?: LogMetadata) => log('TRACE', m, meta),
    debug: (m: string, meta?: LogMetadata) => log('DEBUG', m, meta),
    info: (m: string, meta?: LogMetadata) => log('INFO', m, meta),
    warn: (m: string, meta?: LogMetadata) => log('WARN', m, meta),
    error: (m: string, meta?: LogMetadata) => log('ERROR', m, meta),
  };
}

type Role = 'start' | 'api' | 'worker' | 'render-worker';
const ROLES: readonly string[] = ['start', 'api', 'worker', 'render-worker'] satisfies Role[];

/** What a process does: serve HTTP, poll the main queue (workflows + activities), poll the render queue. */
interface Duties {
  http: boolean;
  mainQueue: boolean;
  renderQueue: boolean;
}

function duties(role: Role, flags: string[]): Duties {
  const noRender = flags.includes('--no-render');
  return {
    http: role === 'start' || role === 'api',
    mainQueue: role === 'start' || role === 'worker',
    renderQueue: role === 'start' || role === 'render-worker' || (role === 'worker' && !noRender),
  };
}

async function run(role: Role, does: Duties, givenConfig: Config, logger: Logger, life: Lifecycle) {
  let config = givenConfig;
  // The embedded default signs holders in through its own development identity provider
  // (docs/holders.md) unless a real one is configured; never in production.
  let devIdp: DevIdp | undefined;
  // Loaded only here: api, workers and migrate never load oidc-provider (nor print its warnings).
  let devIdpModule: typeof DevIdpModule | undefined;
  if (role === 'start' && config.env !== 'production' && !config.holder.oidc) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    devIdpModule = require('./dev-idp') as typeof DevIdpModule;
    devIdp = devIdpModule.createDevIdp(config, logger.child({ component: 'dev-idp' }));
    config = { ...config, holder: { ...config.holder, oidc: devIdp.settings } };
  }
  let address = config.temporal.address;
  let uiUrl: string | undefined;
  if (!address) {
    if (role !== 'start')
      throw new ConfigError([{ variable: 'TEMPORAL_ADDRESS', message: `required for "certflow ${role}"` }]);
    logger.info('starting the Temporal dev server');
    const dev = await startDevServer(config, logger);
    life.add('temporal dev server', () => dev.stop());
    address = dev.address;
    uiUrl = dev.uiUrl;
  }

  const db = openDb(config.database);
  life.add('database', () => db.destroy());
  const applied = await migrate(db, { masterKey: loadMasterKey(config) });
  if (applied.length) logger.info({ applied }, 'database migrated');
  if (config.demo.enabled && (await seedDemo(db, config.demo.password))) logger.info('demo data seeded');
  if (does.http) await warnAboutStaleTypeDefinitions(db, logger);

  const cache = await createCache({
    redisUrl: config.redisUrl,
    prefix: config.redisKeyPrefix,
    maxEntries: config.cacheMaxEntries,
    logger,
  });
  life.add('cache', () => cache.close());

  const blobs = createBlobStore(config.blobs);
  life.add('blob store', () => blobs.close?.());
  const masterKey = loadMasterKey(config);
  if (config.demo.enabled) {
    await ensureDevelopmentTrust({ db, blobs, masterKey, logger, publicUrl: config.http.publicUrl });
    const types = await seedDemoTypes(db, blobs);
    if (types.length) logger.info({ types }, 'demo certificate types seeded');
  }
  // Template previews in the API use the stock converter; sealing converts on the render worker's warm pool.
  // Profiles of a converter process that was SIGKILLed (services/documents/convert.ts).
  const swept = sweepStaleConverterDirs();
  if (swept.length) logger.info({ pids: swept }, 'removed soffice folders left by stopped processes');
  const converter = new LibreofficeConvertConverter({ timeoutMs: 60_000 });
  life.add('pdf converter', () => converter.close());
  life.add('template workers', () => closeSharedTemplatePools());

  const deps = { config, db, cache, logger, blobs, masterKey, converter };

  // Checkpoints of the audit chain outside the database (db/audit-anchors.ts); registered after the
  // database, so the last one is written before it closes.
  const { anchorsDir, anchorEverySeconds } = config.audit;
  const onAnchorError = (err: Error) => logger.error({ err: err.message }, 'audit checkpoint not written');
  life.add('audit anchoring', startAuditAnchoring(db, masterKey, anchorsDir, anchorEverySeconds, onAnchorError));

  const temporal = await connectClient(address, config.temporal.namespace);
  life.add('temporal client', () => temporal.connection.close());
  // A cluster is prepared once by `certflow temporal-init`; processes only check, and need no admin right.
  if (config.temporal.address) await requireSearchAttributes(temporal, config.temporal.namespace);
  else await ensureSearchAttributes(temporal, config.temporal.namespace);

  if (config.metrics.port !== undefined) {
    const metricsLog = logger.child({ component: 'metrics' });
    const server = await serveMetrics({
      host: config.http.host,
      port: config.metrics.port,
      // The database's gauges are the same for every process: the API processes report them.
      ...(does.http ? { refresh: () => refreshDatabaseGauges(db) } : {}),
      onError: (err) => metricsLog.warn({ err }, 'metrics refresh failed'),
    });
    life.add('metrics server', () => server.close());
  }

  if (does.mainQueue || does.renderQueue) {
    // The SDK is chatty at INFO (it logs the whole webpack report); show its warnings unless debugging.
    const sdkLevel = logger.isLevelEnabled('debug') ? logger.level : 'warn';
    const { temporalPort } = config.metrics;
    Runtime.install({
      logger: temporalLogger(logger.child({ component: 'temporal' }, { level: sdkLevel })),
      // The SDK's own worker metrics (poll latency, slots, schedule-to-start) on a Prometheus listener of its own.
      ...(temporalPort !== undefined
        ? { telemetryOptions: { metrics: { prometheus: { bindAddress: `${config.http.host}:${temporalPort}` } } } }
        : {}),
      // Signals are ours (below): the worker must drain before the database and the dev server go.
      shutdownSignals: [],
    });
    const workerOptions = {
      address,
      namespace: config.temporal.namespace,
      shutdownGraceSeconds: config.shutdownGraceSeconds,
    };
    /** Runs a worker; registered after the database and cache, so it drains before they close. */
    const run = (name: string, { worker, connection }: Awaited<ReturnType<typeof createWorker>>) => {
      const running = worker.run();
      running.catch((err) => {
        logger.fatal({ err }, `${name} failed`);
        void life.stop().then(() => process.exit(1));
      });
      life.add(name, async () => {
        worker.shutdown();
        await running.catch(() => undefined);
        await connection.close();
      });
    };
    if (does.mainQueue) {
      const activities = createActivities(deps);
      run('worker', await createWorker({ ...workerOptions, taskQueue: config.temporal.taskQueue, activities }));
    }

    if (does.renderQueue) {
      // DOCX → PDF on its own queue, with warm LibreOffice processes (≈0.2 s a document instead of ≈2 s).
      const renderConverter = new WarmConverter({
        size: config.renderConcurrency,
        timeoutMs: 60_000,
        logger: logger.child({ component: 'converter' }),
      });
      life.add('render converters', () => renderConverter.close());
      const render = await createWorker({
        ...workerOptions,
        taskQueue: `${config.temporal.taskQueue}-render`,
        activities: createRenderActivities({ ...deps, converter: renderConverter }),
        workflows: false,
        maxConcurrentActivities: config.renderConcurrency,
      });
      run('render worker', render);
    }
    // The expiry sweep's schedule starts workflows on the main queue, so its pollers own it.
    if (does.mainQueue) {
      await ensureExpirySchedule(temporal, {
        taskQueue: config.temporal.taskQueue,
        everyMinutes: config.expiry.sweepMinutes,
        reminderDays: config.expiry.reminderDays,
      });
      // After a restore into a fresh Temporal, in-flight applications have no workflow: start them again.
      try {
        const resumed = await resumeInFlight({ db, masterKey, config, temporal }, logger);
        if (resumed.length) logger.info({ applications: resumed.length }, 'in-flight applications resumed');
      } catch (err) {
        logger.error({ err }, 'resuming in-flight applications failed; they resume at the next start');
      }
    }
  }

  if (does.http) {
    const app = createApp({ ...deps, temporal }, { beforeAuth: devIdp ? [devIdp.middleware] : [] });
    const server: Server = await new Promise((resolve, reject) => {
      const s = app.listen(config.http.port, config.http.host, () => resolve(s));
      s.once('error', (err: NodeJS.ErrnoException) =>
        reject(err.code === 'EADDRINUSE' ? new Error(`PORT: ${config.http.port} is already in use`) : err),
      );
    });
    life.add('http server', async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      // Repeated failures still being counted are written before the database closes.
      await app.context.auditAggregator.close();
    });
  }

  if (devIdp && devIdpModule && config.demo.enabled) {
    // In the background: sealing takes a few seconds, and start-up need not wait for it.
    void devIdpModule
      .issueDemoHolderCertificates({ ...deps, temporal }, logger)
      .catch((err) => logger.warn({ err }, "could not issue the demo holders' certificates"));
  }
  printBanner(role, does, config, uiUrl, Boolean(devIdp));
}

function demoBanner(config: Config): string[] {
  if (!config.demo.enabled) return [];
  const byDept = new Map<string, string[]>();
  for (const l of demoLogins())
    byDept.set(l.department ?? 'platform', [...(byDept.get(l.department ?? 'platform') ?? []), l.username]);
  return [
    `Demo logins (password: ${config.demo.password === 'certflow-demo' ? 'certflow-demo' : 'the value of CERTFLOW_DEMO_PASSWORD'}):`,
    ...[...byDept].map(([d, users]) => `  ${d.padEnd(9)} ${users.join(', ')}`),
  ];
}

function printBanner(role: Role, does: Duties, config: Config, uiUrl: string | undefined, devIdp = false) {
  const queue = config.temporal.taskQueue;
  const polling = [does.mainQueue && queue, does.renderQueue && `${queue}-render`].filter(Boolean).join(', ');
  const lines = ['', `certflow ${role} is running${polling ? ` (task queues: ${polling})` : ''}`];
  if (does.http) {
    lines.push(`  API              ${config.http.publicUrl}/api/v1   (OpenAPI: ${config.http.publicUrl}/openapi.json)`);
    lines.push(`  Task inbox       ${config.http.publicUrl}/inbox   (sign in with a demo login below)`);
    lines.push(`  Verify page      ${config.http.publicUrl}/verify   (public)`);
    const idp = devIdp ? ' (demo holders via the development identity provider)' : '';
    if (config.holder.oidc) lines.push(`  Holder portal    ${config.http.publicUrl}/holder${idp}`);
    lines.push(`  Health           ${config.http.publicUrl}/readyz`);
  }
  if (uiUrl) lines.push(`  Temporal Web UI  ${uiUrl}`);
  lines.push(
    `  Database         ${config.database.client === 'sqlite' ? config.database.filename : 'MySQL (DATABASE_URL)'}`,
  );
  lines.push(`  Cache            ${config.redisUrl ? 'Redis (REDIS_URL)' : 'in-process LRU'}`);
  const b = config.blobs;
  lines.push(`  Blobs            ${b.kind === 'file' ? b.dir : `s3://${b.bucket}/${b.prefix} (BLOB_STORE_URL)`}`);
  if (does.http) lines.push(...demoBanner(config));
  lines.push('Press Ctrl-C to stop.', '');
  process.stdout.write(lines.join('\n') + '\n');
}

export async function main(argv: string[]): Promise<void> {
  const command = argv[0] ?? 'start';
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    process.stderr.write(`certflow: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const logger = createLogger(config);
  const life = new Lifecycle(logger);

  if (command === 'temporal-init') {
    if (!config.temporal.address) {
      process.stderr.write('certflow: TEMPORAL_ADDRESS: required for "certflow temporal-init"\n');
      process.exit(2);
    }
    try {
      const done = await temporalInit({ address: config.temporal.address, namespace: config.temporal.namespace });
      const { namespace } = config.temporal;
      const added = done.searchAttributesAdded;
      process.stdout.write(
        `namespace ${namespace} ${done.namespaceCreated ? 'created' : 'exists'}; ` +
          `${added.length ? `search attributes added: ${added.join(', ')}` : 'search attributes present'}\n`,
      );
    } catch (err) {
      process.stderr.write(`certflow: ${(err as Error).message}\n`);
      process.exit(1);
    }
    return;
  }
  if (command === 'migrate') {
    const db = openDb(config.database);
    try {
      const applied = await migrate(db, { masterKey: loadMasterKey(config) });
      process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
      await warnAboutStaleTypeDefinitions(db, logger);
    } finally {
      await db.destroy();
    }
    return;
  }
  if (command === 'backup' || command === 'restore') {
    const dir = argv[1];
    if (!dir || argv.length > 2) {
      process.stderr.write(`usage: certflow ${command} <dir>\n`);
      process.exit(2);
    }
    try {
      await backupOrRestore(command, path.resolve(dir), config, logger);
    } catch (err) {
      process.stderr.write(`certflow ${command}: ${(err as Error).message}\n`);
      process.exit(1);
    }
    return;
  }
  const flags = argv.slice(1);
  const knownFlags = command === 'worker' ? ['--no-render'] : [];
  if (!ROLES.includes(command) || flags.some((f) => !knownFlags.includes(f))) {
    process.stderr.write(
      'usage: certflow [start|api|worker [--no-render]|render-worker|migrate|temporal-init|backup <dir>|restore <dir>]\n',
    );
    process.exit(2);
  }
  const role = command as Role;

  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    // Ctrl-C reaches us twice (from the terminal and forwarded by npm): only a signal
    // given well after the first one means "stop now, do not drain".
    if (firstSignalAt) {
      if (Date.now() - firstSignalAt > 2000) {
        logger.warn('second signal: exiting without draining');
        process.exit(130);
      }
      return;
    }
    firstSignalAt = Date.now();
    logger.info({ signal }, 'shutting down');
    void life.stop().then(() => {
      logger.info('stopped');
      process.exit(0);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    await run(role, duties(role, flags), config, logger, life);
  } catch (err) {
    const message =
      err instanceof ConfigError || /^[A-Z_]+: /.test((err as Error).message) ? (err as Error).message : undefined;
    if (message) process.stderr.write(`certflow: ${message}\n`);
    else logger.fatal({ err }, 'start-up failed');
    await life.stop();
    process.exit(1);
  }
}

/**
 * `certflow backup <dir>` / `certflow restore <dir>` (services/backup.ts). Restore never makes
 * a master key: it takes CERTFLOW_MASTER_KEY, or a development key file already in DATA_DIR.
 */
async function backupOrRestore(command: 'backup' | 'restore', dir: string, config: Config, logger: Logger) {
  const blobs = createBlobStore(config.blobs);
  try {
    if (command === 'backup') {
      const db = openDb(config.database);
      try {
        const masterKey = loadMasterKey(config);
        const m = await backup({ config, db, blobs, masterKey, logger }, dir);
        const rows = Object.values(m.database.tables).reduce((a, b) => a + b, 0);
        process.stdout.write(
          `backup written to ${dir}: ${Object.keys(m.database.tables).length} tables (${rows} rows), ` +
            `${m.blobs.count} blobs, ${m.auditAnchors} audit checkpoints, ${Object.keys(m.files).length + 1} files\n`,
        );
      } finally {
        await db.destroy();
      }
      return;
    }
    const keyFile = path.join(config.dataDir, 'keys', 'master.key');
    const masterKey = config.masterKey || fs.existsSync(keyFile) ? loadMasterKey(config) : undefined;
    const { manifest, audit } = await restore({ config, blobs, masterKey }, dir);
    process.stdout.write(
      `restored ${dir} (taken ${manifest.createdAt}): ${manifest.blobs.count} blobs; audit chain ` +
        `${audit.ok ? `verified (${audit.entries} entries)` : `BROKEN at ${audit.firstBroken.seq}: ${audit.firstBroken.reason}`}\n` +
        'in-flight applications resume when the first worker starts\n',
    );
    if (!audit.ok) process.exitCode = 1;
  } finally {
    blobs.close?.();
  }
}
