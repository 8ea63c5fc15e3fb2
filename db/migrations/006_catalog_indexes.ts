import type { Knex } from 'knex';

/**
 * Indexes for the catalog queries (GET /certificates) and statistics (GET /stats) that
 * 005's indexes do not serve. Every catalog listing runs per department (the reader's scope
 * is a set of departments; db/catalog.ts fans out one query per department and merges), so
 * each listing index leads with `department` as an equality column and ends with
 * `issued_at`: the rows come out of the index already in the page order
 * (issued_at DESC, id DESC — InnoDB appends the primary key) and a keyset page reads
 * `limit + 1` index entries, never a sort over the whole match.
 *
 * - certificates_holder_issued (holder_id_hash, issued_at): a holder's certificates in page
 *   order. 005's (holder_id_hash, type_code) finds them too, but then sorts all of them for
 *   every page — a few rows for most people, a thousand random row reads for a company with
 *   a thousand permits (the bench's busiest holder: 2 s cold). With this index a page reads
 *   `limit + 1` rows whoever the holder is; holder + type stays on 005's index.
 * - certificates_dept_issued (department, issued_at): a department's certificates over time
 *   with no type, status or region filter.
 * - certificates_dept_region_issued (department, region_code, issued_at): by region within a
 *   department. 005's (region_code, status, issued_at) only gives the page order when the
 *   status is fixed too.
 * - certificates_stats (department, issued_at, type_code, status): covering for the
 *   statistics GROUP BY — a department and an issue-date range give counts by type, status
 *   and month without reading a table row. It cannot also serve the listing above: the
 *   implicit id sits after type_code and status, so ties on issued_at would not come out in
 *   id order and MariaDB sorts the whole range instead (the plan test checks for that).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('certificates', (t) => {
    t.index(['holder_id_hash', 'issued_at'], 'certificates_holder_issued');
    t.index(['department', 'issued_at'], 'certificates_dept_issued');
    t.index(['department', 'region_code', 'issued_at'], 'certificates_dept_region_issued');
    t.index(['department', 'issued_at', 'type_code', 'status'], 'certificates_stats');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('certificates', (t) => {
    for (const name of [
      'certificates_holder_issued',
      'certificates_dept_issued',
      'certificates_dept_region_issued',
      'certificates_stats',
    ])
      t.dropIndex([], name);
  });
}
