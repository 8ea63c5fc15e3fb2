/**
 * Catalog bench: a catalog of at least a million certificates on MariaDB, then the latency
 * (p50/p95/p99) and throughput of the catalog queries, the statistics, single-certificate
 * reads through Redis vs the database, and — when api/routes/verify.ts exists — verification
 * by number over HTTP. Not part of npm test.
 *
 *   npx tsx bench/catalog.ts [rows=1000000]
 *
 * The rows go into their own database (CATALOG_BENCH_DB, default certflow_bench, on
 * CATALOG_BENCH_MYSQL, default mysql://root@127.0.0.1:3306) in batched multi-row INSERTs —
 * not through the workflow — and stay there: a rerun that finds at least that many rows
 * skips generation. Redis: REDIS_URL, default redis://127.0.0.1:6379 (keys under
 * certflow-bench:). The holder-ID hashing key derives from a fixed bench master key, so a
 * rerun can look up the holders an earlier run wrote. Drop the database to start over.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import knexFactory, { type Knex } from 'knex';
import pino from 'pino';
import type { Client } from '@temporalio/client';
import { knexConfig, migrate } from '../db/knex';
import { loadConfig } from '../platform/config';
import { createRedisCache, type Cache } from '../platform/cache';
import { createFileBlobStore } from '../platform/blobs';
import { createHolderCrypto } from '../platform/holder-crypto';
import { hashPassword } from '../platform/secrets';
import { createDepartment, createUser, addRole, getDepartment, listDepartments } from '../db/org';
import { ensureDevelopmentTrust, loadSealForSigning } from '../services/trust/seals';
import { signRecord } from '../services/trust/sign-record';
import { getSeal } from '../db/trust';
import { catalogQueries, catalogStats, searchCatalog, statsQuery, type CatalogQuery } from '../db/catalog';
import { getCertificate } from '../db/certificates';
import { getCertificateCached, invalidateCertificate } from '../db/certificate-cache';
import { benchDepartments, benchTypes, catalogGenerator, type Universe } from './catalog-data';
import type { Server } from 'node:http';

const TOTAL = Number(process.argv[2] ?? 1_000_000);
const SERVER = process.env.CATALOG_BENCH_MYSQL ?? 'mysql://root@127.0.0.1:3306';
const DATABASE = process.env.CATALOG_BENCH_DB ?? 'certflow_bench';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const BATCH = 1000;
const masterKey = createHash('sha256').update('certflow catalog bench master key (not a secret)').digest();
const logger = pino({ level: 'warn' });
const log = (...a: unknown[]) => console.log(`[${new Date().toISOString().slice(11, 19)}]`, ...a);

const departments = benchDepartments(20);
const types = benchTypes(departments);
const holders = createHolderCrypto(masterKey);

async function openBench(): Promise<Knex> {
  const admin = knexFactory({
    client: 'mysql2',
    connection: { uri: `${SERVER}/mysql` } as never,
    pool: { min: 0, max: 1 },
  });
  await admin.raw(`CREATE DATABASE IF NOT EXISTS \`${DATABASE}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.destroy();
  return knexFactory(knexConfig({ client: 'mysql', url: `${SERVER}/${DATABASE}` }));
}

/** Departments, their development seals, the type register and a handler for the HTTP search. */
async function seed(db: Knex): Promise<Record<string, number>> {
  const blobs = createFileBlobStore(path.join(os.tmpdir(), 'certflow-bench-blobs'));
  for (const d of departments) if (!(await getDepartment(db, d.code))) await createDepartment(db, d);
  await ensureDevelopmentTrust({ db, blobs, masterKey, logger });
  const ids = new Map((await listDepartments(db)).map((d) => [d.code, d.id]));
  const now = new Date();
  for (const t of types) {
    if (!(await db('certificate_types').where({ code: t.code }).first('id'))) {
      await db('certificate_types').insert({
        code: t.code,
        department_id: ids.get(t.department),
        name: t.name,
        status: 'published',
        latest_version: 1,
        published_version: 1,
        created_at: now,
        updated_at: now,
      });
    }
  }
  if (!(await db('users').where({ username: 'bench-handler' }).first('id'))) {
    const uid = await createUser(db, {
      username: 'bench-handler',
      displayName: 'bench',
      passwordHash: await hashPassword('certflow-bench'),
    });
    await addRole(db, uid, 'handler', (await getDepartment(db, departments[0]!.code))!);
  }
  const seals: Record<string, number> = {};
  for (const r of await db('seals')
    .join('departments', 'departments.id', 'seals.department_id')
    .select('departments.code', 'seals.id'))
    seals[r.code] = r.id;
  return seals;
}

