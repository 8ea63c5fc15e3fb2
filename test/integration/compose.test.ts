import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parse } from 'yaml';
import { loadConfig, PRODUCTION_SERVICE_VARIABLES } from '../../platform/config';
import { SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';
import { requireService } from '../support/services';

/**
 * docker-compose.yml as `docker-compose config` (Debian's docker-compose; there is no Docker
 * daemon here) reads it: valid, every certflow service configured the way platform/config.ts
 * needs in production, and no secret with a default.
 */
const ROOT = path.resolve(__dirname, '..', '..');

/** Every variable the file requires, with a value of the kind it wants. */
const SECRETS: Record<string, string> = {
  PUBLIC_URL: 'https://certs.example.gov.cn',
  CERTFLOW_MASTER_KEY: 'k'.repeat(48),
  MYSQL_ROOT_PASSWORD: 'root-pw',
  CERTFLOW_DB_PASSWORD: 'certflow-pw',
  TEMPORAL_DB_PASSWORD: 'temporal-pw',
  REDIS_PASSWORD: 'redis-pw',
  S3_ACCESS_KEY: 'certflow',
  S3_SECRET_KEY: 's3-secret',
};
const APP_SERVICES = ['api', 'worker', 'render-worker', 'migrate'];

interface Service {
  image?: string;
  command?: string[];
  environment?: Record<string, string | number | null>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  stop_grace_period?: string;
  ports?: unknown[];
}

describe('docker-compose.yml (production topology)', function () {
  this.timeout(60_000);
  let envFile: string;

  const compose = (args: string[], env: Record<string, string | undefined> = SECRETS) => {
    // Only the variables given here: neither the caller's environment nor a stray .env may fill a gap.
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !(k in SECRETS)));
    return spawnSync('docker-compose', ['--env-file', envFile, '-f', path.join(ROOT, 'docker-compose.yml'), ...args], {
      cwd: ROOT,
      env: { ...clean, ...env } as NodeJS.ProcessEnv,
      encoding: 'utf8',
    });
  };
  let normalised: Record<string, Service> | undefined;
  /** The file as docker-compose resolves it: variables filled in, anchors merged. */
  const services = () => {
    if (normalised) return normalised;
    const r = compose(['config']);
    assert.equal(r.status, 0, r.stderr);
    normalised = (parse(r.stdout) as { services: Record<string, Service> }).services;
    return normalised;
  };

  before(function () {
    const probe = spawnSync('docker-compose', ['version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      const what = 'docker-compose (Debian package docker-compose, installed by scripts/setup.sh)';
      requireService(this, what, probe.error ?? probe.stderr);
    }
    envFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'certflow-compose-')), 'empty.env');
    fs.writeFileSync(envFile, '');
  });
  after(() => envFile && fs.rmSync(path.dirname(envFile), { recursive: true, force: true }));

  it('is valid with the required variables set', () => {
    const r = compose(['config', '-q']);
    assert.equal(r.status, 0, r.stderr);
  });

  it('refuses to start without each secret, naming it (no defaults)', () => {
    for (const name of Object.keys(SECRETS)) {
      const r = compose(['config', '-q'], { ...SECRETS, [name]: undefined });
      assert.notEqual(r.status, 0, `${name} unset was accepted`);
      assert.match(r.stderr, new RegExp(`set ${name}`), `${name}: ${r.stderr}`);
    }
  });

  it('gives secrets no default anywhere in the file', () => {
    // The file as written (anchors merged), before any variable is filled in.
    const file = fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
    const raw = (parse(file, { merge: true }) as { services: Record<string, Service> }).services;
    const secret = /PASSWORD|SECRET|MASTER_KEY|ACCESS_KEY|_PWD$|REDISCLI_AUTH|^(DATABASE|REDIS)_URL$/;
    let checked = 0;
    for (const [name, service] of Object.entries(raw)) {
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        if (!secret.test(key)) continue;
        checked++;
        assert.match(String(value), /\$\{[A-Z0-9_]+:\?/, `${name}.${key} must come from a required variable: ${value}`);
      }
    }
    assert.ok(checked >= 20, `only ${checked} secret settings found`);
    assert.doesNotMatch(file, /\$\{[A-Z_]*(PASSWORD|SECRET|MASTER_KEY|ACCESS_KEY)[A-Z_]*:?-/);
  });

  it('gives every certflow service what its configuration needs in production, and certflow accepts it', () => {
    const all = services();
    for (const name of APP_SERVICES) {
      const env = all[name]?.environment;
      assert.ok(env, `service ${name} is missing or has no environment`);
      for (const variable of PRODUCTION_SERVICE_VARIABLES) {
        assert.ok(env[variable] !== undefined && env[variable] !== '', `${name} lacks ${variable}`);
      }
      const config = loadConfig(Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v ?? '')])));
      assert.equal(config.env, 'production');
      assert.equal(config.database.client, 'mysql');
      assert.equal(config.temporal.address, 'temporal:7233');
      assert.ok(config.redisUrl);
      assert.equal(config.blobs.kind, 's3');
      assert.equal(config.blobs.kind === 's3' && config.blobs.endpoint, 'http://seaweedfs:8333');
      assert.ok(config.blobs.kind === 's3' && config.blobs.credentials, `${name}: S3 requests are signed`);
      assert.equal(config.http.publicUrl, SECRETS.PUBLIC_URL);
    }
  });

  it('runs each certflow command once its prerequisites are done or healthy; drains workers before killing', () => {
    const all = services();
    assert.deepEqual(all.api?.command, ['api']);
    assert.deepEqual(all.worker?.command, ['worker', '--no-render']);
    assert.deepEqual(all['render-worker']?.command, ['render-worker']);
    assert.deepEqual(all.migrate?.command, ['migrate']);
    assert.equal(all.migrate?.depends_on?.mysql?.condition, 'service_healthy');
    for (const name of ['api', 'worker', 'render-worker']) {
      const deps = all[name]!.depends_on!;
      assert.equal(deps.migrate?.condition, 'service_completed_successfully', name);
      assert.equal(deps['temporal-init']?.condition, 'service_completed_successfully', name);
      assert.equal(deps['seaweedfs-bucket']?.condition, 'service_completed_successfully', name);
      assert.equal(deps.redis?.condition, 'service_healthy', name);
    }
    for (const name of ['worker', 'render-worker']) {
      // A conversion is cut off at 60 s (main/cli.ts); docker's default 10 s would kill it mid-activity.
      const seconds = Number(/^(\d+)s$/.exec(all[name]!.stop_grace_period ?? '')?.[1] ?? 0);
      assert.ok(seconds > 60, `${name}: stop_grace_period ${all[name]!.stop_grace_period}`);
      // The worker's own drain (and the SDK's forced stop 10 s after it) ends before docker's SIGKILL.
      const env = Object.fromEntries(
        Object.entries(all[name]!.environment ?? {}).map(([k, v]) => [k, v === null ? undefined : String(v)]),
      );
      const drain = loadConfig({ ...env, NODE_ENV: 'production' }).shutdownGraceSeconds;
      assert.ok(
        drain + 10 < seconds,
        `${name}: WORKER_SHUTDOWN_GRACE_SECONDS ${drain} + 10 ≥ stop_grace_period ${seconds}`,
      );
    }
    for (const name of ['mysql', 'redis', 'seaweedfs', 'api']) {
      assert.ok(all[name]?.healthcheck, `${name} has a health check`);
    }
    assert.equal(all.temporal?.depends_on?.['temporal-admin-tools']?.condition, 'service_completed_successfully');
    assert.equal(all['temporal-admin-tools']?.depends_on?.mysql?.condition, 'service_healthy');
    const version = (image: string | undefined) => image?.split(':')[1];
    const [tools, server] = [all['temporal-admin-tools']?.image, all.temporal?.image];
    assert.equal(version(tools), version(server), 'admin-tools and server versions match');
  });

  it('creates the namespace and every search attribute of workflows/search-attributes.ts', () => {
    const script = services()['temporal-init']!.command!.join('\n');
    assert.match(script, /namespace create/);
    for (const key of SEARCH_ATTRIBUTES) {
      assert.ok(script.includes(key.name), `temporal-init does not create ${key.name}`);
      assert.equal(key.type, 'KEYWORD', `${key.name}: temporal-init creates Keyword attributes only`);
    }
  });
});
