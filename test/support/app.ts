import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import type { Client } from '@temporalio/client';
import { createApp, type AppDeps } from '../../api/app';
import { loadConfig, type Config } from '../../platform/config';
import { createMemoryCache, type Cache } from '../../platform/cache';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Db } from '../../db/knex';
import type { ActivityDeps } from '../../activities';
import { createFileBlobStore } from '../../platform/blobs';
import { LibreofficeConvertConverter, WarmConverter, type PdfConverter } from '../../services/documents/convert';
import type { TemplateWorkerPool } from '../../services/documents/template-pool';

export const DEMO_PASSWORD = 'certflow-demo';

export const silentLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export function testConfig(overrides: Partial<Config['temporal']> = {}): Config {
  const base = loadConfig({ NODE_ENV: 'test', DATA_DIR: '/tmp/certflow-test-data', CALLBACK_ALLOW_PRIVATE: 'true' });
  return { ...base, temporal: { ...base.temporal, ...overrides } };
}

export interface TestApp {
  url: string;
  deps: AppDeps;
  close(): Promise<void>;
  /** Writes the audit entries the app is still aggregating (repeated unauthenticated failures). */
  flushAudit(): Promise<void>;
  fetch(path: string, init?: RequestInit & { json?: unknown; token?: string; apiKey?: string }): Promise<Response>;
  /** Signs in and returns the bearer token. */
  login(username: string, password?: string): Promise<string>;
}

let sharedConverter: PdfConverter | undefined;
let warmConverter: WarmConverter | undefined;

/** One warm LibreOffice pool for the whole run (the render queue's converter). */
export function testWarmConverter(): WarmConverter {
  warmConverter ??= new WarmConverter({ size: 2, timeoutMs: 60_000 });
  return warmConverter;
}

export async function closeTestConverters() {
  await warmConverter?.close();
  warmConverter = undefined;
}
/** One stock converter for the run (previews); the pipeline tests bring their own warm pool. */
export function testConverter(): PdfConverter {
  sharedConverter ??= new LibreofficeConvertConverter({ timeoutMs: 60_000 });
  return sharedConverter;
}

/** Everything activities and the API need, on the given database, with a temp blob store and master key. */
export function testDeps(db: Db, overrides: Partial<ActivityDeps> = {}): ActivityDeps {
  return {
    config: testConfig(),
    db,
    cache: createMemoryCache(1000),
    logger: silentLogger,
    blobs: createFileBlobStore(fs.mkdtempSync(path.join(os.tmpdir(), 'certflow-blobs-'))),
    masterKey: randomBytes(32),
    converter: testConverter(),
    ...overrides,
  };
}

/** The real Koa app on a free port, driven over HTTP. */
export async function startTestApp(parts: {
  db: Db;
  temporal: Client;
  cache?: Cache;
  config?: Config;
  deps?: ActivityDeps;
  /** Its own template worker pool (default: the shared one for the config's settings). */
  templates?: TemplateWorkerPool;
}): Promise<TestApp> {
  const base = parts.deps ?? testDeps(parts.db);
  const config = parts.config ?? base.config;
  const deps: AppDeps = {
    ...base,
    config,
    db: parts.db,
    cache: parts.cache ?? base.cache,
    temporal: parts.temporal,
    ...(parts.templates ? { templates: parts.templates } : {}),
  };
  const koa = createApp(deps);
  const server: Server = await new Promise((resolve) => {
    const s = koa.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const app: TestApp = {
    url,
    deps,
    flushAudit: () => koa.context.auditAggregator.flush(),
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await koa.context.auditAggregator.close();
    },
    fetch(path, init = {}) {
      const { json, token, apiKey, ...rest } = init;
      const headers: Record<string, string> = { ...(rest.headers as Record<string, string> | undefined) };
      if (token) headers.authorization = `Bearer ${token}`;
      if (apiKey) headers.authorization = `ApiKey ${apiKey}`;
      if (json !== undefined) headers['content-type'] = 'application/json';
      return fetch(url + path, {
        ...rest,
        headers,
        ...(json !== undefined ? { method: rest.method ?? 'POST', body: JSON.stringify(json) } : {}),
      });
    },
    async login(username, password = DEMO_PASSWORD) {
      const r = await app.fetch('/api/v1/auth/login', { json: { username, password } });
      if (r.status !== 200) throw new Error(`login ${username}: ${r.status} ${await r.text()}`);
      return ((await r.json()) as { token: string }).token;
    },
  };
  return app;
}
