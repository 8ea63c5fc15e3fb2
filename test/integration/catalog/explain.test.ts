import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { createTestDatabase, type TestDatabase } from '../../support/databases';
import { requireService, TEST_MYSQL_URL } from '../../support/services';
import { createHolderCrypto } from '../../../platform/holder-crypto';
import { holderIdOf } from '../../../domain/holder';
import { catalogQueries, searchCatalog, statsQuery, type CatalogQuery } from '../../../db/catalog';
import { benchDepartments, benchTypes, catalogGenerator, personId, entityId } from '../../../bench/catalog-data';

/**
 * The query plans, read on MariaDB (issue 7: "lookups by holder use an index (the test reads
 * the query plan on MariaDB)"). 8 000 rows from the bench's generator, statistics refreshed
 * with ANALYZE TABLE, then EXPLAIN of exactly the SQL db/catalog.ts runs: each must use the
 * intended index (`key`), never a full table scan (`type` ALL), and the listings must come
 * out of the index in page order (no "Using filesort").
 */

interface Plan {
  table: string;
  type: string;
  key: string | null;
  Extra: string | null;
  rows: number;
}

describe('catalog query plans [mysql]', () => {
  let t: TestDatabase;
  const departments = benchDepartments(6);
  const types = benchTypes(departments);
  const holders = createHolderCrypto(randomBytes(32));

  before(async function () {
    this.timeout(60_000);
    try {
      t = await createTestDatabase('mysql');
    } catch (err) {
      requireService(this, `MariaDB at ${TEST_MYSQL_URL}`, err);
    }
    const gen = catalogGenerator(
      {
        departments,
        types,
        persons: 3000,
        entities: 2000,
        from: new Date('2016-01-01T00:00:00Z'),
        to: new Date('2025-12-31T00:00:00Z'),
        sealIds: {},
        now: new Date('2026-01-01T00:00:00Z'),
      },
      8000,
      holders,
    );
    // The plans are about the certificates table alone: no applications or seals rows behind these.
    await t.db.transaction(async (trx) => {
      await trx.raw('SET foreign_key_checks = 0');
      for (let i = 0; i < 8000; i += 1000) await trx('certificates').insert(gen.batch(i, 1000));
      await trx.raw('SET foreign_key_checks = 1');
    });
    await t.db('departments').insert(
      departments.map((d, i) => ({
        code: d.code,
        name: d.name,
        region_code: d.regionCode,
        credit_code: d.creditCode,
        created_at: new Date(Date.UTC(2020, 0, 1, 0, i)),
      })),
    );
    await t.db.raw('ANALYZE TABLE certificates');
  });
  after(() => t?.drop());

  async function explain(q: Knex.QueryBuilder): Promise<Plan> {
    const { sql, bindings } = q.toSQL().toNative();
    const [rows] = (await t.db.raw(`EXPLAIN ${sql}`, bindings as readonly Knex.RawBinding[])) as [Plan[]];
    assert.equal(rows.length, 1, 'one table, one access path');
    return rows[0]!;
  }
  async function plans(c: Omit<CatalogQuery, 'limit'>): Promise<Plan[]> {
    return Promise.all((await catalogQueries(t.db, { limit: 50, ...c })).map(explain));
  }
  const market = departments[0]!.code;
  const [entityType, personType] = [types[0]!, types[1]!];
  // A skewed pick makes holder 0 of each kind the busiest: the worst case for "one number, many certificates".
  const busyPerson = holders.lookupHash(holderIdOf('person', personId(0)));
  const year = {
    issuedFrom: new Date('2022-01-01T00:00:00+08:00'),
    issuedBefore: new Date('2023-01-01T00:00:00+08:00'),
  };

  const cases: [string, Omit<CatalogQuery, 'limit'>, string][] = [
    ['holder lookup', { holderIdHash: busyPerson, departments: null }, 'certificates_holder_issued'],
    [
      "holder lookup in the reader's departments, next page",
      {
        holderIdHash: busyPerson,
        departments: [market, departments[1]!.code],
        after: { issuedAtMs: Date.parse('2024-06-01T00:00:00Z'), id: 7000 },
      },
      'certificates_holder_issued',
    ],
    [
      'holder of a company',
      { holderIdHash: holders.lookupHash(holderIdOf('entity', entityId(3))), departments: null },
      'certificates_holder_issued',
    ],
    [
      'holder + type',
      { holderIdHash: busyPerson, typeCode: personType.code, departments: null },
      'certificates_holder',
    ],
    [
      'type + department + issue dates',
      { typeCode: entityType.code, departments: [market], ...year },
      'certificates_type_dept_issued',
    ],
    [
      'type + department, next page',
      {
        typeCode: entityType.code,
        departments: [market],
        after: { issuedAtMs: Date.parse('2022-06-01T00:00:00Z'), id: 5000 },
      },
      'certificates_type_dept_issued',
    ],
    ['department + status', { departments: [market], status: 'revoked' }, 'certificates_dept_status_issued'],
    [
      'department + status + dates, next page',
      {
        departments: [market],
        status: 'valid',
        ...year,
        after: { issuedAtMs: Date.parse('2022-06-01T00:00:00Z'), id: 5000 },
      },
      'certificates_dept_status_issued',
    ],
    ['department + region', { departments: [market], region: '330106' }, 'certificates_dept_region_issued'],
    ['department + issue dates', { departments: [market], ...year }, 'certificates_dept_issued'],
    [
      'department only, next page',
      { departments: [market], after: { issuedAtMs: Date.parse('2022-06-01T00:00:00Z'), id: 5000 } },
      'certificates_dept_issued',
    ],
    ['department + holder kind', { departments: [market], holderKind: 'person' }, 'certificates_dept_issued'],
  ];
  for (const [name, query, index] of cases) {
    it(`${name}: ${index}, no full scan`, async () => {
      for (const p of await plans(query)) {
        assert.equal(p.key, index, JSON.stringify(p));
        assert.notEqual(p.type, 'ALL', JSON.stringify(p));
        // Holder + type sorts that holder's certificates of one type; everything else reads in page order.
        if (!query.typeCode || !query.holderIdHash)
          assert.ok(!/filesort/i.test(p.Extra ?? ''), `rows come out of the index in page order: ${JSON.stringify(p)}`);
      }
    });
  }

  it('combined filters use one of the indexes their equality columns match, still in page order', async () => {
    const combos: [Omit<CatalogQuery, 'limit'>, string[]][] = [
      [
        { departments: [market], typeCode: entityType.code, status: 'valid' },
        ['certificates_type_dept_issued', 'certificates_dept_status_issued'],
      ],
      [
        { departments: [market], region: '330106', status: 'valid', ...year },
        ['certificates_dept_region_issued', 'certificates_dept_status_issued'],
      ],
      [
        { departments: [market], typeCode: entityType.code, region: '330106' },
        ['certificates_type_dept_issued', 'certificates_dept_region_issued'],
      ],
    ];
    for (const [query, allowed] of combos) {
      for (const p of await plans(query)) {
        assert.ok(p.key && allowed.includes(p.key), JSON.stringify(p));
        assert.ok(p.type !== 'ALL' && !/filesort/i.test(p.Extra ?? ''), JSON.stringify(p));
      }
    }
  });

  it('every department in the scope gets its own indexed query (no IN-list sort)', async () => {
    const all = await plans({ typeCode: entityType.code, departments: null });
    assert.equal(all.length, departments.length);
    assert.ok(all.every((p) => p.key === 'certificates_type_dept_issued' && !/filesort/i.test(p.Extra ?? '')));
  });

  it('statistics: a range over the covering index, no table rows read', async () => {
    const p = await explain(statsQuery(t.db, { departments: [market, departments[2]!.code], ...year }));
    assert.equal(p.key, 'certificates_stats', JSON.stringify(p));
    assert.equal(p.type, 'range');
    assert.match(p.Extra ?? '', /Using index/);
    const everything = await explain(statsQuery(t.db, { departments: null }));
    assert.notEqual(
      everything.type,
      'ALL',
      `platform-wide statistics scan the index, not the table: ${JSON.stringify(everything)}`,
    );
  });

  it("the plans answer correctly too: the busiest holder's certificates, all of them", async () => {
    const page = await searchCatalog(t.db, { holderIdHash: busyPerson, departments: null, limit: 1000 });
    const [{ n }] = (await t.db('certificates').where({ holder_id_hash: busyPerson }).count({ n: '*' })) as [
      { n: number },
    ];
    assert.ok(Number(n) > 5, `holder 0 is busy (${n})`);
    assert.equal(page.items.length, Number(n));
  });
});
