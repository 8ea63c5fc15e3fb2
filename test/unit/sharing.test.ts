import assert from 'node:assert/strict';
import type { Actor } from '../../domain/access';
import { fetchPrecheck, grantAllowsFetch, fetchingDepartments } from '../../domain/sharing';

/** The pure half of the fetch decision (domain/sharing.ts; docs/sharing.md). */
describe('sharing rules', () => {
  const handler = (department: string): Actor => ({
    kind: 'user',
    id: 1,
    username: `${department}-handler`,
    displayName: '经办员',
    roles: [{ role: 'handler', department }],
  });
  const reviewer: Actor = {
    kind: 'user',
    id: 2,
    username: 'r',
    displayName: 'r',
    roles: [{ role: 'reviewer', department: 'health' }],
  };
  const system = (scopes: ('certificates:fetch' | 'certificates:read')[]): Actor => ({
    kind: 'api-client',
    id: 'sys-1',
    name: '业务系统',
    department: 'health',
    scopes,
  });
  const target = { department: 'market', status: 'valid' };

  it('lets handlers and fetch-scoped business systems fetch, nobody else', () => {
    assert.deepEqual(fetchingDepartments(handler('health')), ['health']);
    assert.deepEqual(fetchingDepartments(system(['certificates:fetch'])), ['health']);
    assert.deepEqual(fetchingDepartments(system(['certificates:read'])), []);
    assert.deepEqual(fetchingDepartments(reviewer), []);
    const r = fetchPrecheck(system(['certificates:read']), { ...target, sharing: 'unconditional' });
    assert.deepEqual(r.decision, { allowed: false, reason: 'API client lacks scope certificates:fetch' });
  });

  it('decides by the sharing condition, and only for valid certificates', () => {
    const a = handler('health');
    assert.equal(fetchPrecheck(a, { ...target, sharing: 'unconditional' }).decision.allowed, true);
    const c = fetchPrecheck(a, { ...target, sharing: 'conditional' });
    assert.equal(c.decision.allowed, false);
    assert.equal(c.needsGrant, true);
    const n = fetchPrecheck(a, { ...target, sharing: 'not-shared' });
    assert.equal(n.needsGrant, false);
    assert.match((n.decision as { reason: string }).reason, /not shared/);
    const revoked = fetchPrecheck(a, { ...target, status: 'revoked', sharing: 'unconditional' });
    assert.match((revoked.decision as { reason: string }).reason, /revoked/);
  });

  it('honours a grant for its department, until its end, and only the named system', () => {
    const now = new Date('2026-06-01T00:00:00Z');
    const grant = {
      department: 'health',
      apiClientId: null,
      status: 'active' as const,
      validUntil: '2026-06-02T00:00:00Z',
    };
    assert.equal(grantAllowsFetch(handler('health'), grant, now).allowed, true);
    assert.equal(grantAllowsFetch(handler('market'), grant, now).allowed, false);
    assert.equal(grantAllowsFetch(handler('health'), grant, new Date('2026-06-02T00:00:00Z')).allowed, false);
    assert.equal(grantAllowsFetch(handler('health'), { ...grant, status: 'expired' }, now).allowed, false);
    const named = { ...grant, apiClientId: 'sys-2' };
    assert.equal(grantAllowsFetch(system(['certificates:fetch']), named, now).allowed, false);
    assert.equal(
      grantAllowsFetch(system(['certificates:fetch']), { ...named, apiClientId: 'sys-1' }, now).allowed,
      true,
    );
    assert.equal(grantAllowsFetch(handler('health'), named, now).allowed, false);
  });
});
