import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import { forEachDatabase } from '../../support/databases';
import { startTestApp, testWarmConverter, type TestApp } from '../../support/app';
import { createApplication, FACE_DATA, issue, setupSealing, type Issued, type SealingSetup } from '../sealing/helpers';
import { createType, setTypeStatus } from '../../../db/certificate-types';
import { getDepartment } from '../../../db/org';
import { DEMO_TYPES } from '../../../db/seed-demo';
import { migrationContext } from '../../../db/migrations/context';
import * as m010 from '../../../db/migrations/010_face_id_encryption';
import { createFaceCrypto } from '../../../platform/face-crypto';
import type { VerificationReport } from '../../../services/verify';
import { residentIdCheckChar } from '../../../domain/check-digits';

/**
 * Issue #19, data protection of issued certificates (docs/security.md, "Personal data and
 * compare"), over HTTP on SQLite and MariaDB: the compare budget, the public mask, resident IDs
 * in face data encrypted at rest and masked unless revealed, migration 010, and the public
 * verify refusing records it cannot faithfully check.
 */
const PERSON_ID = '11010519491231002X';
const AGENT_ID = '330106199003071236';

forEachDatabase('data protection of certificates, compare and verify', (get) => {
  let s: SealingSetup;
  let app: TestApp;
  let person: Issued;
  let other: Issued;
  let agent: Issued;
  const tokens: Record<string, string> = {};

  before(async function () {
    this.timeout(90_000);
    const { db } = get();
    await testWarmConverter().start();
    s = await setupSealing(db, testWarmConverter());
    // A person-held type whose face carries a second resident ID (an agent's).
    const bl = DEMO_TYPES[0]!;
    const template = (await db('certificate_type_versions').orderBy('id').first('template_sha256'))
      .template_sha256 as string;
    await createType(db, {
      code: 'PA',
      departmentId: (await getDepartment(db, 'market'))!.id,
      definition: {
        ...structuredClone(bl.definition),
        name: '代理资格证',
        holderKind: 'person',
        holderIdField: undefined,
        holderNameField: undefined,
        faceFields: [
          ...bl.definition.faceFields,
          { key: 'agentId', label: '代理人身份证号', type: 'idNumber', required: true },
        ],
      },
      templateSha256: template,
      createdBy: 'test',
    });
    await setTypeStatus(db, 'PA', 'published', 1);
    const holder = { kind: 'person' as const, id: PERSON_ID, name: '张三丰' };
    person = await issue(s, await createApplication(db, s.deps.masterKey, { typeCode: 'PQ', holder }));
    other = await issue(s, await createApplication(db, s.deps.masterKey, { typeCode: 'PQ', holder }));
    const faceData = { ...FACE_DATA.BL, agentId: AGENT_ID };
    agent = await issue(s, await createApplication(db, s.deps.masterKey, { typeCode: 'PA', holder, faceData }));
    const compare = { maxFailuresPerCaller: 5, maxFailuresPerCertificate: 8 };
    const config = { ...s.deps.config, verify: { rateLimitPerMinute: 100_000 }, compare };
    app = await startTestApp({ db, temporal: {} as Client, deps: { ...s.deps, config }, config });
    for (const u of ['market-handler', 'market-reviewer', 'market-admin', 'health-handler', 'health-admin'])
      tokens[u] = await app.login(u);
  });
  after(() => app?.close());

  const compare = (n: string, fields: Record<string, unknown>, token: string) =>
    app.fetch(`/api/v1/certificates/${n}/compare`, { token, json: { reason: '核验身份', fields } });
  /** The birth-date guesses the finding describes: valid resident IDs, all but one wrong. */
  const guess = (day: number) => {
    const first17 = `1101051949${String(1 + Math.floor(day / 28)).padStart(2, '0')}${String(1 + (day % 28)).padStart(2, '0')}002`;
    return first17 + residentIdCheckChar(first17);
  };

  describe('compare has an attempt budget', () => {
    it('a caller gets 5 answers with a "no" per certificate a day, then 429 and one alert for the audit admin', async () => {
      const token = tokens['health-handler']!;
      for (let i = 0; i < 5; i++) {
        const r = await compare(person.number, { holderId: guess(i) }, token);
        assert.equal(r.status, 200, await r.clone().text());
        assert.deepEqual(((await r.json()) as { results: unknown }).results, { holderId: { match: false } });
      }
      for (let i = 5; i < 8; i++) {
        assert.equal((await compare(person.number, { holderId: guess(i) }, token)).status, 429);
      }
      // Even the right number is not answered any more today: the oracle is closed.
      assert.equal((await compare(person.number, { holderId: PERSON_ID }, token)).status, 429);
      const alerts = await get()
        .db('audit_log')
        .where({ category: 'authorization', action: 'compare.budget-exceeded', object_id: person.number });
      assert.equal(alerts.length, 1, 'one alert, not one per refused request');
      assert.equal(alerts[0].actor_name, 'health-handler');
      // Another certificate, another budget; matching answers do not spend it.
      for (let i = 0; i < 8; i++) {
        assert.equal((await compare(other.number, { holderId: PERSON_ID }, token)).status, 200);
      }
    });

    it('all callers together get 8 "no" answers per certificate (the global cap)', async () => {
      // health-handler has spent 5 on `person`; market-handler may add 3 before the cap.
      const token = tokens['market-handler']!;
      for (let i = 0; i < 3; i++) {
        assert.equal((await compare(person.number, { holderId: guess(10 + i) }, token)).status, 200);
      }
      const r = await compare(person.number, { holderId: guess(20) }, token);
      assert.equal(r.status, 429);
      assert.match(((await r.json()) as { detail: string }).detail, /callers have made 8/);
      const alerts = await get().db('audit_log').where({ action: 'compare.budget-exceeded', object_id: person.number });
      assert.equal(alerts.length, 2);
    });

    it('counts atomically: 12 parallel wrong guesses by a new caller get exactly 5 answers', async () => {
      const key = await app.fetch('/api/v1/api-clients', {
        token: tokens['health-admin'],
        json: { name: '并发比对系统', department: 'health', scopes: ['certificates:compare'] },
      });
      const apiKey = ((await key.json()) as { apiKey: string }).apiKey;
      const statuses = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          app
            .fetch(`/api/v1/certificates/${other.number}/compare`, {
              apiKey,
              json: { reason: '并发', fields: { holderId: guess(30 + i) } },
            })
            .then((r) => r.status),
        ),
      );
      assert.equal(statuses.filter((x) => x === 200).length, 5, statuses.join());
      assert.equal(statuses.filter((x) => x === 429).length, 7, statuses.join());
    });
  });

  describe('the public face shows as little of a resident ID as it can', () => {
    it('anonymous: first 2 and last 2; staff who may read the certificate: the staff mask', async () => {
      const pub = (await (await app.fetch(`/api/v1/verify/${person.number}`)).json()) as VerificationReport;
      assert.equal(pub.certificate?.holder.idMasked, '11**************2X');
      const staff = (await (
        await app.fetch(`/api/v1/verify/${person.number}`, { token: tokens['market-handler'] })
      ).json()) as VerificationReport;
      assert.equal(staff.certificate?.holder.idMasked, '110105********002X');
      const outsider = (await (
        await app.fetch(`/api/v1/verify/${person.number}`, { token: tokens['health-handler'] })
      ).json()) as VerificationReport;
      assert.equal(outsider.certificate?.holder.idMasked, '11**************2X');
    });
  });

  describe('resident IDs in face data', () => {
    it('are stored encrypted in the certificate, masked in responses, revealed with an audited reason; the record keeps the mask', async () => {
      const { db } = get();
      const row = await db('certificates').where({ number: agent.number }).first('face_data', 'record');
      assert.ok(!row.face_data.includes(AGENT_ID), 'the certificate row holds the ID in clear');
      assert.equal(
        JSON.parse(row.record).faceData.agentId,
        '330106********1236',
        'the signed record keeps the masked form',
      );
      const token = tokens['market-handler']!;
      const masked = (await (await app.fetch(`/api/v1/certificates/${agent.number}`, { token })).json()) as {
        faceData: Record<string, string>;
      };
      assert.equal(masked.faceData.agentId, '330106********1236');
      const full = (await (
        await app.fetch(`/api/v1/certificates/${agent.number}?reveal=holderId`, { token })
      ).json()) as { faceData: Record<string, string> };
      assert.equal(full.faceData.agentId, AGENT_ID);
      const r = await compare(agent.number, { agentId: AGENT_ID }, token);
      assert.equal(r.status, 200, await r.clone().text());
      assert.deepEqual(((await r.json()) as { results: unknown }).results, { agentId: { match: true } });
    });

    it('the preview accepts the masked form the task page shows', async () => {
      const faceData = { ...FACE_DATA.BL, agentId: '330106********1236' };
      const r = await app.fetch('/api/v1/certificate-types/PA/preview?format=docx', {
        token: tokens['market-admin'],
        json: { faceData },
      });
      assert.equal(r.status, 200, await r.clone().text());
      const bad = await app.fetch('/api/v1/certificate-types/PA/preview?format=docx', {
        token: tokens['market-admin'],
        json: { faceData: { ...faceData, agentId: '330106' } },
      });
      assert.equal(bad.status, 422);
    });

    it('migration 010 encrypts rows stored before it, only idNumber fields, once; it refuses without the master key', async () => {
      const { db } = get();
      const appId = await createApplication(db, s.deps.masterKey, {
        typeCode: 'PA',
        holder: { kind: 'person', id: PERSON_ID, name: '张三丰' },
        faceData: { ...FACE_DATA.BL, agentId: AGENT_ID },
      });
      await db('certificates')
        .where({ number: agent.number })
        .update({ face_data: JSON.stringify({ ...FACE_DATA.BL, agentId: AGENT_ID }) });
      await assert.rejects(() => db.transaction((trx) => m010.up(trx)), /needs the master key/);
      migrationContext.masterKey = s.deps.masterKey;
      try {
        await db.transaction((trx) => m010.up(trx));
        const rev = JSON.parse(
          (await db('application_revisions').where({ application_id: appId }).first('face_data')).face_data,
        );
        const cert = JSON.parse(
          (await db('certificates').where({ number: agent.number }).first('face_data')).face_data,
        );
        for (const data of [rev, cert]) {
          assert.match(data.agentId, /^f1:/);
          assert.equal(createFaceCrypto(s.deps.masterKey).decrypt(data.agentId), AGENT_ID);
          assert.equal(data.legalRepresentative, FACE_DATA.BL!.legalRepresentative);
        }
        await db.transaction((trx) => m010.up(trx));
        const again = JSON.parse(
          (await db('certificates').where({ number: agent.number }).first('face_data')).face_data,
        );
        assert.equal(again.agentId, cert.agentId, 'a second run changes nothing');
      } finally {
        migrationContext.masterKey = undefined;
      }
    });
  });

  describe('the public verify refuses what it cannot faithfully check', () => {
    const problem = async (r: Response, status: number) => {
      assert.equal(r.status, status, await r.clone().text());
      return (await r.json()) as { errors?: { field: string; message: string }[] };
    };

    it('a record nested 100 000 deep is a 4xx, as an object and as text', async () => {
      const deep = '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000);
      const asText = await app.fetch('/api/v1/verify', { json: { record: deep, signature: 'AAAA' } });
      assert.ok(asText.status >= 400 && asText.status < 500, String(asText.status));
      const asObject = await app.fetch('/api/v1/verify', {
        method: 'POST',
        body: `{"signature":"AAAA","record":${deep}}`,
        headers: { 'content-type': 'application/json' },
      });
      assert.ok(asObject.status >= 400 && asObject.status < 500, String(asObject.status));
      assert.ok((await app.fetch(`/api/v1/verify/${person.number}`)).status === 200, 'still serving');
    });

    it('a record text with a key twice is refused, naming the record; the exact signed bytes verify', async () => {
      const rec = (await (
        await app.fetch(`/api/v1/certificates/${person.number}/record`, { token: tokens['market-handler'] })
      ).json()) as {
        canonical: string;
        signature: string;
      };
      const dup = rec.canonical.replace('{"document":', '{"number":"BL-330100-2099-0000001-X","document":');
      const p = await problem(
        await app.fetch('/api/v1/verify', { json: { record: dup, signature: rec.signature } }),
        422,
      );
      assert.deepEqual(
        p.errors?.map((e) => e.field),
        ['record'],
      );
      assert.match(p.errors![0]!.message, /twice/);
      const ok = (await (
        await app.fetch('/api/v1/verify', { json: { record: rec.canonical, signature: rec.signature } })
      ).json()) as VerificationReport;
      assert.equal(ok.verdict, 'valid');
    });
  });
});
