import type { Server } from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../api/app';
import { createActivities, type ActivityDeps } from '../../activities';
import { createDevIdp } from '../../main/dev-idp';
import { certificateRow, governmentCreditCode, type Department, type TypeSpec } from '../../bench/catalog-data';
import { createHolderCrypto } from '../../platform/holder-crypto';
import { createApiClient, getDepartment } from '../../db/org';
import { seedDemo, DEMO_HOLDERS } from '../../db/seed-demo';
import { ensureDevelopmentTrust } from '../../services/trust/seals';
import { sha256Hex } from '../../platform/secrets';
import type { ApiScope } from '../../domain/access';
import type { Config } from '../../platform/config';
import { DEMO_PASSWORD, testDeps } from './app';
import { createTestDatabase, type DbKind, type TestDatabase } from './databases';
import { startWorker, temporalEnv, type RunningWorker } from './temporal';

/**
 * The API with the development identity provider mounted as `certflow start` mounts it, a
 * worker for the grant workflows, and certificates of the demo holders (and of somebody else)
 * inserted straight into the tables with real PDF blobs — the portal reads them like any other.
 */

const MARKET: Department = {
  code: 'market',
  name: '市场监督管理局',
  regionCode: '330100',
  creditCode: governmentCreditCode('330100', 1),
};
const HEALTH: Department = {
  code: 'health',
  name: '卫生健康委员会',
  regionCode: '330100',
  creditCode: governmentCreditCode('330100', 2),
};
export const TYPES: Record<string, TypeSpec> = {
  BL: { code: 'BL', name: '营业执照', department: 'market', holderKind: 'entity', months: null },
  FBP: { code: 'FBP', name: '食品经营许可证', department: 'market', holderKind: 'entity', months: 60 },
  PQ: { code: 'PQ', name: '执业资格证', department: 'health', holderKind: 'person', months: 24 },
};

