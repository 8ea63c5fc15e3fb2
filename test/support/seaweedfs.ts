import fs from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
// Types only: the root hooks import this file, and a run without S3 tests should not load the AWS SDK.
import type { S3Client } from '@aws-sdk/client-s3';
import type { S3BlobConfig } from '../../platform/blobs-s3';
import { uniqueSuffix } from './services';
import type * as S3Sdk from '@aws-sdk/client-s3';
import type * as S3BlobStore from '../../platform/blobs-s3';

/**
 * One real SeaweedFS (`weed server -s3`, installed by scripts/setup.sh under .tools/bin) for
 * the whole run, started on first use on free ports with a temporary directory, stopped by
 * the root hooks (test/support/hooks.ts). No S3 identities are configured, so it takes
 * anonymous requests, like the one in docker-compose.yml.
 */

const ROOT = path.resolve(__dirname, '..', '..');

export function weedBinary(): string | undefined {
  const installed = path.join(ROOT, '.tools', 'bin', 'weed');
  if (fs.existsSync(installed)) return installed;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && fs.existsSync(path.join(dir, 'weed'))) return path.join(dir, 'weed');
  }
  return undefined;
}

export interface Seaweed {
  endpoint: string;
  /** A client of the same make as the store's, for arranging and tampering. */
  client: S3Client;
  /** A new empty bucket, so that suites cannot see each other's objects. */
  createBucket(): Promise<string>;
  /** The store's configuration for a bucket (anonymous, path-style). */
  storeConfig(bucket: string, prefix?: string): S3BlobConfig;
}

let running: { proc: ChildProcess; dir: string; client: S3Client; sockets: string[] } | undefined;
let starting: Promise<Seaweed> | undefined;

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

const logTail = (file: string) =>
  fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').slice(-15).join('\n') : '';

async function startOnce(binary: string): Promise<Seaweed> {
  // Loaded here, not at the top: a run without the weed binary never loads the AWS SDK.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { CreateBucketCommand, PutObjectCommand } = require('@aws-sdk/client-s3') as typeof S3Sdk;
  const { createS3Client } = require('../../platform/blobs-s3') as typeof S3BlobStore;
  /* eslint-enable @typescript-eslint/no-require-imports */
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'certflow-seaweedfs-'));
  const [master, masterGrpc, volume, volumeGrpc, filer, filerGrpc, s3, s3Grpc] = await freePorts(8);
  const log = path.join(dir, 'weed.log');
  const out = fs.openSync(log, 'a');
  const proc = spawn(
    binary,
    [
      'server',
      `-dir=${dir}`,
      '-ip=127.0.0.1',
      '-master.telemetry=false',
      '-volume.max=0',
      // Small volumes: the default reserves 30 GB a volume; these tests write a few MB.
      '-master.volumeSizeLimitMB=64',
      `-master.port=${master}`,
      `-master.port.grpc=${masterGrpc}`,
      `-volume.port=${volume}`,
      `-volume.port.grpc=${volumeGrpc}`,
      `-filer.port=${filer}`,
      `-filer.port.grpc=${filerGrpc}`,
      `-filer.localSocket=${path.join(dir, 'filer.sock')}`,
      '-s3',
      `-s3.port=${s3}`,
      `-s3.port.grpc=${s3Grpc}`,
      '-s3.port.iceberg=0',
      '-s3.port.lance=0',
      `-s3.localSocket=${path.join(dir, 's3.sock')}`,
    ],
    { stdio: ['ignore', out, out] },
  );
  // weed also makes gRPC sockets under /tmp that no flag moves; they are removed on stop.
  const grpc = { master: masterGrpc, volume: volumeGrpc, filer: filerGrpc, s3: s3Grpc };
  const sockets = Object.entries(grpc)
    .map(([name, port]) => `${name}-grpc-${port}`)
    .map((name) => `/tmp/seaweedfs-${name}.sock`);
  fs.closeSync(out);
  let exited: string | undefined;
  proc.once('exit', (code, signal) => (exited = `weed exited (${signal ?? code})`));
  const endpoint = `http://127.0.0.1:${s3}`;
  const storeConfig = (bucket: string, prefix = ''): S3BlobConfig => ({
    kind: 's3',
    bucket,
    prefix,
    endpoint,
    region: 'us-east-1',
    credentials: undefined,
  });
  const client = createS3Client(storeConfig('unused'));
  running = { proc, dir, client, sockets };

  // Ready means a write lands: S3 answers a few seconds before the volume server takes data.
  const probe = `certflow-probe-${uniqueSuffix().replace(/_/g, '-').toLowerCase()}`;
  const deadline = Date.now() + 60_000;
  for (let created = false; ;) {
    if (exited) throw new Error(`${exited} during start-up:\n${logTail(log)}`);
    try {
      if (!created) await client.send(new CreateBucketCommand({ Bucket: probe }));
      created = true;
      await client.send(new PutObjectCommand({ Bucket: probe, Key: 'ready', Body: Buffer.from('ready') }));
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        throw new Error(`SeaweedFS did not take a write within 60 s (${(err as Error).message}):\n${logTail(log)}`, {
          cause: err,
        });
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  return {
    endpoint,
    client,
    async createBucket() {
      const bucket = `certflow-test-${uniqueSuffix().replace(/_/g, '-').toLowerCase()}`;
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      return bucket;
    },
    storeConfig,
  };
}

/** Throws when weed is not installed; callers turn that into a loud skip (or a CI failure) with requireService. */
export function seaweedfs(): Promise<Seaweed> {
  starting ??= (async () => {
    const binary = weedBinary();
    if (!binary) throw new Error('the weed binary is not installed (scripts/setup.sh puts it in .tools/bin)');
    for (let attempt = 1; ; attempt++) {
      try {
        return await startOnce(binary);
      } catch (err) {
        await stopProcess();
        // Free ports are found, released, then taken by weed: another process may win one in between.
        if (attempt === 3) throw err;
        process.stderr.write(`SeaweedFS did not start (attempt ${attempt}): ${(err as Error).message}\n`);
      }
    }
  })();
  return starting;
}

export async function stopSeaweedfs(): Promise<void> {
  const wasStarting = starting;
  starting = undefined;
  await wasStarting?.catch(() => undefined);
  await stopProcess();
}

async function stopProcess(): Promise<void> {
  const r = running;
  running = undefined;
  if (!r) return;
  r.client.destroy();
  if (r.proc.exitCode === null && r.proc.signalCode === null) {
    const gone = new Promise((resolve) => r.proc.once('exit', resolve));
    r.proc.kill('SIGTERM');
    const timer = setTimeout(() => r.proc.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  }
  for (const file of [r.dir, ...r.sockets]) fs.rmSync(file, { recursive: true, force: true });
}

// mocha exits the process at the end (exit: true); weed must not outlive it even then.
process.once('exit', () => running?.proc.kill('SIGKILL'));
