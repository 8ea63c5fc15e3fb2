import assert from 'node:assert/strict';
import { forEachDatabase } from '../../support/databases';
import { apiClient, setupCatalog, TYPES, type CatalogSetup, type Cert } from './fixture';

/** GET /api/v1/stats: counts by type, department, status and month, for the caller's scope. */

interface Stats {
  scope: { departments: string[] | 'all'; from: string | null; to: string | null };
  total: number;
  byType: { typeCode: string; typeName: string | null; department: string; count: number }[];
  byDepartment: { department: string; count: number }[];
  byStatus: { status: string; statusCode: string; count: number }[];
  byMonth: { month: string; count: number }[];
}

/** What the counts must be, worked out here in plain code from the data set. */
function expected(certs: Cert[]) {
  const count = (key: (c: Cert) => string) => {
    const m = new Map<string, number>();
    for (const c of certs) m.set(key(c), (m.get(key(c)) ?? 0) + 1);
    return Object.fromEntries([...m].sort());
  };
  return {
    total: certs.length,
    byType: count((c) => c.typeCode),
    byDepartment: count((c) => c.department),
    byStatus: count((c) => c.status),
    // China Standard Time months.
    byMonth: count((c) => new Date(c.issuedAt.getTime() + 8 * 3_600_000).toISOString().slice(0, 7)),
  };
}
const actual = (s: Stats) => ({
  total: s.total,
  byType: Object.fromEntries(s.byType.map((t) => [t.typeCode, t.count]).sort()),
  byDepartment: Object.fromEntries(s.byDepartment.map((t) => [t.department, t.count]).sort()),
  byStatus: Object.fromEntries(s.byStatus.map((t) => [t.status, t.count]).sort()),
  byMonth: Object.fromEntries(s.byMonth.map((t) => [t.month, t.count]).sort()),
});

forEachDatabase('catalog statistics', (get) => {
  let s: CatalogSetup;
  before(async function () {
    this.timeout(60_000);
    s = await setupCatalog(get().db, {
      logins: ['market-admin', 'health-admin', 'auditor', 'market-auditor', 'market-handler'],
    });
  });
  after(() => s?.app.close());

  async function stats(user: string, params: Record<string, string> = {}, status = 200): Promise<Stats> {
    const r = await s.app.fetch(`/api/v1/stats?${new URLSearchParams(params)}`, { token: s.tokens[user]! });
    const body = await r.json();
    assert.equal(r.status, status, JSON.stringify(body));
    return body as Stats;
  }
  const inRange = (from: string, to: string) => (c: Cert) =>
    c.issuedAt >= new Date(`${from}T00:00:00+08:00`) &&
    c.issuedAt < new Date(new Date(`${to}T00:00:00+08:00`).getTime() + 86_400_000);

  it('a department admin gets counts for its department, by type, status and month', async () => {
    const got = await stats('market-admin');
    assert.deepEqual(got.scope.departments, ['market']);
    assert.deepEqual(actual(got), expected(s.certs.filter((c) => c.department === 'market')));
    // Spot checks against the data set's design, not only against the same arithmetic.
    assert.equal(got.byDepartment.length, 1);
    assert.deepEqual(got.byType.map((t) => t.typeCode).sort(), ['BL', 'FBP', 'PQ']);
    assert.equal(got.byStatus.find((x) => x.status === 'revoked')?.statusCode, '07');
    assert.ok(
      got.byMonth.some((m) => m.month === '2024-01'),
      'the 00:30 Beijing New Year certificate counts in January 2024',
    );
    assert.ok(!got.byMonth.some((m) => m.month === '2023-12'));
    assert.deepEqual(
      got.byMonth.map((m) => m.month),
      [...got.byMonth.map((m) => m.month)].sort(),
      'months in order',
    );
  });

  it('from/to are inclusive issue dates in China Standard Time', async () => {
    const got = await stats('health-admin', { from: '2021-01-01', to: '2022-12-31' });
    assert.deepEqual(
      actual(got),
      expected(s.certs.filter((c) => c.department === 'health' && inRange('2021-01-01', '2022-12-31')(c))),
    );
    const newYear = await stats('market-admin', { from: '2024-01-01', to: '2024-01-01' });
    assert.equal(newYear.total, 1);
    assert.deepEqual(
      newYear.byType.map((t) => [t.typeCode, t.count]),
      [['BL', 1]],
    );
  });

  it('the platform-wide audit admin sees every department, or one on request; a department audit admin only its own', async () => {
    assert.deepEqual(actual(await stats('auditor')), expected(s.certs));
    assert.equal((await stats('auditor')).scope.departments, 'all');
    assert.deepEqual(
      actual(await stats('auditor', { department: 'health' })),
      expected(s.certs.filter((c) => c.department === 'health')),
    );
    assert.deepEqual(actual(await stats('market-auditor')), expected(s.certs.filter((c) => c.department === 'market')));
    await stats('market-auditor', { department: 'health' }, 403);
    await stats('market-admin', { department: 'health' }, 403);
  });

  it('type names come from the type register when the type is known', async () => {
    const now = new Date();
    const market = await get().db('departments').where({ code: 'market' }).first('id');
    await get().db('certificate_types').insert({
      code: 'BL',
      department_id: market.id,
      name: TYPES.BL!.name,
      status: 'published',
      latest_version: 1,
      published_version: 1,
      created_at: now,
      updated_at: now,
    });
    const names = Object.fromEntries((await stats('market-admin')).byType.map((t) => [t.typeCode, t.typeName]));
    assert.deepEqual(names, { BL: '营业执照', FBP: null, PQ: null });
  });

  it('handlers, business systems and bad parameters are refused', async () => {
    await stats('market-handler', {}, 403);
    const key = await apiClient(s, 'market', ['certificates:read']);
    assert.equal((await s.app.fetch('/api/v1/stats', { apiKey: key })).status, 403);
    for (const [params, field] of [
      [{ from: '2024-13-01' }, 'query.from'],
      [{ from: '2024-03-01', to: '2024-01-01' }, 'query.to'],
      [{ department: 'NOT OK' }, 'query.department'],
    ] as [Record<string, string>, string][]) {
      const r = (await stats('market-admin', params, 400)) as unknown as { errors: { field: string }[] };
      assert.deepEqual(
        r.errors.map((e) => e.field),
        [field],
      );
    }
  });

  it('reading statistics is audited', async () => {
    await stats('market-auditor', { from: '2020-01-01' });
    const [entry] = await get()
      .db('audit_log')
      .where({ action: 'stats.read', actor_name: 'market-auditor', outcome: 'success' })
      .orderBy('seq', 'desc')
      .limit(1)
      .select('*');
    assert.equal(entry.category, 'operation');
    assert.equal(entry.department, 'market');
    assert.deepEqual(JSON.parse(entry.detail), { departments: ['market'], from: '2020-01-01', to: null });
  });
});
