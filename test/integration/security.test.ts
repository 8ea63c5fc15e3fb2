import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { forEachDatabase } from '../support/databases';
import { temporalEnv } from '../support/temporal';
import { startTestApp, testConfig, type TestApp } from '../support/app';
import { seedDemo, seedDemoTypes } from '../../db/seed-demo';
import { appendAudit, entryHash, verifyAuditChain } from '../../db/audit';
import { addRole, getDepartment } from '../../db/org';
import { openDb } from '../../db/knex';
import type { Config } from '../../platform/config';
import { createMemoryCache } from '../../platform/cache';

/** Regression tests for the probe's findings (issues #19 and #20). */

type Problem = { status: number; title: string; detail: string; errors?: { field: string }[] };

const config = (patch: Partial<Config> = {}): Config => {
  const base = testConfig();
  const auth = { ...base.auth, maxFailures: 5, lockoutMinutes: 15, maxFailuresPerAddress: 1000 };
  return { ...base, auth, ...patch };
};

/** Raw HTTP, because fetch() refuses methods such as TRACE. */
type RawResponse = { status: number; headers: http.IncomingHttpHeaders; body: string };
function rawRequest(url: string, method: string, path: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url + path, { method }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

forEachDatabase('security findings #19 #20', (get) => {
  let app: TestApp;
  const userId = async (username: string) => Number((await get().db('users').where({ username }).first()).id);
  const assignments = async (username: string) =>
    get()
      .db('role_assignments')
      .where({ user_id: await userId(username) })
      .select('id', 'role', 'department_id');
  const grant = async (token: string, username: string, role: string, department: string | null) =>
    app.fetch(`/api/v1/users/${await userId(username)}/roles`, { token, json: { role, department } });
  const withdraw = async (token: string, username: string, assignmentId: number) =>
    app.fetch(`/api/v1/users/${await userId(username)}/roles/${assignmentId}`, { method: 'DELETE', token });
  const signIn = (username: string, password: string) =>
    app.fetch('/api/v1/auth/login', { json: { username, password } });

  before(async () => {
    const { db } = get();
    await seedDemo(db, 'certflow-demo');
    app = await startTestApp({ db, temporal: (await temporalEnv()).client, config: config() });
    await seedDemoTypes(db, app.deps.blobs);
  });
  after(() => app?.close());

  describe('roles: platform scope, separation of duties, no self-grant, no self-demotion', () => {
    it("a department admin cannot withdraw the platform-wide audit admin's role", async () => {
      const token = await app.login('market-admin');
      const [a] = await assignments('auditor');
      const r = await withdraw(token, 'auditor', a!.id);
      assert.equal(r.status, 403);
      assert.equal((await assignments('auditor')).length, 1);
    });

    it('nobody grants a role to themselves, so an admin cannot make itself its own auditor', async () => {
      const token = await app.login('market-admin');
      const self = await grant(token, 'market-admin', 'audit-admin', 'market');
      assert.equal(self.status, 403);
      assert.match(((await self.json()) as Problem).detail, /yourself/);
      assert.equal((await app.fetch('/api/v1/audit', { token })).status, 403);
      const pa = await app.login('platform-admin');
      assert.equal((await grant(pa, 'platform-admin', 'audit-admin', null)).status, 403);
    });

    it('nobody holds admin and audit-admin for overlapping departments', async () => {
      const pa = await app.login('platform-admin');
      const both = await grant(pa, 'market-admin', 'audit-admin', 'market');
      assert.equal(both.status, 409);
      assert.match(((await both.json()) as Problem).detail, /separation of duties/);
      const auditorAdmin = await grant(pa, 'auditor', 'department-admin', 'health');
      assert.equal(auditorAdmin.status, 409, 'a platform-wide audit admin overlaps every department');
      const created = await app.fetch('/api/v1/users', {
        token: pa,
        json: {
          username: 'two-hats',
          displayName: 'x',
          password: 'a-good-password',
          roles: [
            { role: 'department-admin', department: 'health' },
            { role: 'audit-admin', department: 'health' },
          ],
        },
      });
      assert.equal(created.status, 409);
      assert.equal(await get().db('users').where({ username: 'two-hats' }).first(), undefined);
      // Different departments do not overlap.
      assert.equal((await grant(pa, 'market-reviewer', 'audit-admin', 'health')).status, 201);
      // A pair made before the rule existed does not let its holder audit the department it administers.
      const { db } = get();
      await addRole(db, await userId('health-admin'), 'audit-admin', (await getDepartment(db, 'health'))!);
      const healthAdmin = await app.login('health-admin');
      assert.equal((await app.fetch('/api/v1/audit', { token: healthAdmin })).status, 403);
    });

    it('an administrator cannot withdraw their own admin role', async () => {
      const token = await app.login('market-admin');
      const own = (await assignments('market-admin')).find((a) => a.role === 'department-admin')!;
      const r = await withdraw(token, 'market-admin', own.id);
      assert.ok(r.status === 409 || r.status === 422, String(r.status));
      assert.match(((await r.json()) as Problem).detail, /your own/);
      assert.ok((await assignments('market-admin')).some((a) => a.role === 'department-admin'));
    });
  });

  describe("changing one's own password", () => {
    it('needs the current password; a wrong one is refused, audited and counts toward lockout', async () => {
      const pa = await app.login('platform-admin');
      const roles = [{ role: 'reviewer', department: 'health' }];
      const json = { username: 'pw-changer', displayName: 'x', password: 'first-password-1', roles };
      const created = await app.fetch('/api/v1/users', { token: pa, json });
      assert.equal(created.status, 201);
      const id = await userId('pw-changer');
      let token = await app.login('pw-changer', 'first-password-1');
      const put = (body: Record<string, string>, as = token) =>
        app.fetch(`/api/v1/users/${id}`, { method: 'PUT', token: as, json: body });
      const missing = await put({ password: 'second-password-2' });
      assert.equal(missing.status, 422);
      assert.deepEqual(
        ((await missing.json()) as Problem).errors?.map((e) => e.field),
        ['currentPassword'],
      );
      assert.equal((await put({ password: 'second-password-2', currentPassword: 'not-my-password' })).status, 403);
      assert.equal((await put({ password: 'second-password-2', currentPassword: 'first-password-1' })).status, 200);
      token = await app.login('pw-changer', 'second-password-2');
      const denied = await get().db('audit_log').where({ actor_name: 'pw-changer', outcome: 'denied' });
      assert.ok(
        denied.some((d) => /wrong current password/.test(d.detail)),
        JSON.stringify(denied),
      );
      // Wrong guesses count like failed sign-ins (a success resets the count): five, and sign-in is locked.
      for (let i = 0; i < 5; i++) {
        assert.equal((await put({ password: 'third-password-3', currentPassword: `guess-${i}-guess` })).status, 403);
      }
      assert.equal((await signIn('pw-changer', 'second-password-2')).status, 429);
      // An admin resetting someone else's password needs no current password.
      assert.equal((await put({ password: 'reset-password-4' }, pa)).status, 200);
    });
  });

  describe('sign-in lockout under concurrency', () => {
    it('checks at most five of twenty parallel guesses; the rest are 429', async () => {
      const guesses = Array.from({ length: 20 }, (_, i) => signIn('health-filler', `parallel-guess-${i}`));
      const results = await Promise.all(guesses);
      const statuses = results.map((r) => r.status);
      assert.equal(statuses.filter((s) => s === 401).length, 5, statuses.join(','));
      assert.equal(statuses.filter((s) => s === 429).length, 15, statuses.join(','));
      assert.equal((await signIn('health-filler', 'certflow-demo')).status, 429);
    });
  });

  describe('unauthenticated floods are throttled and aggregated in the audit log', () => {
    let fresh: TestApp;
    const seq = async () => Number((await get().db('audit_head').first()).seq);
    const rowsAfter = (s: number) => get().db('audit_log').where('seq', '>', s).orderBy('seq');
    const countOf = (detail: string | null) => Number((JSON.parse(detail ?? '{}') as { count?: number }).count ?? 1);
    const total = (rows: { detail: string | null }[]) => rows.reduce((n, r) => n + countOf(r.detail), 0);
    before(async () => {
      // Its own counters, the same master key (one deployment): the audit chain stays verifiable.
      const deps = { ...app.deps, cache: createMemoryCache(1000) };
      const limited = config({ auth: { ...config().auth, maxFailuresPerAddress: 50 } });
      fresh = await startTestApp({ db: get().db, temporal: (await temporalEnv()).client, deps, config: limited });
    });
    after(() => fresh?.close());

    it('200 made-up API keys: a handful of entries whose counts add up, 429 past the limit', async () => {
      const start = await seq();
      const statuses: number[] = [];
      for (let i = 0; i < 200; i += 20) {
        const batch = await Promise.all(
          Array.from({ length: 20 }, (_, j) => fresh.fetch('/api/v1/auth/me', { apiKey: `madeup${i + j}.secret` })),
        );
        statuses.push(...batch.map((r) => r.status));
      }
      assert.ok(statuses.filter((s) => s === 429).length >= 100, statuses.join(','));
      assert.ok(statuses.every((s) => s === 401 || s === 429));
      await fresh.flushAudit();
      const rows = await rowsAfter(start);
      assert.ok(rows.length <= 6, `${rows.length} audit rows`);
      assert.equal(total(rows), 200);
    });

    it('200 sign-ins against a locked account write a handful of entries whose counts add up', async () => {
      const start = await seq();
      const freshSignIn = (password: string) =>
        fresh.fetch('/api/v1/auth/login', { json: { username: 'health-handler', password } });
      for (let i = 0; i < 5; i++) await freshSignIn(`wrong-${i}-password`);
      const statuses: number[] = [];
      for (let i = 0; i < 200; i += 20) {
        const batch = await Promise.all(Array.from({ length: 20 }, () => freshSignIn('certflow-demo')));
        statuses.push(...batch.map((r) => r.status));
      }
      assert.ok(
        statuses.every((s) => s === 429),
        statuses.join(','),
      );
      await fresh.flushAudit();
      const rows = await rowsAfter(start);
      assert.ok(rows.length <= 6, `${rows.length} audit rows`);
      assert.equal(total(rows), 205);
    });
  });

  describe('non-standard HTTP methods', () => {
    it('answer 501 for an unknown method and 405 with Allow for a known path, as problem+json', async () => {
      const paths = ['/api/v1/users', '/api/v1/auth/me', '/healthz', '/', '/no/such/path'];
      for (const method of ['PROPFIND', 'PURGE', 'MKCOL']) {
        for (const p of paths) {
          const r = await rawRequest(app.url, method, p);
          assert.equal(r.status, 501, `${method} ${p}: ${r.body}`);
          assert.match(String(r.headers['content-type']), /application\/problem\+json/);
          assert.equal((JSON.parse(r.body) as Problem).status, 501);
        }
      }
      // TRACE is standard but allowed nowhere: 405 where the path exists, 404 elsewhere (never a 5xx).
      const known = [
        ['PATCH', '/api/v1/auth/login', /POST/],
        ['PUT', '/api/v1/audit', /GET/],
        ['TRACE', '/api/v1/users', /GET/],
        ['TRACE', '/healthz', /GET/],
        ['QUERY', '/api/v1/auth/me', /GET/],
      ] as const;
      for (const [method, p, allow] of known) {
        const r = await rawRequest(app.url, method, p);
        assert.equal(r.status, 405, `${method} ${p}: ${r.body}`);
        assert.match(String(r.headers.allow), allow);
        assert.match(String(r.headers['content-type']), /application\/problem\+json/);
      }
      assert.equal((await rawRequest(app.url, 'TRACE', '/no/such/path')).status, 404);
    });
  });

  describe('smaller findings', () => {
    it('a business system needs a scope to start pings', async () => {
      const admin = await app.login('market-admin');
      const json = { name: '无关系统', department: 'market', scopes: ['certificates:read'] };
      const created = await app.fetch('/api/v1/api-clients', { token: admin, json });
      const { apiKey } = (await created.json()) as { apiKey: string };
      assert.equal((await app.fetch('/api/v1/pings', { apiKey, json: { message: 'hi' } })).status, 403);
    });

    it("only the owning department (and platform admins) download a type's DOCX template", async () => {
      const download = async (username: string) =>
        (await app.fetch('/api/v1/certificate-types/BL/template', { token: await app.login(username) })).status;
      assert.equal(await download('health-reviewer'), 403);
      assert.equal(await download('market-filler'), 200);
      assert.equal(await download('platform-admin'), 200);
    });

    it('in production, X-Forwarded-For is believed only from TRUSTED_PROXIES', async () => {
      const temporal = (await temporalEnv()).client;
      const ipOf = async (trustedProxies: string[], username: string) => {
        const base = config();
        const deps = { ...app.deps, cache: createMemoryCache(1000) };
        const prodConfig: Config = { ...base, env: 'production', http: { ...base.http, trustedProxies } };
        const prod = await startTestApp({ db: get().db, temporal, deps, config: prodConfig });
        try {
          const json = { username, password: 'wrong-password-x' };
          const r = await prod.fetch('/api/v1/auth/login', { json, headers: { 'x-forwarded-for': '203.0.113.7' } });
          assert.equal(r.status, 401);
          await prod.flushAudit();
          return (await get().db('audit_log').where({ actor_name: username }).orderBy('seq', 'desc').first()).ip;
        } finally {
          await prod.close();
        }
      };
      assert.equal(await ipOf([], 'xff-one'), '127.0.0.1');
      assert.equal(await ipOf(['127.0.0.1'], 'xff-two'), '203.0.113.7');
    });
  });

  describe('audit chain anchored to the master key', () => {
    /** What an attacker with database access but no key can do: edit, then re-hash everything after with SHA-256. */
    async function rewrite(db: TestApp['deps']['db'], victimSeq: number) {
      await db('audit_log').where({ seq: victimSeq }).update({ outcome: 'success' });
      const rows = await db('audit_log').where('seq', '>=', victimSeq).orderBy('seq');
      let prev = (
        await db('audit_log')
          .where({ seq: victimSeq - 1 })
          .first()
      ).hash as string;
      for (const r of rows) {
        const hash = entryHash(prev, r);
        const downgrade = 'hash_version' in r ? { hash_version: 1 } : {};
        await db('audit_log')
          .where({ seq: r.seq })
          .update({ prev_hash: prev, hash, ...downgrade });
        prev = hash;
      }
      await db('audit_head').where({ id: 1 }).update({ hash: prev });
    }

    it('a consistent rewrite with plain SHA-256 is caught, naming the row', async () => {
      const { db } = get();
      const token = await app.login('auditor');
      type Report = { ok: boolean; firstBroken?: { seq: number } };
      const verify = async () => (await (await app.fetch('/api/v1/audit/verify', { token })).json()) as Report;
      assert.equal((await verify()).ok, true);
      const victim = await db('audit_log').where({ category: 'login', outcome: 'failure' }).orderBy('seq').first();
      await rewrite(db, Number(victim.seq));
      const report = await verify();
      assert.equal(report.ok, false);
      assert.equal(report.firstBroken?.seq, Number(victim.seq));
    });

    it('entries from before the keyed scheme still verify, and the keyed ones after them protect them', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'certflow-legacy-'));
      const db = openDb({ client: 'sqlite', filename: path.join(dir, 'legacy.sqlite') });
      try {
        for (let i = 0; i < 7; i++) await db.migrate.up();
        let prev = '0'.repeat(64);
        for (let seq = 1; seq <= 3; seq++) {
          const row = {
            seq,
            at: new Date().toISOString(),
            category: 'login',
            action: 'login',
            outcome: 'failure',
            actor_type: 'anonymous',
            actor_id: null,
            actor_name: `old-${seq}`,
            department: null,
            object_type: null,
            object_id: null,
            request_id: null,
            ip: null,
            detail: null,
          };
          const hash = entryHash(prev, row);
          await db('audit_log').insert({ ...row, prev_hash: prev, hash });
          await db('audit_head').where({ id: 1 }).update({ seq, hash });
          prev = hash;
        }
        await db.migrate.latest();
        const key = app.deps.masterKey;
        const actor = { type: 'user', id: '1', name: 'new' };
        await appendAudit(db, { category: 'login', action: 'login', outcome: 'success', actor }, key);
        const headHash = (await db('audit_head').first()).hash;
        assert.deepEqual(await verifyAuditChain(db, key), { ok: true, entries: 4, headHash, keyedFrom: 4 });
        await rewrite(db, 2);
        const report = await verifyAuditChain(db, key);
        assert.ok(!report.ok && report.firstBroken.seq === 4, JSON.stringify(report));
      } finally {
        await db.destroy();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
