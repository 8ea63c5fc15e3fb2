import path from 'node:path';
import fs from 'node:fs';
import net from 'node:net';
import { z } from 'zod';

/**
 * The whole configuration of certflow: read once from the environment, validated,
 * then passed around as a plain object. Nothing else in the code reads process.env.
 */

import { parseBlobStoreUrl, type S3Location } from './blob-store-url';
import { ConfigError } from './config-error';
import { holderNotify, holderOidc, type HolderClaims, type HolderOidc } from './config-holder';

export { ConfigError, type HolderClaims, type HolderOidc, type S3Location };

const PROJECT_ROOT = path.resolve(__dirname, '..');

const port = z.coerce.number().int().min(1).max(65535);

/** A claim name in an ID token: a JSON member name we can also write in docs and env files. */
const claimName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_.:-]{0,99}$/, 'must be a claim name such as certflow_resident_id');

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: port.default(3000),
  PUBLIC_URL: z.url().optional(),
  DATA_DIR: z.string().min(1).default(path.join(PROJECT_ROOT, 'data')),
  BLOB_STORE_URL: z.string().transform(parseBlobStoreUrl).optional(),
  AWS_ACCESS_KEY_ID: z.string().min(1).optional(),
  AWS_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  AWS_SESSION_TOKEN: z.string().min(1).optional(),
  AWS_REGION: z
    .string()
    .regex(/^[a-z0-9-]+$/, 'must be a region name such as us-east-1')
    .optional(),
  DATABASE_URL: z
    .string()
    .regex(/^(mysql:\/\/|sqlite:)/, 'must start with mysql:// or sqlite:')
    .optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
    .optional(),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:._-]{1,64}$/, 'must be 1–64 of A-Z a-z 0-9 : . _ -')
    .default('certflow:'),
  CACHE_MAX_ENTRIES: z.coerce.number().int().positive().default(10_000),
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^\s:/]+:\d+$/, 'must be host:port, e.g. temporal.example.gov:7233')
    .optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('certflow'),
  TEMPORAL_DEV_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),
  TEMPORAL_CLI: z.string().min(1).optional(),
  SESSION_TTL_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 30)
    .default(8),
  LOGIN_MAX_FAILURES: z.coerce.number().int().positive().default(5),
  LOGIN_LOCKOUT_MINUTES: z.coerce.number().int().positive().default(15),
  LOGIN_MAX_FAILURES_PER_ADDRESS: z.coerce.number().int().positive().optional(),
  TRUSTED_PROXIES: z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean),
    )
    .superRefine((list, ctx) => {
      for (const p of list) {
        if (!isAddressOrRange(p)) ctx.addIssue({ code: 'custom', message: `${p} is not an IP address or CIDR range` });
      }
    })
    .default([]),
  CERTFLOW_MASTER_KEY: z.string().min(32, 'must be at least 32 characters (e.g. `openssl rand -base64 48`)').optional(),
  CERTFLOW_DEMO_PASSWORD: z.string().min(8, 'must be at least 8 characters').default('certflow-demo'),
  CATALOG_URL: z
    .url()
    .regex(/^https?:\/\//, 'must be an http:// or https:// URL')
    .optional(),
  /** The city's RFC 3161 time-stamping service; unset: certflow's own TSA (docs/trust.md). */
  TSA_URL: z
    .url()
    .regex(/^https?:\/\//, 'must be an http:// or https:// URL')
    .optional(),
  CATALOG_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(10_000),
  CALLBACK_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(10_000),
  EXPIRY_SWEEP_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(60),
  EXPIRY_REMINDER_DAYS: z.coerce.number().int().min(0).max(365).default(30),
  /** Access requests between departments (docs/sharing.md): hours until overdue and escalated. */
  ACCESS_REQUEST_DEADLINE_HOURS: z.coerce
    .number()
    .min(0.0001)
    .max(24 * 365)
    .default(72),
  AUDIT_ANCHOR_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 3600)
    .default(60),
  VERIFY_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(60),
  COMPARE_MAX_FAILURES_PER_CALLER: z.coerce.number().int().min(1).max(1000).default(5),
  COMPARE_MAX_FAILURES_PER_CERTIFICATE: z.coerce.number().int().min(1).max(100_000).default(20),
  RENDER_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(2),
  METRICS_PORT: port.optional(),
  TEMPORAL_METRICS_PORT: port.optional(),
  WORKER_SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(1).max(3600).default(90),
  PREVIEW_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(2),
  PREVIEW_PER_USER: z.coerce.number().int().min(1).max(16).default(2),
  TEMPLATE_WORKERS: z.coerce.number().int().min(1).max(8).default(1),
  TEMPLATE_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(20_000),
  CALLBACK_ALLOW_PRIVATE: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Holder sign-in (docs/holders.md): an OpenID Connect provider; all three or none.
  HOLDER_OIDC_ISSUER: z
    .url()
    .regex(/^https?:\/\//, 'must be an http:// or https:// URL')
    .optional(),
  HOLDER_OIDC_CLIENT_ID: z.string().min(1).max(200).optional(),
  HOLDER_OIDC_CLIENT_SECRET: z.string().min(8, 'must be at least 8 characters').optional(),
  HOLDER_CLAIM_PERSON_ID: claimName.default('certflow_resident_id'),
  HOLDER_CLAIM_PERSON_NAME: claimName.default('name'),
  HOLDER_CLAIM_ENTITY_CODE: claimName.default('certflow_credit_code'),
  HOLDER_CLAIM_ENTITY_NAME: claimName.default('certflow_entity_name'),
  HOLDER_SESSION_TTL_MINUTES: z.coerce
    .number()
    .int()
    .min(5)
    .max(24 * 60)
    .default(120),
  // The city's SMS/app gateway for holder notifications (docs/holders.md, "Notifications"): both or none.
  HOLDER_NOTIFY_URL: z
    .url()
    .regex(/^https?:\/\//, 'must be an http:// or https:// URL')
    .optional(),
  HOLDER_NOTIFY_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  HOLDER_REQUEST_DEADLINE_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 90)
    .default(120),
});

