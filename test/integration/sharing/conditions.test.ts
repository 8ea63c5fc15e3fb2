import assert from 'node:assert/strict';
import { json } from '../../support/issuance';
import { sharingHarness, type SharingHarness } from '../../support/sharing';
import { fetchAccess } from '../../../services/sharing/policy';
import { getCertificate } from '../../../db/certificates';
import type { Actor } from '../../../domain/access';

/**
 * Sharing conditions per certificate type (docs/sharing.md): set by the issuing department's
 * admin, audited, shown in catalog entries, and the one fetch decision (services/sharing/policy.ts).
 */
describe('sharing conditions', function () {
  this.timeout(180_000);
  let h: SharingHarness;
  let number: string;
  const holderId = '91350100M000100Y43';

  before(async () => {
    h = await sharingHarness('sqlite');
    number = await h.issue();
  });
  after(async () => h?.close());

  it("is set by the issuing department's admin only, audited, with a clear 4xx for bad input", async () => {
    const market = await h.app.login('market-admin');
    const health = await h.app.login('health-admin');
    const path = '/api/v1/certificate-types/BL/sharing';
    const set = await json<{ sharing: string; zh: string }>(
      await h.app.fetch(path, { method: 'PUT', token: market, json: { sharing: 'unconditional' } }),
      200,
    );
    assert.deepEqual([set.sharing, set.zh], ['unconditional', '无条件共享']);
    assert.equal(
      (await h.app.fetch(path, { method: 'PUT', token: health, json: { sharing: 'not-shared' } })).status,
      403,
    );
    const bad = await h.app.fetch(path, { method: 'PUT', token: market, json: { sharing: 'sometimes' } });
    assert.equal(bad.status, 422);
    assert.match(await bad.text(), /sharing/);
    assert.equal(
      (
        await h.app.fetch('/api/v1/certificate-types/ZZ/sharing', {
          method: 'PUT',
          token: market,
          json: { sharing: 'conditional' },
        })
      ).status,
      404,
    );
    const type = await json<{ sharing: string }>(
      await h.app.fetch('/api/v1/certificate-types/BL', { token: market }),
      200,
    );
    assert.equal(type.sharing, 'unconditional');
    const audit = await h.t.db('audit_log').where({ action: 'certificate-type.sharing' }).orderBy('seq');
    const rows = audit.map((a: { outcome: string; object_id: string | null }) => `${a.outcome}:${a.object_id}`);
    assert.equal(rows.filter((r: string) => r.startsWith('success')).join(), 'success:BL');
    // The other department's attempt is recorded as a refused authorization.
    const refused = await h.t
      .db('audit_log')
      .where({ category: 'authorization', actor_name: 'health-admin', outcome: 'denied' })
      .first();
    assert.ok(refused, 'the refusal is audited');
  });

  it("shows the condition in another department's catalog entry", async () => {
    const handler = await h.app.login('health-handler');
    const q = `/api/v1/certificates?holderId=${holderId}&reason=${encodeURIComponent('办理食品经营许可')}`;
    const page = await json<{
      items: { number: string; access: string; sharing: { condition: string; zh: string } }[];
    }>(await h.app.fetch(q, { token: handler }), 200);
    const e = page.items.find((i) => i.number === number)!;
    assert.equal(e.access, 'catalog-only');
    assert.deepEqual([e.sharing.condition, e.sharing.zh], ['unconditional', '无条件共享']);
  });

  it('decides fetch in one place: unconditional, conditional (grant), not-shared', async () => {
    const cert = (await getCertificate(h.t.db, number))!;
    const handler: Actor = {
      kind: 'user',
      id: 99,
      username: 'h',
      displayName: 'h',
      roles: [{ role: 'handler', department: 'health' }],
    };
    await h.setSharing('BL', 'unconditional');
    assert.deepEqual(
      [
        (await fetchAccess(h.deps, handler, cert)).allowed,
        ((await fetchAccess(h.deps, handler, cert)) as { basis: string }).basis,
      ],
      [true, 'unconditional'],
    );
    await h.setSharing('BL', 'conditional');
    const refused = await fetchAccess(h.deps, handler, cert);
    assert.equal(refused.allowed, false);
    assert.equal((refused as { needsRequest: boolean }).needsRequest, true);
    await h.t.db('holder_grants').insert({
      id: '00000000-0000-4000-8000-000000000001',
      certificate_number: number,
      holder_hash: cert.holderIdHash,
      department: 'health',
      api_client_id: null,
      matter: '办理食品经营许可',
      valid_until: new Date(Date.now() + 3_600_000),
      status: 'active',
      granted_by: 'test',
      created_at: new Date(),
      ended_at: null,
    });
    const granted = await fetchAccess(h.deps, handler, cert);
    assert.equal(
      granted.allowed && granted.basis === 'grant' && granted.grant.id,
      '00000000-0000-4000-8000-000000000001',
    );
    await h.setSharing('BL', 'not-shared');
    const never = await fetchAccess(h.deps, handler, cert);
    assert.deepEqual([never.allowed, (never as { needsRequest: boolean }).needsRequest], [false, false]);
    await h.setSharing('BL', 'conditional');
  });
});
