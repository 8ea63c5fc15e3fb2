import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { forEachDatabase, type TestDatabase } from '../../support/databases';
import { startTestApp, testConfig, testDeps, type TestApp } from '../../support/app';
import { temporalEnv } from '../../support/temporal';
import { uniqueSuffix } from '../../support/services';
import { seedDemo, seedDemoTypes, DEMO_TYPES } from '../../../db/seed-demo';
import { addTypeVersion, getType, getTypeVersion, setTypeStatus } from '../../../db/certificate-types';
import { ensureDevelopmentTrust } from '../../../services/trust/seals';
import { warnAboutStaleTypeDefinitions } from '../../../services/type-definitions';
import { LICENCE } from '../../support/issuance';

type Problem = { status: number; detail: string; errors?: { field: string; message: string }[] };

/**
 * A type saved before the ReDoS check (docs/security.md) still has `(a+)+b` in the database:
 * the pattern is never run, submissions answer 422 naming the field, the pattern and the fix,
 * operators see the type in the log and admins in the API, and saving the type again heals it.
 */
forEachDatabase(
  'hardening: types stored with a pattern that is now refused',
  (get) => {
    let tdb: TestDatabase;
    let app: TestApp;
    let filler: string;
    let admin: string;
    const bl = DEMO_TYPES.find((t) => t.code === 'BL')!;
    const field = 'businessScope';
    const taskQueue = `stale-${uniqueSuffix()}`;
    const started: string[] = [];

    before(async () => {
      tdb = get();
      const deps = testDeps(tdb.db, { config: testConfig({ taskQueue }) });
      await seedDemo(tdb.db, 'certflow-demo');
      await ensureDevelopmentTrust(deps);
      await seedDemoTypes(tdb.db, deps.blobs);
      // Straight into the database, as a save before the check would have left it.
      const summary = (await getType(tdb.db, 'BL'))!;
      const v = (await getTypeVersion(tdb.db, 'BL', summary.latestVersion))!;
      const definition = structuredClone(bl.definition);
      const at = definition.faceFields.findIndex((f) => f.key === field);
      assert.ok(at >= 0 && definition.faceFields[at]!.type === 'text');
      Object.assign(definition.faceFields[at]!, { pattern: '(a+)+b', maxLength: 100 });
      const saved = await addTypeVersion(tdb.db, 'BL', {
        expectedVersion: v.version,
        definition,
        templateSha256: v.templateSha256,
        createdBy: 'before-the-check',
      });
      assert.ok(saved);
      await setTypeStatus(tdb.db, 'BL', 'published', saved);
      app = await startTestApp({ db: tdb.db, temporal: (await temporalEnv()).client, deps });
      filler = await app.login('market-filler');
      admin = await app.login('market-admin');
    });
    after(async () => {
      const client = (await temporalEnv()).client;
      for (const id of started)
        await client.workflow
          .getHandle(id)
          .terminate('test over')
          .catch(() => {});
      await app?.close();
    });

    it('answers a submission 422 naming the field, the pattern and the fix, quickly and without writing', async () => {
      // 34 characters that make (a+)+b backtrack for tens of seconds, if it were ever run.
      const json = { ...LICENCE, faceData: { ...LICENCE.faceData, [field]: 'a'.repeat(34) } };
      const t0 = Date.now();
      const r = await app.fetch('/api/v1/applications', { token: filler, json });
      const took = Date.now() - t0;
      assert.equal(r.status, 422, await r.clone().text());
      const body = (await r.json()) as Problem;
      assert.deepEqual(
        body.errors!.map((e) => e.field),
        [`faceData.${field}`],
      );
      assert.match(body.errors![0]!.message, /faceFields\.\d+\.pattern/);
      assert.match(body.errors![0]!.message, /\(a\+\)\+b/);
      assert.match(body.errors![0]!.message, /nested quantifiers/);
      assert.match(body.errors![0]!.message, /save the type again/);
      assert.ok(took < 5000, `answered in ${took} ms`);
      assert.equal(Number((await tdb.db('applications').count({ n: '*' }).first())!.n), 0);
    });

    it('lists the type for its admins and in the log; the type detail marks it', async () => {
      const r = await app.fetch('/api/v1/certificate-type-problems', { token: admin });
      assert.equal(r.status, 200, await r.clone().text());
      const { items } = (await r.json()) as {
        items: { code: string; published: boolean; problems: { key: string }[] }[];
      };
      assert.deepEqual(
        items.map((i) => [i.code, i.published, i.problems.map((p) => p.key)]),
        [['BL', true, [field]]],
      );
      assert.equal((await app.fetch('/api/v1/certificate-type-problems', { token: filler })).status, 403);
      const health = await app.login('health-admin');
      const other = (await (await app.fetch('/api/v1/certificate-type-problems', { token: health })).json()) as {
        items: unknown[];
      };
      assert.deepEqual(other.items, [], 'another department sees none of it');

      const detail = (await (await app.fetch('/api/v1/certificate-types/BL', { token: admin })).json()) as {
        definitionProblems: { key: string }[];
      };
      assert.deepEqual(
        detail.definitionProblems.map((p) => p.key),
        [field],
      );

      const lines: { level: number; msg: string; typeCode?: string }[] = [];
      const sink = new Writable({
        write(chunk, _enc, done) {
          for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
          done();
        },
      });
      await warnAboutStaleTypeDefinitions(tdb.db, pino({ level: 'info' }, sink));
      const warned = lines.filter((l) => l.level === 40);
      assert.deepEqual(
        warned.map((l) => l.typeCode),
        ['BL'],
      );
      assert.match(warned[0]!.msg, /BL version \d+ .*faceFields\.\d+\.pattern/);
    });

    it('is healed by saving the type again with a safe pattern', async () => {
      const definition = structuredClone(bl.definition);
      const r = await app.fetch('/api/v1/certificate-types/BL', { method: 'PUT', token: admin, json: definition });
      assert.equal(r.status, 200, await r.clone().text());
      const published = (await getType(tdb.db, 'BL'))!.latestVersion;
      const p = await app.fetch('/api/v1/certificate-types/BL/publish', { token: admin, json: {} });
      assert.equal(p.status, 200, await p.clone().text());
      assert.equal((await getType(tdb.db, 'BL'))!.publishedVersion, published);
      const list = (await (await app.fetch('/api/v1/certificate-type-problems', { token: admin })).json()) as {
        items: unknown[];
      };
      assert.deepEqual(list.items, []);
      const s = await app.fetch('/api/v1/applications', { token: filler, json: LICENCE });
      assert.equal(s.status, 201, await s.clone().text());
      started.push(`issuance-${((await s.json()) as { id: string }).id}`);
    });
  },
  { timeoutMs: 120_000 },
);