export type Env = z.infer<typeof envSchema>;

/** An IPv4/IPv6 address, optionally with a /prefix that fits it. */
function isAddressOrRange(s: string): boolean {
  const [addr = '', prefix, extra] = s.split('/');
  if (extra !== undefined) return false;
  const family = net.isIP(addr);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * What every process of a multi-process production deployment (docker-compose.yml: api, worker,
 * render-worker, migrate) must be given. Unset, each falls back to a per-process default
 * (SQLite and blobs under DATA_DIR, the in-process cache, a Temporal dev server, http://HOST:PORT)
 * that separate containers cannot share; test/integration/compose.test.ts holds the file to it.
 */
export const PRODUCTION_SERVICE_VARIABLES = [
  'NODE_ENV',
  'CERTFLOW_MASTER_KEY',
  'PUBLIC_URL',
  'DATABASE_URL',
  'REDIS_URL',
  'TEMPORAL_ADDRESS',
  'BLOB_STORE_URL',
] as const satisfies readonly (keyof Env)[];

export interface Config {
  env: Env['NODE_ENV'];
  http: {
    host: string;
    port: number;
    publicUrl: string;
    /**
     * Addresses (or CIDR ranges) of the reverse proxies in front of the API. X-Forwarded-For
     * is believed only when the connection comes from one of them; empty: never.
     */
    trustedProxies: string[];
  };
  dataDir: string;
  /**
   * Content-addressed blobs (platform/blobs.ts): files under DATA_DIR/blobs by default, or an
   * S3 bucket (BLOB_STORE_URL) that api and workers on several hosts share. S3 credentials come
   * from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN); none means unsigned requests.
   */
  blobs:
    | { kind: 'file'; dir: string }
    | (S3Location & {
        kind: 's3';
        region: string;
        credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
      });
  database: { client: 'sqlite'; filename: string } | { client: 'mysql'; url: string };
  redisUrl: string | undefined;
  /** Prepended to every Redis key, so several installations (or test runs) can share one Redis. */
  redisKeyPrefix: string;
  cacheMaxEntries: number;
  temporal: {
    /** Unset: `npm start` runs the CLI dev server itself. */
    address: string | undefined;
    namespace: string;
    taskQueue: string;
    devServer: { port: number; uiPort: number; cliPath: string; dbFilename: string };
  };
  auth: {
    sessionTtlHours: number;
    /** Failed sign-ins per username before it is locked for lockoutMinutes. */
    maxFailures: number;
    lockoutMinutes: number;
    /** Failed sign-ins (and bad credentials) per client address per lockout window. */
    maxFailuresPerAddress: number;
  };
  /**
   * Encrypts private keys at rest and keys the holder-ID hashes. Unset outside production:
   * a random one is made once under DATA_DIR/keys/master.key.
   */
  masterKey: string | undefined;
  /** Demo departments, staff and types are seeded on first start, never in production. */
  demo: { enabled: boolean; password: string };
  logLevel: Env['LOG_LEVEL'];
  /**
   * Where issued certificates are registered (POST of the catalog metadata). Unset: the
   * certificates table is the catalog and registration only marks the row registered.
   */
  catalog: { url: string | undefined; timeoutMs: number };
  /** RFC 3161 time-stamping: `tsaUrl` unset means certflow's own TSA, in process. */
  trust: { tsaUrl: string | undefined };
  /** The expiry sweep runs this often; reminders go out this many days before validity ends. */
  expiry: { sweepMinutes: number; reminderDays: number };
  /** Sharing between departments: an access request not decided in this many hours is overdue and escalated. */
  sharing: { requestDeadlineHours: number };
  /**
   * Signed checkpoints of the audit chain's head (db/audit-anchors.ts): appended to files under
   * anchorsDir (DATA_DIR/audit-anchors) every anchorEverySeconds when there are new entries.
   */
  audit: { anchorsDir: string; anchorEverySeconds: number };
  /** Public verification (POST /verify, GET /verify/:number): requests a minute per client IP. */
  verify: { rateLimitPerMinute: number };
  /**
   * Compare (POST /certificates/:number/compare): failed compares a caller may make against one
   * certificate a day, and all callers together (services/compare.ts, docs/security.md).
   */
  compare: { maxFailuresPerCaller: number; maxFailuresPerCertificate: number };
  /** Warm LibreOffice converters on the render queue: how many DOCX → PDF conversions at once. */
  renderConcurrency: number;
  /**
   * Calls to applications' callback URLs give up after this long (and are retried). allowPrivate:
   * loopback, private and link-local addresses may be called (tests, a closed network); otherwise
   * refused at submission and at delivery (docs/security.md).
   */
  callbacks: { timeoutMs: number; allowPrivate: boolean };
  /**
   * Template previews (POST /certificate-types/:code/preview): conversions at once for the whole
   * API process (more wait), and per user (more are refused with 429).
   */
  preview: { concurrency: number; perUser: number };
  /**
   * DOCX template parsing (inspection, ZIP and link checks, trial renders) runs in this many
   * worker threads; one that takes longer than timeoutMs is killed and replaced (docs/security.md).
   */
  templates: { workers: number; timeoutMs: number };
  /**
   * Prometheus scraping (docs/operations.md, "Metrics"). `port`: GET /metrics on HOST:port, a
   * listener apart from the API's (never on PORT, which the load balancer exposes); unset: off.
   * `temporalPort`: the Temporal SDK's own worker metrics on HOST:temporalPort; unset: off.
   */
  metrics: { port: number | undefined; temporalPort: number | undefined };
  /**
   * SIGTERM/SIGINT: a worker stops polling and lets in-flight activities finish for this long,
   * then cancels them and exits. Below docker-compose.yml's stop_grace_period (120 s).
   */
  shutdownGraceSeconds: number;
  /** The holder portal (docs/holders.md). */
  holder: {
    /** Unset: no holder sign-in, unless `certflow start` mounts its development provider. */
    oidc: HolderOidc | undefined;
    claims: HolderClaims;
    sessionTtlMinutes: number;
    /** Where holder notifications go, signed with `secret` (HMAC-SHA256); unset: the portal only. */
    notify: { url: string; secret: string } | undefined;
    /** A holder's request is overdue, and handed to the department admin too, after this long. */
    requestDeadlineHours: number;
  };
}

/** Where setup.sh records the Temporal CLI it installed; PATH is the fallback. */
export function defaultTemporalCli(root = PROJECT_ROOT): string {
  const installed = path.join(root, '.tools', 'bin', 'temporal');
  return fs.existsSync(installed) ? installed : 'temporal';
}

export function defaultTemporalTestServer(root = PROJECT_ROOT): string {
  const installed = path.join(root, '.tools', 'bin', 'temporal-test-server');
  return fs.existsSync(installed) ? installed : 'temporal-test-server';
}

function blobStoreConfig(e: Env, dataDir: string): Config['blobs'] {
  const s3 = e.BLOB_STORE_URL;
  if (!s3) return { kind: 'file', dir: path.join(dataDir, 'blobs') };
  const { AWS_ACCESS_KEY_ID: id, AWS_SECRET_ACCESS_KEY: secret, AWS_SESSION_TOKEN: token } = e;
  if (!id !== !secret) {
    const missing = id ? 'AWS_SECRET_ACCESS_KEY' : 'AWS_ACCESS_KEY_ID';
    const message = 'set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither';
    throw new ConfigError([{ variable: missing, message }]);
  }
  const session = token ? { sessionToken: token } : {};
  return {
    kind: 's3',
    ...s3,
    region: s3.region ?? e.AWS_REGION ?? 'us-east-1',
    credentials: id && secret ? { accessKeyId: id, secretAccessKey: secret, ...session } : undefined,
  };
}

export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings count as unset, so `FOO= npm start` behaves like no FOO at all.
  const raw = Object.fromEntries(
    Object.entries(source).filter(([k, v]) => k in envSchema.shape && v !== undefined && v !== ''),
  );
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => ({ variable: String(i.path[0] ?? '?'), message: i.message })));
  }
  const e = parsed.data;
  if (e.NODE_ENV === 'production' && !e.CERTFLOW_MASTER_KEY) {
    throw new ConfigError([
      { variable: 'CERTFLOW_MASTER_KEY', message: "required in production (it encrypts the seals' private keys)" },
    ]);
  }
  const ports = [
    ['PORT', e.PORT],
    ['METRICS_PORT', e.METRICS_PORT],
    ['TEMPORAL_METRICS_PORT', e.TEMPORAL_METRICS_PORT],
  ] as const;
  const clashes = ports.flatMap(([name, value], i) =>
    ports
      .slice(0, i)
      .filter(([, other]) => value !== undefined && other === value)
      .map(([other]) => ({
        variable: name,
        message: `${value} is already ${other}; each listener needs a port of its own`,
      })),
  );
  if (clashes.length) throw new ConfigError(clashes);
  const dataDir = path.resolve(e.DATA_DIR);
  const blobs = blobStoreConfig(e, dataDir);
  const database: Config['database'] = e.DATABASE_URL?.startsWith('mysql://')
    ? { client: 'mysql', url: e.DATABASE_URL }
    : {
        client: 'sqlite',
        filename: e.DATABASE_URL
          ? path.resolve(e.DATABASE_URL.slice('sqlite:'.length))
          : path.join(dataDir, 'certflow.sqlite'),
      };
  const shownHost = e.HOST === '0.0.0.0' || e.HOST === '::' ? 'localhost' : e.HOST;
  return {
    env: e.NODE_ENV,
    http: {
      host: e.HOST,
      port: e.PORT,
      publicUrl: (e.PUBLIC_URL ?? `http://${shownHost}:${e.PORT}`).replace(/\/$/, ''),
      trustedProxies: e.TRUSTED_PROXIES,
    },
    dataDir,
    blobs,
    database,
    redisUrl: e.REDIS_URL,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    cacheMaxEntries: e.CACHE_MAX_ENTRIES,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      devServer: {
        port: e.TEMPORAL_DEV_PORT,
        uiPort: e.TEMPORAL_UI_PORT,
        cliPath: e.TEMPORAL_CLI ?? defaultTemporalCli(),
        dbFilename: path.join(dataDir, 'temporal', 'temporal.db'),
      },
    },
    auth: {
      sessionTtlHours: e.SESSION_TTL_HOURS,
      maxFailures: e.LOGIN_MAX_FAILURES,
      lockoutMinutes: e.LOGIN_LOCKOUT_MINUTES,
      maxFailuresPerAddress: e.LOGIN_MAX_FAILURES_PER_ADDRESS ?? e.LOGIN_MAX_FAILURES * 10,
    },
    masterKey: e.CERTFLOW_MASTER_KEY,
    demo: { enabled: e.NODE_ENV !== 'production', password: e.CERTFLOW_DEMO_PASSWORD },
    logLevel: e.LOG_LEVEL,
    catalog: { url: e.CATALOG_URL, timeoutMs: e.CATALOG_TIMEOUT_MS },
    trust: { tsaUrl: e.TSA_URL },
    callbacks: { timeoutMs: e.CALLBACK_TIMEOUT_MS, allowPrivate: e.CALLBACK_ALLOW_PRIVATE },
    preview: { concurrency: e.PREVIEW_CONCURRENCY, perUser: e.PREVIEW_PER_USER },
    templates: { workers: e.TEMPLATE_WORKERS, timeoutMs: e.TEMPLATE_TIMEOUT_MS },
    renderConcurrency: e.RENDER_CONCURRENCY,
    verify: { rateLimitPerMinute: e.VERIFY_RATE_LIMIT_PER_MINUTE },
    compare: {
      maxFailuresPerCaller: e.COMPARE_MAX_FAILURES_PER_CALLER,
      maxFailuresPerCertificate: e.COMPARE_MAX_FAILURES_PER_CERTIFICATE,
    },
    expiry: { sweepMinutes: e.EXPIRY_SWEEP_MINUTES, reminderDays: e.EXPIRY_REMINDER_DAYS },
    sharing: { requestDeadlineHours: e.ACCESS_REQUEST_DEADLINE_HOURS },
    metrics: { port: e.METRICS_PORT, temporalPort: e.TEMPORAL_METRICS_PORT },
    shutdownGraceSeconds: e.WORKER_SHUTDOWN_GRACE_SECONDS,
    audit: { anchorsDir: path.join(dataDir, 'audit-anchors'), anchorEverySeconds: e.AUDIT_ANCHOR_SECONDS },
    holder: {
      oidc: holderOidc(e),
      claims: {
        personId: e.HOLDER_CLAIM_PERSON_ID,
        personName: e.HOLDER_CLAIM_PERSON_NAME,
        entityCode: e.HOLDER_CLAIM_ENTITY_CODE,
        entityName: e.HOLDER_CLAIM_ENTITY_NAME,
      },
      sessionTtlMinutes: e.HOLDER_SESSION_TTL_MINUTES,
      notify: holderNotify(e),
      requestDeadlineHours: e.HOLDER_REQUEST_DEADLINE_HOURS,
    },
  };
}