export interface HolderHarness {
  url: string;
  t: TestDatabase;
  deps: ActivityDeps;
  worker: RunningWorker;
  numbers: { companyBL: string; companyFBP: string; personPQ: string; otherBL: string };
  fetch(
    path: string,
    init?: RequestInit & { json?: unknown; token?: string; holder?: string; apiKey?: string },
  ): Promise<Response>;
  login(username: string): Promise<string>;
  /** Signs in through /holder/login and the dev IdP; returns the holder session cookie (`name=value`). */
  signIn(account: string): Promise<string>;
  apiClient(department: string, scopes: ApiScope[]): Promise<string>;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** A cookie jar good enough for one sign-in: names are unique across the paths involved. */
class Jar {
  private cookies = new Map<string, string>();
  take(res: Response) {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (!value || /max-age=0|expires=thu, 01 jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  get(name: string) {
    return this.cookies.get(name);
  }
}

/** `holder`: settings of the portal for this harness's API and worker alike (the notification gateway, deadlines). */
export async function holderHarness(
  kind: DbKind = 'sqlite',
  options: { holder?: Partial<Config['holder']> } = {},
): Promise<HolderHarness> {
  const t = await createTestDatabase(kind);
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const plain = testDeps(t.db);
  const base: ActivityDeps = {
    ...plain,
    config: {
      ...plain.config,
      http: { ...plain.config.http, publicUrl },
      holder: { ...plain.config.holder, ...options.holder },
    },
  };
  const env = await temporalEnv();
  const worker = await startWorker(createActivities(base));
  let config = {
    ...base.config,
    temporal: { ...base.config.temporal, taskQueue: worker.taskQueue },
  };
  const idp = createDevIdp(config, base.logger);
  config = { ...config, holder: { ...config.holder, oidc: idp.settings } };
  const deps: ActivityDeps = { ...base, config };
  await seedDemo(t.db, DEMO_PASSWORD);
  await ensureDevelopmentTrust(deps);
  const sealId = Number((await t.db('seals').first()).id);

  const holders = createHolderCrypto(deps.masterKey);
  let serial = 1;
  async function insert(
    type: TypeSpec,
    holder: { kind: 'person' | 'entity'; id: string; name: string },
    issuedAt: Date,
  ) {
    const dept = type.department === 'market' ? MARKET : HEALTH;
    const row = certificateRow(
      { type, department: dept, region: dept.regionCode, holder, issuedAt, status: 'valid', serial: serial++, sealId },
      holders,
    );
    row.pdf_sha256 = await deps.blobs.put(Buffer.from(`%PDF-1.4\n% test certificate ${String(row.number)}\n%%EOF\n`));
    const app = {
      id: row.application_id,
      type_code: row.type_code,
      type_version: 1,
      department: row.department,
      mode: 'auto-seal',
      status: 'issued',
      holder_kind: row.holder_kind,
      holder_name: row.holder_name,
      holder_id_hash: row.holder_id_hash,
      holder_id_encrypted: row.holder_id_encrypted,
      revision: 1,
      submitter_type: 'system',
      submitter_id: 'test',
      workflow_id: `issuance-${String(row.application_id)}`,
      certificate_number: row.number,
      created_at: issuedAt,
      updated_at: issuedAt,
    };
    await t.db('applications').insert(app);
    await t.db('certificates').insert({ ...row, created_at: issuedAt });
    return row.number as string;
  }
  const now = new Date();
  const company = { kind: 'entity' as const, id: DEMO_HOLDERS.company.id, name: DEMO_HOLDERS.company.name };
  const person = { kind: 'person' as const, id: DEMO_HOLDERS.person.id, name: DEMO_HOLDERS.person.name };
  const numbers = {
    companyBL: await insert(TYPES.BL!, company, now),
    companyFBP: await insert(TYPES.FBP!, company, now),
    personPQ: await insert(TYPES.PQ!, person, now),
    otherBL: await insert(TYPES.BL!, { kind: 'entity', id: '91350100M000100Y43', name: '福州示例有限公司' }, now),
  };

  const koa = createApp({ ...deps, temporal: env.client }, { beforeAuth: [idp.middleware] });
  const server: Server = await new Promise((resolve) => {
    const s = koa.listen(port, '127.0.0.1', () => resolve(s));
  });

  const h: HolderHarness = {
    url: publicUrl,
    t,
    deps,
    worker,
    numbers,
    fetch(path, init = {}) {
      const headers = new Headers(init.headers);
      if (init.json !== undefined) headers.set('content-type', 'application/json');
      if (init.token) headers.set('authorization', `Bearer ${init.token}`);
      if (init.apiKey) headers.set('authorization', `ApiKey ${init.apiKey}`);
      if (init.holder) headers.set('cookie', init.holder);
      const body = init.json !== undefined ? JSON.stringify(init.json) : init.body;
      return fetch(`${publicUrl}${path}`, { ...init, headers, body, redirect: 'manual' });
    },
    async login(username) {
      const r = await h.fetch('/api/v1/auth/login', { method: 'POST', json: { username, password: DEMO_PASSWORD } });
      return ((await r.json()) as { token: string }).token;
    },
    async signIn(account) {
      const jar = new Jar();
      let url = `${publicUrl}/holder/login`;
      for (let hop = 0; hop < 12; hop++) {
        const res = await fetch(url, { headers: { cookie: jar.header() }, redirect: 'manual' });
        jar.take(res);
        if (jar.get('certflow_holder')) break;
        if (res.status >= 300 && res.status < 400) {
          url = new URL(res.headers.get('location')!, url).href;
          continue;
        }
        if (res.status !== 200) throw new Error(`sign-in stopped at ${url}: ${res.status} ${await res.text()}`);
        const html = await res.text();
        const form = new RegExp(`action="([^"]+)"><input type="hidden" name="account" value="${account}">`).exec(html);
        if (!form) throw new Error(`no sign-in form for ${account} at ${url}`);
        const post = await fetch(new URL(form[1]!, url), {
          method: 'POST',
          headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
          body: `account=${account}`,
          redirect: 'manual',
        });
        jar.take(post);
        url = new URL(post.headers.get('location')!, url).href;
      }
      const token = jar.get('certflow_holder');
      if (!token) throw new Error('no holder session after sign-in');
      return `certflow_holder=${token}`;
    },
    async apiClient(department, scopes) {
      const dept = (await getDepartment(t.db, department))!;
      const id = `test-${department}-${Math.random().toString(36).slice(2, 8)}`;
      const secret = 'secret-' + Math.random().toString(36).slice(2);
      await createApiClient(t.db, {
        id,
        name: `${department} 业务系统`,
        departmentId: dept.id,
        secretHash: sha256Hex(secret),
        scopes,
      });
      return `${id}.${secret}`;
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await koa.context.auditAggregator.close();
      await worker.stop();
      await t.drop();
    },
  };
  return h;
}
