import type { Client } from '@temporalio/client';
import type { Db } from '../../../db/knex';
import type { ActivityDeps } from '../../../activities';
import type { Cache } from '../../../platform/cache';
import { seedDemo } from '../../../db/seed-demo';
import { addRole, createUser, getDepartment } from '../../../db/org';
import { hashPassword } from '../../../platform/secrets';
import { ensureDevelopmentTrust } from '../../../services/trust/seals';
import { createHolderCrypto } from '../../../platform/holder-crypto';
import { DEMO_PASSWORD, startTestApp, testDeps, type TestApp } from '../../support/app';
import {
  applicationRow,
  certificateRow,
  entityId,
  governmentCreditCode,
  holderName,
  personId,
  type Department,
  type TypeSpec,
} from '../../../bench/catalog-data';
import type { CertificateStatus } from '../../../domain/certificate-record';

/**
 * A small catalog with known contents, written straight into the tables: two departments,
 * five types, people and companies holding certificates in both departments, statuses and
 * regions spread, rows that share an issue time (to prove the id tie-break), and one issued
 * at 00:30 Beijing time on New Year's Day (to prove dates and months are China Standard Time).
 */

export const DEPARTMENTS: Record<'market' | 'health', Department> = {
  market: {
    code: 'market',
    name: '市场监督管理局',
    regionCode: '330100',
    creditCode: governmentCreditCode('330100', 1),
  },
  health: {
    code: 'health',
    name: '卫生健康委员会',
    regionCode: '330100',
    creditCode: governmentCreditCode('330100', 2),
  },
};

export const TYPES: Record<string, TypeSpec> = {
  BL: { code: 'BL', name: '营业执照', department: 'market', holderKind: 'entity', months: null },
  FBP: { code: 'FBP', name: '食品经营许可证', department: 'market', holderKind: 'entity', months: 60 },
  PQ: { code: 'PQ', name: '个体经营资格证', department: 'market', holderKind: 'person', months: 36 },
  MP: { code: 'MP', name: '医师执业证书', department: 'health', holderKind: 'person', months: null },
  HL: { code: 'HL', name: '卫生许可证', department: 'health', holderKind: 'entity', months: 48 },
};

/** One person and one company with certificates of several types in both departments. */
export const ZHANG = { kind: 'person' as const, id: personId(1), name: '张三' };
export const ACME = { kind: 'entity' as const, id: entityId(1), name: '杭州西湖数字科技有限公司' };

export interface Cert {
  id: number;
  number: string;
  typeCode: string;
  department: 'market' | 'health';
  region: string;
  holderId: string;
  holderKind: 'person' | 'entity';
  issuedAt: Date;
  status: CertificateStatus;
}

interface Spec {
  type: string;
  holder: { kind: 'person' | 'entity'; id: string; name: string };
  region: string;
  issuedAt: string;
  status?: CertificateStatus;
}

function specs(): Spec[] {
  const out: Spec[] = [
    { type: 'PQ', holder: ZHANG, region: '330106', issuedAt: '2023-03-10T02:00:00Z' },
    { type: 'PQ', holder: ZHANG, region: '330106', issuedAt: '2019-05-20T03:00:00Z', status: 'expired' },
    { type: 'MP', holder: ZHANG, region: '330102', issuedAt: '2021-07-01T01:00:00Z' },
    { type: 'BL', holder: ACME, region: '330106', issuedAt: '2022-01-15T06:00:00Z' },
    { type: 'FBP', holder: ACME, region: '330106', issuedAt: '2022-02-20T06:00:00Z' },
    { type: 'HL', holder: ACME, region: '330108', issuedAt: '2024-05-05T06:00:00Z', status: 'revoked' },
    // 00:30 on 1 January 2024 in Beijing: a 2024 certificate, though it is still 2023 in UTC.
    {
      type: 'BL',
      holder: { kind: 'entity', id: entityId(2), name: holderName('entity', 2) },
      region: '330102',
      issuedAt: '2023-12-31T16:30:00Z',
    },
  ];
  const types = ['BL', 'FBP', 'PQ', 'MP', 'HL'];
  const regions = ['330102', '330106', '330108'];
  for (let i = 0; i < 70; i++) {
    const type = TYPES[types[i % types.length]!]!;
    const n = 100 + i;
    const holder =
      type.holderKind === 'person'
        ? { kind: 'person' as const, id: personId(n), name: holderName('person', n) }
        : { kind: 'entity' as const, id: entityId(n), name: holderName('entity', n) };
    // Pairs of rows share an issue time: only the id orders them.
    const t = Date.UTC(2020, 0, 1, 2) + Math.floor(i / 2) * 19 * 86_400_000;
    const status: CertificateStatus =
      i % 9 === 3 ? 'revoked' : i % 7 === 5 ? 'expired' : i % 23 === 11 ? 'suspended' : 'valid';
    out.push({
      type: type.code,
      holder,
      region: regions[i % regions.length]!,
      issuedAt: new Date(t).toISOString(),
      status,
    });
  }
  return out;
}