/**
 * Batched multi-row INSERTs on two connections while the next batch is generated. Foreign
 * key and unique checks are off for these sessions only: the rows reference no application
 * rows (the catalog queries never read applications), and the generator makes numbers unique.
 */
async function generate(db: Knex, sealIds: Record<string, number>) {
  const loader = knexFactory({
    ...knexConfig({ client: 'mysql', url: `${SERVER}/${DATABASE}` }),
    pool: {
      min: 0,
      max: 2,
      afterCreate(
        conn: { query(sql: string, cb: (err: Error | null) => void): void },
        done: (err: Error | null, conn: unknown) => void,
      ) {
        conn.query('SET foreign_key_checks = 0, unique_checks = 0', (err) => done(err, conn));
      },
    },
  });
  await db.raw('TRUNCATE TABLE certificates');
  const universe: Universe = {
    departments,
    types,
    persons: 180_000,
    entities: 120_000,
    sealIds,
    from: new Date('2016-01-01T00:00:00+08:00'),
    to: new Date('2026-06-30T00:00:00+08:00'),
    now: new Date('2026-07-01T00:00:00+08:00'),
  };
  const gen = catalogGenerator(universe, TOTAL, holders);
  const t0 = performance.now();
  const inFlight = new Set<Promise<void>>();
  for (let start = 0; start < TOTAL; start += BATCH) {
    const rows = gen.batch(start, BATCH);
    const p: Promise<void> = loader('certificates')
      .insert(rows)
      .then(() => void inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= 2) await Promise.race(inFlight);
    if ((start + BATCH) % 50_000 === 0) {
      const s = (performance.now() - t0) / 1000;
      log(`  ${(start + BATCH).toLocaleString()} rows, ${Math.round((start + BATCH) / s).toLocaleString()} rows/s`);
    }
  }
  await Promise.all(inFlight);
  await loader.destroy();
  return (performance.now() - t0) / 1000;
}

// ------------------------------------------------------------------ measuring

interface Result {
  name: string;
  index: string;
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  qps: number;
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

/** Sequential latency over n calls (after a warm-up), then throughput with `clients` concurrent callers. */
async function measure(
  name: string,
  index: string,
  n: number,
  op: (i: number) => Promise<unknown>,
  clients = 8,
): Promise<Result> {
  for (let i = 0; i < Math.min(20, n); i++) await op(n + i);
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await op(i);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < n) await op(next++);
    }),
  );
  const r = {
    name,
    index,
    n,
    p50: pct(times, 50),
    p95: pct(times, 95),
    p99: pct(times, 99),
    max: times[times.length - 1]!,
    qps: n / ((performance.now() - t0) / 1000),
  };
  log(`  ${name}: p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms`);
  return r;
}

async function explainKey(db: Knex, q: Knex.QueryBuilder | undefined): Promise<string> {
  if (!q) return '—';
  const { sql, bindings } = q.toSQL().toNative();
  const [rows] = (await db.raw(`EXPLAIN ${sql}`, bindings as readonly Knex.RawBinding[])) as [
    { key: string | null; type: string; Extra: string | null }[],
  ];
  const p = rows[0]!;
  return `${(p.key ?? 'none').replace(/^certificates_/, '')} (${p.type}${/filesort/.test(p.Extra ?? '') ? ', filesort' : ''})`;
}

