/**
 * A certflow worker in a process of its own, so a test can SIGKILL it the way a machine
 * dies. Configured by environment: WORKER_CONFIG (JSON: database, blobDir, masterKeyHex,
 * taskQueue, address). CRASH_IN names an activity: right after that activity has done its
 * work — before Temporal hears of it — the process kills itself, once (CRASH_MARKER); with
 * CRASH_ON_CALL=n, on the n-th call of that activity rather than the first.
 */
import fs from 'node:fs';
import pino from 'pino';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { openDb } from '../../db/knex';
import { createActivities } from '../../activities';
import { createFileBlobStore } from '../../platform/blobs';
import { createMemoryCache } from '../../platform/cache';
import { loadConfig } from '../../platform/config';
import { createWorker } from '../../main/temporal';
import { LibreofficeConvertConverter } from '../../services/documents/convert';

async function main() {
  const c = JSON.parse(process.env.WORKER_CONFIG!) as {
    database: Parameters<typeof openDb>[0];
    blobDir: string;
    masterKeyHex: string;
    taskQueue: string;
    address: string;
  };
  Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
  const db = openDb(c.database);
  const activities = createActivities({
    config: loadConfig({ NODE_ENV: 'test' }),
    db,
    cache: createMemoryCache(100),
    logger: pino({ level: 'silent' }),
    blobs: createFileBlobStore(c.blobDir),
    masterKey: Buffer.from(c.masterKeyHex, 'hex'),
    converter: new LibreofficeConvertConverter({ timeoutMs: 60_000 }),
  }) as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const crashIn = process.env.CRASH_IN;
  const marker = process.env.CRASH_MARKER;
  if (crashIn && marker && !fs.existsSync(marker)) {
    const real = activities[crashIn]!;
    let calls = 0;
    const crashOn = Number(process.env.CRASH_ON_CALL ?? 1);
    activities[crashIn] = async (...args: unknown[]) => {
      const result = await real(...args);
      if (++calls < crashOn) return result;
      fs.writeFileSync(marker, crashIn);
      process.kill(process.pid, 'SIGKILL');
      return result;
    };
  }
  const { worker } = await createWorker({
    address: c.address,
    namespace: 'default',
    taskQueue: c.taskQueue,
    activities,
  });
  process.stdout.write('worker ready\n');
  await worker.run();
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exit(1);
});