export async function insertCatalog(db: Db, masterKey: Buffer): Promise<Cert[]> {
  const holders = createHolderCrypto(masterKey);
  const sealIds: Record<string, number> = {};
  for (const d of ['market', 'health'])
    sealIds[d] = Number(
      (
        await db('seals')
          .where({ department_id: (await getDepartment(db, d))!.id })
          .first('id')
      ).id,
    );
  const serials = new Map<string, number>();
  const rows = specs().map((s) => {
    const type = TYPES[s.type]!;
    const key = `${type.code}-${s.region}-${s.issuedAt.slice(0, 4)}`;
    serials.set(key, (serials.get(key) ?? 0) + 1);
    const department = DEPARTMENTS[type.department as 'market' | 'health'];
    return certificateRow(
      {
        type,
        department,
        region: s.region,
        holder: s.holder,
        issuedAt: new Date(s.issuedAt),
        status: s.status ?? 'valid',
        serial: serials.get(key)!,
        sealId: sealIds[department.code]!,
      },
      holders,
    );
  });
  await db.transaction(async (trx) => {
    await trx.batchInsert('applications', rows.map(applicationRow), 100);
    await trx.batchInsert('certificates', rows, 100);
  });
  const ids = new Map((await db('certificates').select('number', 'id')).map((r) => [r.number as string, Number(r.id)]));
  return specs().map((s, i) => ({
    id: ids.get(rows[i]!.number as string)!,
    number: rows[i]!.number as string,
    typeCode: s.type,
    department: TYPES[s.type]!.department as 'market' | 'health',
    region: s.region,
    holderId: s.holder.id,
    holderKind: s.holder.kind,
    issuedAt: new Date(s.issuedAt),
    status: s.status ?? 'valid',
  }));
}

/** The API's order: newest first; certificates issued at the same instant, higher id first. */
export function newestFirst(certs: Cert[]): string[] {
  return [...certs].sort((a, b) => b.issuedAt.getTime() - a.issuedAt.getTime() || b.id - a.id).map((c) => c.number);
}

export interface CatalogSetup {
  deps: ActivityDeps;
  app: TestApp;
  certs: Cert[];
  tokens: Record<string, string>;
}

/** Demo org + seals, the catalog above, a market audit admin, and the API on a free port. */
export async function setupCatalog(db: Db, opts: { cache?: Cache; logins?: string[] } = {}): Promise<CatalogSetup> {
  const deps = testDeps(db, opts.cache ? { cache: opts.cache } : {});
  await seedDemo(db, DEMO_PASSWORD);
  await ensureDevelopmentTrust(deps);
  const uid = await createUser(db, {
    username: 'market-auditor',
    displayName: '市场监督管理局审计员',
    passwordHash: await hashPassword(DEMO_PASSWORD),
  });
  await addRole(db, uid, 'audit-admin', (await getDepartment(db, 'market'))!);
  const certs = await insertCatalog(db, deps.masterKey);
  const app = await startTestApp({ db, temporal: {} as Client, deps });
  const tokens: Record<string, string> = {};
  for (const u of opts.logins ?? []) tokens[u] = await app.login(u);
  return { deps, app, certs, tokens };
}

/** A business system of this department with these scopes; returns its `<id>.<secret>`. */
export async function apiClient(s: CatalogSetup, department: 'market' | 'health', scopes: string[]): Promise<string> {
  const admin = await s.app.login(`${department}-admin`);
  const r = await s.app.fetch('/api/v1/api-clients', {
    token: admin,
    json: { name: `${department} 业务系统`, department, scopes },
  });
  if (r.status !== 201) throw new Error(`api client: ${r.status} ${await r.text()}`);
  return ((await r.json()) as { apiKey: string }).apiKey;
}