async function main() {
  const db = await openBench();
  const m0 = performance.now();
  const applied = await migrate(db);
  if (applied.length)
    log(`migrated ${DATABASE}: ${applied.join(', ')} in ${((performance.now() - m0) / 1000).toFixed(1)} s`);
  const sealIds = await seed(db);
  const count = async () => Number(((await db('certificates').count({ n: '*' })) as [{ n: number }])[0].n);
  let rows = await count();
  if (rows >= TOTAL) {
    log(`reusing ${rows.toLocaleString()} certificates in ${DATABASE}`);
  } else {
    log(`generating ${TOTAL.toLocaleString()} certificates into ${DATABASE} (found ${rows.toLocaleString()}) …`);
    const seconds = await generate(db, sealIds);
    rows = await count();
    log(
      `generated ${rows.toLocaleString()} rows in ${seconds.toFixed(1)} s (${Math.round(rows / seconds).toLocaleString()} rows/s)`,
    );
    await db.raw('ANALYZE TABLE certificates');
  }
  const [[size]] = (await db.raw(
    'SELECT ROUND(data_length / 1048576) AS data_mb, ROUND(index_length / 1048576) AS index_mb FROM information_schema.tables WHERE table_schema = ? AND table_name = ?',
    [DATABASE, 'certificates'],
  )) as [[{ data_mb: number; index_mb: number }]];
  const holderCount = Number(
    ((await db('certificates').countDistinct({ n: 'holder_id_hash' })) as [{ n: number }])[0].n,
  );
  log(
    `catalog: ${rows.toLocaleString()} certificates, ${holderCount.toLocaleString()} holders, ${types.length} types, ${departments.length} departments; table ${size.data_mb} MB + indexes ${size.index_mb} MB`,
  );

  // Samples drawn from real rows: existing holders and numbers, spread over the whole table.
  const maxId = Number((await db('certificates').max({ m: 'id' }))[0]!.m);
  const sampleIds = Array.from({ length: 600 }, () => 1 + Math.floor(Math.random() * maxId));
  const samples = await db('certificates')
    .whereIn('id', sampleIds)
    .select('holder_id_hash', 'type_code', 'department', 'number', 'region_code');
  const pick = <T>(a: T[], i: number) => a[i % a.length]!;
  const year = (i: number) => 2016 + (i % 10);
  const yearRange = (i: number) => ({
    issuedFrom: new Date(`${year(i)}-01-01T00:00:00+08:00`),
    issuedBefore: new Date(`${year(i) + 1}-01-01T00:00:00+08:00`),
  });
  const statuses = ['valid', 'expired', 'revoked', 'suspended'] as const;

  const q: Record<string, (i: number) => CatalogQuery> = {
    holder: (i) => ({ holderIdHash: pick(samples, i).holder_id_hash, departments: null, limit: 50 }),
    holderType: (i) => ({
      holderIdHash: pick(samples, i).holder_id_hash,
      typeCode: pick(samples, i).type_code,
      departments: null,
      limit: 50,
    }),
    typePage: (i) => ({
      typeCode: pick(types, i).code,
      departments: [pick(types, i).department],
      ...yearRange(i),
      limit: 50,
    }),
    statusPage: (i) => ({ departments: [pick(departments, i).code], status: pick([...statuses], i), limit: 50 }),
    regionPage: (i) => ({
      departments: [pick(samples, i).department],
      region: pick(samples, i).region_code,
      limit: 50,
    }),
  };
  const cursors = await Promise.all(
    types.map(
      async (t, i) =>
        (await searchCatalog(db, { typeCode: t.code, departments: [t.department], limit: 50, ...yearRange(i) })).next,
    ),
  );
  const secondPage = (i: number): CatalogQuery => ({
    ...q.typePage!(i),
    after: cursors[i % types.length] ?? undefined,
  });
  const plan = async (c: CatalogQuery) => explainKey(db, (await catalogQueries(db, c))[0]);

  const cache: Cache = await createRedisCache({ url: REDIS_URL, prefix: 'certflow-bench:', logger });
  const results: Result[] = [];
  log('measuring …');
  results.push(
    await measure('holder lookup (holder of a random row)', await plan(q.holder!(0)), 1000, (i) =>
      searchCatalog(db, q.holder!(i)),
    ),
  );
  // The worst case: the holders with the most certificates (the generator's skew gives the busiest a thousand or more).
  const busiest = (await db('certificates')
    .select('holder_id_hash')
    .count({ n: '*' })
    .groupBy('holder_id_hash')
    .orderBy('n', 'desc')
    .limit(20)) as { holder_id_hash: string; n: number }[];
  log(
    `  busiest holders: ${busiest
      .slice(0, 5)
      .map((b) => b.n)
      .join(', ')} … certificates`,
  );
  results.push(
    await measure(
      `holder lookup, 20 busiest holders (${busiest[busiest.length - 1]!.n}–${busiest[0]!.n} certs), page 1`,
      await plan({ holderIdHash: busiest[0]!.holder_id_hash, departments: null, limit: 50 }),
      200,
      (i) => searchCatalog(db, { holderIdHash: pick(busiest, i).holder_id_hash, departments: null, limit: 50 }),
    ),
  );
  results.push(
    await measure('holder lookup + type', await plan(q.holderType!(0)), 1000, (i) =>
      searchCatalog(db, q.holderType!(i)),
    ),
  );
  results.push(
    await measure('type + department + year, page 1 (50)', await plan(q.typePage!(0)), 1000, (i) =>
      searchCatalog(db, q.typePage!(i)),
    ),
  );
  results.push(
    await measure('same, page 2 (cursor)', await plan(secondPage(0)), 1000, (i) => searchCatalog(db, secondPage(i))),
  );
  results.push(
    await measure('department + status, page 1', await plan(q.statusPage!(0)), 1000, (i) =>
      searchCatalog(db, q.statusPage!(i)),
    ),
  );
  results.push(
    await measure('department + region, page 1', await plan(q.regionPage!(0)), 1000, (i) =>
      searchCatalog(db, q.regionPage!(i)),
    ),
  );
  results.push(
    await measure(
      'stats: 1 department, 1 year',
      await explainKey(db, statsQuery(db, { departments: [departments[0]!.code], ...yearRange(8) })),
      100,
      (i) => catalogStats(db, { departments: [pick(departments, i).code], ...yearRange(i) }),
      4,
    ),
  );
  results.push(
    await measure(
      'stats: 1 department, all years',
      await explainKey(db, statsQuery(db, { departments: [departments[0]!.code] })),
      50,
      (i) => catalogStats(db, { departments: [pick(departments, i).code] }),
      4,
    ),
  );
  results.push(
    await measure(
      'stats: platform-wide, all years',
      await explainKey(db, statsQuery(db, { departments: null })),
      10,
      () => catalogStats(db, { departments: null }),
      2,
    ),
  );
  results.push(
    await measure('certificate by number: database', 'number (const)', 1000, (i) =>
      getCertificate(db, pick(samples, i).number),
    ),
  );
  for (const s of samples) await getCertificateCached(db, cache, s.number);
  results.push(
    await measure('certificate by number: Redis hit', 'cache', 1000, (i) =>
      getCertificateCached(db, cache, pick(samples, i).number),
    ),
  );
  results.push(
    ...(await httpBench(
      db,
      cache,
      samples.map((s) => s.number),
    )),
  );
  await cache.close();
  await db.destroy();

  const ms = (v: number) => (v < 10 ? v.toFixed(2) : v.toFixed(1)).padStart(7);
  console.log(
    `\nCatalog bench: ${rows.toLocaleString()} certificates, ${holderCount.toLocaleString()} holders, MariaDB ${DATABASE}, ${os.cpus().length} cores; latency sequential, q/s with concurrent clients\n`,
  );
  console.log(`| query | index (EXPLAIN) | n | p50 ms | p95 ms | p99 ms | max ms | q/s |`);
  console.log(`|---|---|---:|---:|---:|---:|---:|---:|`);
  for (const r of results)
    console.log(
      `| ${r.name} | ${r.index} | ${r.n} | ${ms(r.p50)} | ${ms(r.p95)} | ${ms(r.p99)} | ${ms(r.max)} | ${Math.round(r.qps)} |`,
    );
}

