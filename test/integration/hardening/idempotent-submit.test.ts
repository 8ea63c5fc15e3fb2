import assert from 'node:assert/strict';
import { forEachDatabase, type TestDatabase } from '../../support/databases';
import { startTestApp, testConfig, testDeps, type TestApp } from '../../support/app';
import { temporalEnv } from '../../support/temporal';
import { uniqueSuffix } from '../../support/services';
import { seedDemo, seedDemoTypes } from '../../../db/seed-demo';
import { ensureDevelopmentTrust } from '../../../services/trust/seals';
import { LICENCE } from '../../support/issuance';

/**
 * One Idempotency-Key (or one externalRef) sent many times at once gives one application and
 * one workflow. On MariaDB the losers wait on the unique index until the winner commits, where
 * SQLite serialises the writers: both must answer the same (docs/security.md).
 */
forEachDatabase(
  'hardening: idempotent submit under concurrency',
  (get) => {
    let tdb: TestDatabase;
    let app: TestApp;
    let filler: string;
    // Its own task queue with no worker: the workflows start and wait; the test ends them.
    const taskQueue = `idempotent-${uniqueSuffix()}`;

    before(async () => {
      tdb = get();
      const base = testConfig({ taskQueue });
      const deps = testDeps(tdb.db, { config: base });
      await seedDemo(tdb.db, 'certflow-demo');
      await ensureDevelopmentTrust(deps);
      await seedDemoTypes(tdb.db, deps.blobs);
      app = await startTestApp({ db: tdb.db, temporal: (await temporalEnv()).client, deps });
      filler = await app.login('market-filler');
    });
    // forEachDatabase drops the database before this runs: the workflows started are kept here.
    const started = new Set<string>();
    after(async () => {
      const client = (await temporalEnv()).client;
      for (const workflowId of started)
        await client.workflow
          .getHandle(workflowId)
          .terminate('test over')
          .catch(() => {});
      await app?.close();
    });

    const rowsWith = async (dedupe: RegExp) => {
      const rows = await tdb.db('applications').select('id', 'dedupe_key', 'workflow_id');
      for (const r of rows) started.add(r.workflow_id);
      return rows.filter((r) => dedupe.test(r.dedupe_key ?? ''));
    };

    it('ten parallel submissions with one Idempotency-Key: one 201, nine 200 with the same id, one row, one workflow', async () => {
      const headers = { 'idempotency-key': `parallel-${tdb.kind}` };
      const answers = await Promise.all(
        Array.from({ length: 10 }, () => app.fetch('/api/v1/applications', { token: filler, json: LICENCE, headers })),
      );
      const bodies = await Promise.all(answers.map(async (a) => ({ status: a.status, body: await a.text() })));
      const statuses = bodies.map((b) => b.status).sort();
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 200, 200, 200, 201], JSON.stringify(bodies));
      const ids = new Set(bodies.map((b) => (JSON.parse(b.body) as { id: string }).id));
      assert.equal(ids.size, 1);
      const rows = await rowsWith(new RegExp(`:key:parallel-${tdb.kind}$`));
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.id, [...ids][0]);
      const runs = [];
      const query = `WorkflowId = 'issuance-${rows[0]!.id}'`;
      for await (const w of (await temporalEnv()).client.workflow.list({ query })) runs.push(w);
      assert.equal(runs.length, 1);
      assert.equal(
        Number(
          (await tdb.db('application_revisions').where({ application_id: rows[0]!.id }).count({ n: '*' }).first())!.n,
        ),
        1,
      );
    });

    it('ten parallel submissions with one externalRef and no key: one application', async () => {
      const json = { ...LICENCE, externalRef: `ref-${tdb.kind}-${uniqueSuffix()}` };
      const answers = await Promise.all(
        Array.from({ length: 10 }, () => app.fetch('/api/v1/applications', { token: filler, json })),
      );
      const statuses = answers.map((a) => a.status).sort();
      assert.equal(statuses.filter((s) => s === 201).length, 1, statuses.join(','));
      assert.equal(statuses.filter((s) => s === 200).length, 9, statuses.join(','));
      assert.equal((await rowsWith(new RegExp(`:ref:${json.externalRef}$`))).length, 1);
    });
  },
  { timeoutMs: 90_000 },
);
