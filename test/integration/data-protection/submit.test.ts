import assert from 'node:assert/strict';
import { issuanceHarness, json, LICENCE, waitForTask, type IssuanceHarness } from '../../support/issuance';
import { requireService, TEST_MYSQL_URL } from '../../support/services';
import { createType, setTypeStatus } from '../../../db/certificate-types';
import { getDepartment } from '../../../db/org';
import { DEMO_TYPES } from '../../../db/seed-demo';

const AGENT_ID = '330106199003071236';

/**
 * Issue #19, data protection at submit and amend (docs/security.md, "Personal data and
 * compare"), through the HTTP API with a real worker, on SQLite and MariaDB: the face cannot
 * name another holder, unprintable text is refused before it costs a certificate number, and
 * a refused amendment leaves no revision behind.
 */
type Problem = { status: number; detail: string; errors?: { field: string; message: string }[] };

for (const kind of ['sqlite', 'mysql'] as const) {
  describe(`submit and amend: holder agreement, printable text, nothing left by a refusal [${kind}]`, function () {
    this.timeout(120_000);
    let h: IssuanceHarness;
    let filler = '';

    before(async function () {
      try {
        h = await issuanceHarness(kind);
      } catch (err) {
        if (kind === 'mysql') requireService(this, `MariaDB at ${TEST_MYSQL_URL}`, err);
        throw err;
      }
      filler = await h.app.login('market-filler');
    });
    after(() => h?.close());

    const submit = (body: unknown) => h.app.fetch('/api/v1/applications', { token: filler, json: body });
    const fields = async (r: Response, status = 422) => {
      const p = await json<Problem>(r, status);
      return (p.errors ?? []).map((e) => e.field).sort();
    };

    it('refuses face data that names another holder than the application (422 naming the fields)', async () => {
      const before = await h.t.db('applications').count({ n: '*' }).first();
      const holder = { kind: 'entity', id: '91350100M000100Y43', name: '甲公司' };
      const faceData = { ...LICENCE.faceData, entityName: '乙公司', creditCode: '91110000600037341L' };
      assert.deepEqual(await fields(await submit({ ...LICENCE, holder, faceData })), [
        'faceData.creditCode',
        'faceData.entityName',
      ]);
      // The credit code agrees, the name does not: only the name is named.
      const nameOnly = { ...LICENCE, faceData: { ...LICENCE.faceData, entityName: '乙公司' } };
      assert.deepEqual(await fields(await submit(nameOnly)), ['faceData.entityName']);
      assert.deepEqual(await h.t.db('applications').count({ n: '*' }).first(), before, 'nothing was written');
      // The same ID spelled in lower case is the same holder.
      const lower = { ...LICENCE, holder: { ...LICENCE.holder, id: LICENCE.holder.id.toLowerCase() } };
      await json(await submit(lower), 201);
    });

    it('refuses NUL, C0 control characters and lone surrogates in face data and holder names at submit', async () => {
      const bad = ['张\u0000三', '张\u0007三', '张\u001b三', '张\uD800三', '\uDC00张三'];
      for (const value of bad) {
        const r = await submit({ ...LICENCE, faceData: { ...LICENCE.faceData, legalRepresentative: value } });
        assert.deepEqual(await fields(r), ['faceData.legalRepresentative'], JSON.stringify(value));
      }
      const list = await submit({
        typeCode: 'FBP',
        holder: LICENCE.holder,
        faceData: {
          operatorName: LICENCE.holder.name,
          creditCode: LICENCE.holder.id,
          legalRepresentative: '张三',
          address: '杭州市',
          premises: '杭州市',
          businessFormat: '餐饮服务经营者',
          businessItems: ['热食类食品制售', '冷食\u0000类'],
        },
      });
      assert.deepEqual(await fields(list), ['faceData.businessItems']);
      const name = await submit({ ...LICENCE, holder: { ...LICENCE.holder, name: '杭州\u0000' } });
      assert.deepEqual(await fields(name), ['holder.name']);
      // Line breaks and tabs print: they stay allowed.
      await json(
        await submit({
          ...LICENCE,
          faceData: { ...LICENCE.faceData, businessScope: '软件开发；\n信息技术\t咨询服务。' },
        }),
        201,
      );
    });

    it('a refused amendment writes no revision; bad text and another holder are refused at amend too', async () => {
      const { id } = await json<{ id: string }>(await submit(LICENCE), 201);
      await waitForTask(h.app, filler, id);
      const revisions = async () => (await h.t.db('application_revisions').where({ application_id: id })).length;
      // In review, not returned: the workflow refuses the amendment.
      const refused = await h.app.fetch(`/api/v1/applications/${id}/amend`, {
        token: filler,
        json: { faceData: LICENCE.faceData },
      });
      assert.ok([409, 422].includes(refused.status), `${refused.status} ${await refused.clone().text()}`);
      assert.equal(await revisions(), 1, 'the refused amendment left a revision row');
      const control = { ...LICENCE.faceData, address: '杭州\u0008市' };
      assert.deepEqual(
        await fields(
          await h.app.fetch(`/api/v1/applications/${id}/amend`, { token: filler, json: { faceData: control } }),
        ),
        ['faceData.address'],
      );
      const other = { ...LICENCE.faceData, creditCode: '91110000600037341L' };
      assert.deepEqual(
        await fields(
          await h.app.fetch(`/api/v1/applications/${id}/amend`, { token: filler, json: { faceData: other } }),
        ),
        ['faceData.creditCode'],
      );
      assert.equal(await revisions(), 1);
    });

    it('resident IDs in face data: encrypted in the revision, masked by default, revealed only with an audited reason', async () => {
      const bl = DEMO_TYPES[0]!;
      const template = await h.t.db('certificate_type_versions').orderBy('id').first('template_sha256');
      const faceFields = [
        ...bl.definition.faceFields,
        { key: 'agentId', label: '代理人身份证号', type: 'idNumber' as const, required: true },
      ];
      const dept = (await getDepartment(h.t.db, 'market'))!;
      await createType(h.t.db, {
        code: 'PB',
        departmentId: dept.id,
        definition: { ...bl.definition, faceFields },
        templateSha256: template.template_sha256,
        createdBy: 'test',
      });
      await setTypeStatus(h.t.db, 'PB', 'published', 1);
      const body = { ...LICENCE, typeCode: 'PB', faceData: { ...LICENCE.faceData, agentId: AGENT_ID.toLowerCase() } };
      const { id } = await json<{ id: string }>(await submit(body), 201);
      const stored = (await h.t.db('application_revisions').where({ application_id: id }).first('face_data'))
        .face_data as string;
      assert.ok(!stored.includes(AGENT_ID) && !stored.includes('0307'), `in clear: ${stored}`);

      const reads = async () =>
        (await h.t.db('audit_log').where({ action: 'application.reveal', object_id: id })).length;
      const view = await json<{ faceData: Record<string, string>; holder: { id: string } }>(
        await h.app.fetch(`/api/v1/applications/${id}`, { token: filler }),
        200,
      );
      assert.equal(view.faceData.agentId, '330106********1236');
      const reviewer = await h.app.login('market-reviewer');
      assert.deepEqual(await fields(await h.app.fetch(`/api/v1/applications/${id}?reveal=true`, { token: reviewer })), [
        'reason',
      ]);
      assert.equal(await reads(), 0);
      const full = await json<{ faceData: Record<string, string>; holder: { id: string } }>(
        await h.app.fetch(`/api/v1/applications/${id}?reveal=true&reason=${encodeURIComponent('核对代理人身份')}`, {
          token: reviewer,
        }),
        200,
      );
      assert.deepEqual([full.faceData.agentId, full.holder.id], [AGENT_ID, LICENCE.holder.id]);
      const audit = await h.t
        .db('audit_log')
        .where({ action: 'application.reveal', object_id: id })
        .first('actor_name', 'detail');
      assert.equal(audit.actor_name, 'market-reviewer');
      assert.match(audit.detail, /核对代理人身份/);
      const task = await waitForTask(h.app, filler, id);
      const detail = await json<{ application: { faceData: Record<string, string> } }>(
        await h.app.fetch(`/api/v1/tasks/${task}`, { token: reviewer }),
        200,
      );
      assert.equal(detail.application.faceData.agentId, '330106********1236', 'the task page shows the mask');
    });
  });
}