/** The API in-process on the bench database (as test/support/app.ts does): search and, if it exists yet, verify. */
async function httpBench(db: Knex, cache: Cache, numbers: string[]): Promise<Result[]> {
  const { createApp } = await import('../api/app');
  const config = loadConfig({
    NODE_ENV: 'test',
    VERIFY_RATE_LIMIT_PER_MINUTE: '1000000',
    DATA_DIR: path.join(os.tmpdir(), 'certflow-bench-data'),
    DATABASE_URL: `${SERVER}/${DATABASE}`,
    LOG_LEVEL: 'warn',
  });
  const blobs = createFileBlobStore(path.join(os.tmpdir(), 'certflow-bench-blobs'));
  const app = createApp({
    config,
    db,
    cache,
    temporal: {} as Client,
    logger,
    blobs,
    masterKey,
    converter: {} as never,
  });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
  const out: Result[] = [];
  try {
    const login = await fetch(`${base}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'bench-handler', password: 'certflow-bench' }),
    });
    const { token } = (await login.json()) as { token: string };
    // Holder IDs in clear for the HTTP search: decrypt a few rows' IDs (the API hashes them again).
    const ids = (await db('certificates').whereIn('number', numbers.slice(0, 200)).select('holder_id_encrypted')).map(
      (r) => holders.decrypt(r.holder_id_encrypted),
    );
    out.push(
      await measure('HTTP GET /certificates?holderId= (all departments)', 'holder_issued (ref)', 500, async (i) => {
        const r = await fetch(
          `${base}/certificates?holderId=${ids[i % ids.length]}&reason=${encodeURIComponent('窗口核验')}`,
          { headers: { authorization: `Bearer ${token}` } },
        );
        if (r.status !== 200) throw new Error(`search ${r.status}: ${await r.text()}`);
        await r.arrayBuffer();
      }),
    );
    const signed = await signForVerification(db, cache, numbers.slice(0, 200));
    const probe = signed[0] ? await fetch(`${base}/verify/${signed[0]}`) : undefined;
    if (!fs.existsSync(path.join(__dirname, '../api/routes/verify.ts')) || !probe || probe.status === 404) {
      log('  GET /api/v1/verify/:number is not there yet: verify-by-number not measured');
    } else {
      const verdicts = new Map<string, number>();
      for (const n of signed) {
        const report = (await (await fetch(`${base}/verify/${n}`)).json()) as {
          verdict: string;
          checks: { id: string; status: string }[];
        };
        const failed = report.checks.filter((c) => c.status !== 'passed').map((c) => c.id);
        const key = failed.length ? `${report.verdict} (${failed.join(', ')})` : report.verdict;
        verdicts.set(key, (verdicts.get(key) ?? 0) + 1);
      }
      log(`  verify verdicts over the signed sample (caches warm): ${JSON.stringify(Object.fromEntries(verdicts))}`);
      out.push(
        await measure('HTTP GET /verify/:number (caches warm)', 'number (const)', 500, async (i) => {
          const r = await fetch(`${base}/verify/${signed[i % signed.length]}`);
          if (r.status >= 500 || r.status === 429) throw new Error(`verify ${r.status}: ${await r.text()}`);
          await r.arrayBuffer();
        }),
      );
    }
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
  return out;
}

/**
 * Generated rows carry a signature-shaped blob, not a signature. For the verify figure, sign
 * a sample's records with their department's real (development) seal key, so verification
 * does the real CMS and chain checks; signing time now, inside the seal certificate's validity.
 */
async function signForVerification(db: Knex, cache: Cache, numbers: string[]): Promise<string[]> {
  const blobs = createFileBlobStore(path.join(os.tmpdir(), 'certflow-bench-blobs'));
  const credentials = new Map<number, Awaited<ReturnType<typeof loadSealForSigning>>>();
  for (const row of await db('certificates').whereIn('number', numbers).select('number', 'record', 'seal_id')) {
    let c = credentials.get(row.seal_id);
    if (!c)
      credentials.set(
        row.seal_id,
        (c = await loadSealForSigning({ db, blobs, masterKey }, (await getSeal(db, row.seal_id))!)),
      );
    const record = Buffer.from(row.record as string, 'utf8');
    await db('certificates')
      .where({ number: row.number })
      .update({
        record_signature: signRecord(record, c.credential),
        record_sha256: createHash('sha256').update(record).digest('hex'),
        signer_serial: c.seal.serial,
      });
    await cache.del(`certificate-record:${row.number}`);
    await invalidateCertificate(cache, row.number);
  }
  return numbers;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
