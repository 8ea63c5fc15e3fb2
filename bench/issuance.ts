/**
 * Issuance throughput through the sealing activities (not the workflow): number → render →
 * convert (warm soffice pool) → sign → store → register, per certificate, and the table of
 * p50/p95 per stage. `npx tsx bench/issuance.ts [N] [concurrency]` (default 20 certificates,
 * one at a time). Runs on a fresh SQLite file; DATABASE_URL=mysql://… uses that database
 * (it must be empty). The pool's start is outside the clock and printed on its own.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import pino from 'pino';
import { loadConfig } from '../platform/config';
import { createMemoryCache } from '../platform/cache';
import { createFileBlobStore } from '../platform/blobs';
import { createHolderCrypto } from '../platform/holder-crypto';
import { holderIdOf } from '../domain/holder';
import { migrate, openDb, type Db } from '../db/knex';
import { seedDemo, seedDemoTypes } from '../db/seed-demo';
import { ensureDevelopmentTrust } from '../services/trust/seals';
import { WarmConverter } from '../services/documents/convert';
import { renderQueueActivities, sealingActivities } from '../activities/sealing';

const N = Number(process.argv[2] ?? 20);
const CONCURRENCY = Number(process.argv[3] ?? 1);
const STAGES = ['number', 'render', 'convert', 'sign', 'store', 'register'] as const;
type Stage = (typeof STAGES)[number];

const FACE: Record<string, Record<string, unknown>> = {
  BL: {
    entityName: '杭州西湖数字科技有限公司',
    creditCode: '91350100M000100Y43',
    entityType: '有限责任公司',
    legalRepresentative: '王建国',
    businessScope: '计算机软硬件的技术开发、技术咨询、技术服务。',
    registeredCapital: '人民币伍佰万元整',
    establishedOn: '2019-06-18',
    address: '杭州市西湖区文三路90号',
  },
  FBP: {
    operatorName: '杭州味之源餐饮店',
    creditCode: '91350100M000100Y43',
    legalRepresentative: '李秀英',
    address: '杭州市上城区南山路3号',
    premises: '杭州市上城区南山路3号101铺',
    businessFormat: '餐饮服务经营者',
    businessItems: ['热食类食品制售', '冷食类食品制售'],
  },
};

async function application(db: Db, masterKey: Buffer, typeCode: string): Promise<string> {
  const id = randomUUID();
  const crypto = createHolderCrypto(masterKey);
  const holderId = holderIdOf('entity', '91350100M000100Y43');
  const now = new Date();
  await db('applications').insert({
    id,
    type_code: typeCode,
    type_version: 1,
    department: 'market',
    mode: 'auto-seal',
    status: 'sealing',
    holder_kind: 'entity',
    holder_name: '杭州西湖数字科技有限公司',
    holder_id_hash: crypto.lookupHash(holderId),
    holder_id_encrypted: crypto.encrypt(holderId),
    revision: 1,
    submitter_type: 'user',
    submitter_id: 'bench',
    workflow_id: `issuance-${id}`,
    created_at: now,
    updated_at: now,
  });
  await db('application_revisions').insert({
    application_id: id,
    revision: 1,
    face_data: JSON.stringify(FACE[typeCode]),
    created_by: 'bench',
    created_at: now,
  });
  return id;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'certflow-bench-'));
  const config = loadConfig({ ...process.env, NODE_ENV: 'test', DATA_DIR: dir, CATALOG_URL: '' });
  const db = openDb(config.database);
  const converter = new WarmConverter({});
  try {
    await migrate(db);
    const masterKey = randomBytes(32);
    const deps = {
      config,
      db,
      masterKey,
      converter,
      cache: createMemoryCache(10_000),
      logger: pino({ level: 'silent' }),
      blobs: createFileBlobStore(path.join(dir, 'blobs')),
    };
    await seedDemo(db, 'bench-password');
    await ensureDevelopmentTrust(deps);
    await seedDemoTypes(db, deps.blobs);
    const apps = await Promise.all(
      Array.from({ length: N }, (_, i) => application(db, masterKey, i % 2 ? 'FBP' : 'BL')),
    );

    const t0 = performance.now();
    await converter.start();
    const startMs = performance.now() - t0;
    const acts = sealingActivities(deps);
    const render = renderQueueActivities(deps);
    const times: Record<Stage | 'total', number[]> = {
      number: [],
      render: [],
      convert: [],
      sign: [],
      store: [],
      register: [],
      total: [],
    };
    const timed = async <T>(stage: Stage, f: () => Promise<T>) => {
      const t = performance.now();
      const r = await f();
      times[stage].push(performance.now() - t);
      return r;
    };

    const wall = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < apps.length) {
          const id = apps[next++]!;
          const t = performance.now();
          const number = await timed('number', () => acts.allocateCertificateNumber(id));
          const docxSha = await timed('render', () => acts.renderCertificate(id));
          const pdfSha = await timed('convert', () => render.convertCertificate(docxSha));
          const signed = await timed('sign', () => acts.signCertificate(id, pdfSha));
          await timed('store', () => acts.storeCertificate(id, { docxSha, ...signed }));
          await timed('register', () => acts.registerInCatalog(number));
          times.total.push(performance.now() - t);
        }
      }),
    );
    const wallS = (performance.now() - wall) / 1000;

    const rows = [...STAGES, 'total' as const].map((stage) => {
      const sorted = [...times[stage]].sort((a, b) => a - b);
      return [stage, percentile(sorted, 50).toFixed(0), percentile(sorted, 95).toFixed(0)];
    });
    const db0 = config.database.client === 'mysql' ? 'MySQL/MariaDB' : 'SQLite';
    console.log(
      `\nIssuance through the sealing activities: ${N} certificates, concurrency ${CONCURRENCY}, ${db0}, warm soffice pool (${converter.sofficePids().length} processes, started in ${(startMs / 1000).toFixed(1)} s, outside the clock)\n`,
    );
    console.log('| stage    | p50 ms | p95 ms |');
    console.log('|----------|-------:|-------:|');
    for (const [stage, p50, p95] of rows)
      console.log(`| ${stage!.padEnd(8)} | ${p50!.padStart(6)} | ${p95!.padStart(6)} |`);
    console.log(
      `\n${N} certificates in ${wallS.toFixed(1)} s: ${(N / wallS).toFixed(1)} certificates/s (${os.cpus().length} CPUs)`,
    );
  } finally {
    await converter.close();
    await db.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
