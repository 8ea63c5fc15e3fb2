import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The process's Prometheus metrics (docs/operations.md, "Metrics"): one registry per process,
 * shared by every layer that counts something (HTTP, sealing steps, converter pool, cache,
 * audit). Series read from the database are set by a refresh callback just before each scrape,
 * so they cost one indexed count per scrape and nothing in between.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'certflow_process_' });

export const httpRequests = new Counter({
  name: 'certflow_http_requests_total',
  help: 'HTTP requests answered, by method, route template (never the raw URL) and status',
  labelNames: ['method', 'route', 'status'] as const,
  registers: [registry],
});

export const httpDuration = new Histogram({
  name: 'certflow_http_request_duration_seconds',
  help: 'HTTP request latency, by method and route template',
  labelNames: ['method', 'route'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

export const applicationsByStatus = new Gauge({
  name: 'certflow_applications',
  help: 'Applications by status, counted in the database at scrape time (API processes only)',
  labelNames: ['status'] as const,
  registers: [registry],
});

export const openTasks = new Gauge({
  name: 'certflow_tasks_open',
  help: 'Open approval tasks, counted in the database at scrape time (API processes only)',
  registers: [registry],
});

export const overdueTasks = new Gauge({
  name: 'certflow_tasks_overdue',
  help: 'Open approval tasks past their due time, counted at scrape time (API processes only)',
  registers: [registry],
});

/** The sealing pipeline's steps as operators name them (services/issuance/sealing.ts). */
export const SEALING_STEPS = ['allocate', 'render', 'convert', 'sign', 'store', 'register', 'notify'] as const;
export type SealingStep = (typeof SEALING_STEPS)[number];

export const sealingStepDuration = new Histogram({
  name: 'certflow_sealing_step_duration_seconds',
  help: 'Duration of one attempt of a sealing step, by step and outcome (ok or error)',
  labelNames: ['step', 'outcome'] as const,
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers: [registry],
});

export const cacheLookups = new Counter({
  name: 'certflow_cache_lookups_total',
  help: 'Cache reads by backend (redis, memory) and result (hit, miss); hit ratio = hit / (hit + miss)',
  labelNames: ['backend', 'result'] as const,
  registers: [registry],
});

export const auditAppends = new Counter({
  name: 'certflow_audit_appends_total',
  help: 'Entries appended to the audit chain by this process, by category',
  labelNames: ['category'] as const,
  registers: [registry],
});

/** Live converter pools of this process; the gauges below sum them at scrape time. */
const converterPools = new Set<() => { size: number; busy: number; waiting: number }>();

/** Called by a converter pool (services/documents/convert.ts); the returned function unregisters it. */
export function trackConverterPool(stats: () => { size: number; busy: number; waiting: number }): () => void {
  converterPools.add(stats);
  return () => converterPools.delete(stats);
}

const poolSum = (key: 'size' | 'busy' | 'waiting') => [...converterPools].reduce((n, s) => n + s()[key], 0);

new Gauge({
  name: 'certflow_converter_pool_size',
  help: 'Warm LibreOffice converters in this process',
  registers: [registry],
  collect() {
    this.set(poolSum('size'));
  },
});
new Gauge({
  name: 'certflow_converter_pool_busy',
  help: 'Warm LibreOffice converters converting a document right now',
  registers: [registry],
  collect() {
    this.set(poolSum('busy'));
  },
});
new Gauge({
  name: 'certflow_converter_pool_waiting',
  help: 'Documents waiting for a free converter',
  registers: [registry],
  collect() {
    this.set(poolSum('waiting'));
  },
});

/** Times `fn` into the sealing step histogram, failures included (outcome="error"). */
export async function timeSealingStep<T>(step: SealingStep, fn: () => Promise<T>): Promise<T> {
  const end = sealingStepDuration.startTimer({ step });
  try {
    const result = await fn();
    end({ outcome: 'ok' });
    return result;
  } catch (err) {
    end({ outcome: 'error' });
    throw err;
  }
}

/** The exposition text, after refreshing the series read at scrape time. */
export async function scrape(refresh?: () => Promise<void>): Promise<{ contentType: string; body: string }> {
  await refresh?.();
  return { contentType: registry.contentType, body: await registry.metrics() };
}

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/**
 * GET /metrics on a listener of its own (METRICS_PORT), apart from the public API port: the
 * API's load balancer never routes to it, and the address it binds (HOST) decides who can
 * reach it. A failing refresh (database down) still answers with the process's own series.
 */
export async function serveMetrics(opts: {
  host: string;
  port: number;
  refresh?: () => Promise<void>;
  onError?: (err: unknown) => void;
}): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (url !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(url === '/metrics' ? 405 : 404, { 'content-type': 'text/plain' }).end('GET /metrics\n');
      return;
    }
    const refresh = opts.refresh ? () => opts.refresh!().catch((err) => opts.onError?.(err)) : undefined;
    scrape(refresh).then(
      ({ contentType, body }) =>
        res.writeHead(200, { 'content-type': contentType }).end(req.method === 'HEAD' ? '' : body),
      (err) => {
        opts.onError?.(err);
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics failed\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`METRICS_PORT: ${opts.port} is already in use`) : err),
    );
    server.listen(opts.port, opts.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
