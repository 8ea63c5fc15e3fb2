import assert from 'node:assert/strict';
import { forEachDatabase } from '../../support/databases';
import { DEMO_PASSWORD } from '../../support/app';
import { addRole, createUser, getDepartment } from '../../../db/org';
import { hashPassword } from '../../../platform/secrets';
import { ACME, apiClient, newestFirst, setupCatalog, ZHANG, type CatalogSetup, type Cert } from './fixture';

/** GET /api/v1/certificates: filters, keyset paging, who sees what, validation, audit. */

interface Item {
  number: string;
  access: 'read' | 'catalog-only';
  type: { code: string };
  issuer: { department: string; region: string };
  holder: { kind: string; name?: string; id?: string };
  status: string;
  issuedAt: string;
}
interface Page {
  items: Item[];
  nextCursor: string | null;
  crossDepartment: boolean;
}
type Who = { token: string } | { apiKey: string };

forEachDatabase('catalog search', (get) => {
  let s: CatalogSetup;
  let both: string;
  const logins = ['market-handler', 'health-handler', 'market-reviewer', 'market-filler', 'platform-admin'];

  before(async function () {
    this.timeout(60_000);
    s = await setupCatalog(get().db, { logins });
    // A handler in both departments: the search fans out over two departments and merges.
    const id = await createUser(get().db, {
      username: 'both-handler',
      displayName: '两局经办员',
      passwordHash: await hashPassword(DEMO_PASSWORD),
    });
    for (const d of ['market', 'health']) await addRole(get().db, id, 'handler', (await getDepartment(get().db, d))!);
    both = await s.app.login('both-handler');
  });
  after(() => s?.app.close());

  const as = (u: string): Who => ({ token: s.tokens[u]! });
  async function search(who: Who, params: Record<string, string | number>, status = 200): Promise<Page> {
    const qs = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]));
    const r = await s.app.fetch(`/api/v1/certificates?${qs}`, who);
    const body = await r.json();
    assert.equal(r.status, status, JSON.stringify(body));
    return body as Page;
  }
  /** Follows nextCursor to the end; every page at most `limit` long. */
  async function all(who: Who, params: Record<string, string | number>, limit = 3): Promise<string[]> {
    const out: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 100; pages++) {
      const page: Page = await search(who, { ...params, limit, ...(cursor ? { cursor } : {}) });
      assert.ok(page.items.length <= limit);
      out.push(...page.items.map((i) => i.number));
      cursor = page.nextCursor;
      if (!cursor) return out;
    }
    throw new Error('paging did not end');
  }
  const where = (f: (c: Cert) => boolean) => newestFirst(s.certs.filter(f));

  it("one number, many certificates: a holder's certificates of every type in the reader's departments", async () => {
    const own = await search(as('market-handler'), { holderId: ZHANG.id });
    assert.deepEqual(
      own.items.map((i) => i.number),
      where((c) => c.holderId === ZHANG.id && c.department === 'market'),
    );
    assert.deepEqual(
      own.items.map((i) => i.type.code),
      ['PQ', 'PQ'],
    );
    assert.equal(
      own.items[0]!.holder.id,
      `${ZHANG.id.slice(0, 6)}********${ZHANG.id.slice(-4)}`,
      'holder IDs are masked',
    );
    assert.equal(own.crossDepartment, false);

    const byType = await search(as('health-handler'), { holderId: ACME.id.toLowerCase(), typeCode: 'hl' });
    assert.deepEqual(
      byType.items.map((i) => [i.type.code, i.status]),
      [['HL', 'revoked']],
      'IDs and type codes are matched case-insensitively',
    );
  });

  it("a handler with a reason finds the holder's certificates in other departments, as catalog entries only", async () => {
    const page = await search(as('market-handler'), { holderId: ZHANG.id, reason: '办理个体工商户变更登记核验资格' });
    assert.equal(page.crossDepartment, true);
    assert.deepEqual(
      page.items.map((i) => i.number),
      where((c) => c.holderId === ZHANG.id),
    );
    const health = page.items.find((i) => i.issuer.department === 'health')!;
    assert.equal(health.access, 'catalog-only');
    assert.deepEqual(
      health.holder,
      { kind: 'person', codeType: '111' },
      'no name or ID from a department the reader cannot read',
    );
    assert.ok(
      page.items
        .filter((i) => i.issuer.department === 'market')
        .every((i) => i.access === 'read' && i.holder.name === '张三'),
    );

    // Only by holder, and only handlers: other searches and other roles stay in their departments.
    assert.deepEqual((await search(as('market-handler'), { typeCode: 'MP', reason: '核验' })).items, []);
    const reviewer = await search(as('market-reviewer'), { holderId: ZHANG.id, reason: '核验' });
    assert.equal(reviewer.crossDepartment, false);
    assert.ok(reviewer.items.every((i) => i.issuer.department === 'market'));
  });

  const filters: [string, Record<string, string>, (c: Cert) => boolean][] = [
    ['type', { typeCode: 'BL' }, (c) => c.typeCode === 'BL'],
    ['region', { region: '330106' }, (c) => c.region === '330106'],
    ['status', { status: 'revoked' }, (c) => c.status === 'revoked'],
    ['holder kind', { holderKind: 'person' }, (c) => c.holderKind === 'person'],
    ['type + status', { typeCode: 'FBP', status: 'valid' }, (c) => c.typeCode === 'FBP' && c.status === 'valid'],
    ['region + status', { region: '330102', status: 'valid' }, (c) => c.region === '330102' && c.status === 'valid'],
    [
      'issue dates',
      { issuedFrom: '2021-01-01', issuedTo: '2022-06-30' },
      (c) => c.issuedAt >= new Date('2020-12-31T16:00:00Z') && c.issuedAt < new Date('2022-06-30T16:00:00Z'),
    ],
    [
      'type + dates',
      { typeCode: 'PQ', issuedFrom: '2020-06-01' },
      (c) => c.typeCode === 'PQ' && c.issuedAt >= new Date('2020-05-31T16:00:00Z'),
    ],
  ];
  for (const [name, params, f] of filters) {
    it(`by ${name}: exactly the matching rows, newest first, across pages`, async () => {
      const expected = where((c) => c.department === 'market' && f(c));
      assert.ok(expected.length > 0, 'the data set has matching rows');
      assert.deepEqual(await all(as('market-handler'), params), expected);
      assert.deepEqual(await all({ token: both }, params, 4), where(f), 'two departments merged');
    });
  }

  it('issue dates are China Standard Time days, inclusive', async () => {
    const newYear = s.certs.find((c) => c.issuedAt.toISOString() === '2023-12-31T16:30:00.000Z')!.number;
    const on = await search(as('market-handler'), { typeCode: 'BL', issuedFrom: '2024-01-01', issuedTo: '2024-01-01' });
    assert.deepEqual(
      on.items.map((i) => i.number),
      [newYear],
    );
    const before = await search(as('market-handler'), {
      typeCode: 'BL',
      issuedFrom: '2023-12-31',
      issuedTo: '2023-12-31',
    });
    assert.deepEqual(before.items, []);
  });

  it('cursor paging returns every row exactly once, in order, ties on issue time broken by id', async () => {
    for (const limit of [1, 3, 7, 200]) {
      const got = await all(as('market-handler'), {}, limit);
      assert.deepEqual(
        got,
        where((c) => c.department === 'market'),
        `limit ${limit}`,
      );
      assert.equal(new Set(got).size, got.length);
    }
    const merged = await all({ token: both }, {}, 5);
    assert.deepEqual(merged, newestFirst(s.certs));
    const last = await search({ token: both }, { limit: 200 });
    assert.equal(last.nextCursor, null, 'no cursor after the last page');
  });

  it("scoping: a market handler cannot list health's certificates; staff without certificate.read cannot search", async () => {
    assert.deepEqual(
      (await search(as('market-handler'), { typeCode: 'MP' })).items,
      [],
      "health types are not in a market reader's scope",
    );
    await search(as('market-handler'), { department: 'health' }, 403);
    await search(as('market-handler'), { department: 'health', typeCode: 'MP' }, 403);
    assert.deepEqual(
      await all(as('health-handler'), { typeCode: 'MP' }),
      where((c) => c.typeCode === 'MP'),
    );
    await search(as('market-filler'), {}, 403);
    await search(as('platform-admin'), {}, 403);
    const anonymous = await s.app.fetch('/api/v1/certificates');
    assert.equal(anonymous.status, 401);
  });

  it('business systems: certificates:read, their own department only, and a reason is required', async () => {
    const market = { apiKey: await apiClient(s, 'market', ['certificates:read']) };
    const health = { apiKey: await apiClient(s, 'health', ['certificates:read']) };
    const writer = { apiKey: await apiClient(s, 'market', ['applications:write']) };
    const reason = '企业开办一件事联办核验';

    const missing = (await search(market, { typeCode: 'BL' }, 400)) as unknown as { errors: { field: string }[] };
    assert.deepEqual(
      missing.errors.map((e) => e.field),
      ['query.reason'],
    );
    assert.deepEqual(
      await all(market, { reason }, 10),
      where((c) => c.department === 'market'),
    );
    assert.deepEqual(
      (await search(market, { holderId: ZHANG.id, reason })).items.map((i) => i.number),
      where((c) => c.holderId === ZHANG.id && c.department === 'market'),
    );
    assert.deepEqual((await search(health, { typeCode: 'BL', reason })).items, []);
    await search(market, { department: 'health', reason }, 403);
    await search(writer, { reason }, 403);

    const audit = await get()
      .db('audit_log')
      .where({ action: 'certificate.search', actor_type: 'api-client' })
      .orderBy('seq')
      .select('detail', 'category', 'outcome');
    assert.ok(audit.length >= 3);
    assert.ok(
      audit
        .filter((a) => a.outcome === 'success')
        .every((a) => a.category === 'operation' && JSON.parse(a.detail).reason === reason),
    );
    const calls = await get()
      .db('audit_log')
      .where({ category: 'api-call', actor_type: 'api-client' })
      .where('action', 'like', 'GET %certificates')
      .count({ n: '*' });
    assert.ok(Number(calls[0]!.n) >= 6, 'every call is also recorded as an API call');
  });

  it('bad parameters are a 400 naming each one', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ status: 'bogus' }, 'query.status'],
      [{ issuedFrom: '2024-02-30' }, 'query.issuedFrom'],
      [{ issuedFrom: '2024-03-01', issuedTo: '2024-02-01' }, 'query.issuedTo'],
      [{ cursor: 'not-a-cursor' }, 'query.cursor'],
      [{ cursor: Buffer.from('v1:x:1').toString('base64url') }, 'query.cursor'],
      [{ limit: '0' }, 'query.limit'],
      [{ limit: '1000' }, 'query.limit'],
      [{ region: '3301' }, 'query.region'],
      [{ holderKind: 'robot' }, 'query.holderKind'],
      [{ holderId: "1' OR 1=1" }, 'query.holderId'],
      [{ holderId: '110105194912310021' }, 'query.holderId'],
      [{ holderId: '91350100M000100Y43', holderKind: 'person' }, 'query.holderId'],
      [{ typeCode: 'B' }, 'query.typeCode'],
      [{ department: 'Market!' }, 'query.department'],
    ];
    for (const [params, field] of cases) {
      const r = (await search(as('market-handler'), params, 400)) as unknown as {
        errors: { field: string; message: string }[];
      };
      assert.deepEqual(
        r.errors.map((e) => e.field),
        [field],
        JSON.stringify(params),
      );
    }
    const mismatch = (await search(
      as('market-handler'),
      { holderId: ACME.id, holderKind: 'person' },
      400,
    )) as unknown as { errors: { message: string }[] };
    assert.match(
      mismatch.errors[0]!.message,
      /^for holderKind person: resident ID number character \d+ must be a digit$/,
    );
    const unknown = (await search(as('market-handler'), { type: 'BL' }, 400)) as unknown as {
      errors: { field: string; message: string }[];
    };
    assert.match(unknown.errors[0]!.message, /type/, 'an unknown parameter is named, not silently ignored');
  });

  it('every search is audited as an operation with its filters and reason; holder IDs masked', async () => {
    await search(as('market-handler'), { holderId: ZHANG.id, reason: '窗口办件核验', typeCode: 'PQ' });
    const [entry] = await get()
      .db('audit_log')
      .where({ action: 'certificate.search', actor_name: 'market-handler' })
      .orderBy('seq', 'desc')
      .limit(1)
      .select('*');
    assert.equal(entry.category, 'operation');
    assert.equal(entry.object_type, 'holder');
    assert.equal(entry.object_id, `${ZHANG.id.slice(0, 6)}********${ZHANG.id.slice(-4)}`);
    const detail = JSON.parse(entry.detail);
    assert.equal(detail.reason, '窗口办件核验');
    assert.equal(detail.crossDepartment, true);
    assert.equal(detail.filters.typeCode, 'PQ');
    assert.ok(!entry.detail.includes(ZHANG.id), 'the full ID number is not in the log');
  });
});
