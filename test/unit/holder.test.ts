import assert from 'node:assert/strict';
import { grantPermits, mayRedeemShowCode, type Actor, type GrantTerms } from '../../domain/access';
import { loadConfig, type ConfigError } from '../../platform/config';
import { holderFromClaims } from '../../services/holder/sign-in';

const handler = (department: string): Actor => ({
  kind: 'user',
  id: 1,
  username: 'h',
  displayName: 'h',
  roles: [{ role: 'handler', department }],
});
const system = (department: string, id = 'sys'): Actor => ({
  kind: 'api-client',
  id,
  name: 'sys',
  department,
  scopes: ['certificates:read'],
});
const grant = (over: Partial<GrantTerms> = {}): GrantTerms => ({
  department: 'health',
  apiClientId: null,
  status: 'active',
  validUntil: '2030-01-01T00:00:00Z',
  ...over,
});
const now = new Date('2029-06-01T00:00:00Z');

describe('holder portal rules', () => {
  it('a grant lets the granted department’s handlers and business systems in, nobody else', () => {
    assert.equal(grantPermits(handler('health'), grant(), now).allowed, true);
    assert.equal(grantPermits(handler('market'), grant(), now).allowed, false);
    assert.equal(grantPermits(system('health'), grant(), now).allowed, true);
    assert.equal(grantPermits(system('health', 'other'), grant({ apiClientId: 'sys' }), now).allowed, false);
    assert.equal(grantPermits(system('market'), grant(), now).allowed, false);
    const reviewer: Actor = {
      kind: 'user',
      id: 2,
      username: 'r',
      displayName: 'r',
      roles: [{ role: 'reviewer', department: 'health' }],
    };
    assert.equal(grantPermits(reviewer, grant(), now).allowed, false);
  });

  it('a grant that ended, by time or by revocation, lets nobody in', () => {
    assert.equal(grantPermits(handler('health'), grant({ validUntil: '2029-05-31T23:59:59Z' }), now).allowed, false);
    assert.equal(grantPermits(handler('health'), grant({ status: 'revoked' }), now).allowed, false);
    assert.equal(grantPermits(handler('health'), grant({ status: 'expired' }), now).allowed, false);
  });

  it('show-codes are redeemed by handlers of any department and business systems with certificates:read', () => {
    assert.equal(mayRedeemShowCode(handler('market')).allowed, true);
    assert.equal(mayRedeemShowCode(system('market')).allowed, true);
    assert.equal(
      mayRedeemShowCode({ ...(system('market') as Extract<Actor, { kind: 'api-client' }>), scopes: [] }).allowed,
      false,
    );
    assert.equal(mayRedeemShowCode({ kind: 'anonymous' }).allowed, false);
  });

  const map = { personId: 'pid', personName: 'name', entityCode: 'ecode', entityName: 'ename' };
  it('maps claims to a person, or to an entity with the person acting for it', () => {
    const p = holderFromClaims({ pid: '11010519491231002x', name: '王' }, map);
    assert.deepEqual(p, { kind: 'person', id: '11010519491231002X', name: '王', agent: null });
    const e = holderFromClaims(
      { pid: '11010519491231002X', name: '王', ecode: '91350100M000100Y43', ename: '某公司' },
      map,
    );
    assert.deepEqual(e, {
      kind: 'entity',
      id: '91350100M000100Y43',
      name: '某公司',
      agent: { id: '11010519491231002X', name: '王' },
    });
  });

  it('refuses missing or invalid claims, naming the claim', () => {
    assert.throws(() => holderFromClaims({ name: '王' }, map), /claim pid is missing/);
    assert.throws(() => holderFromClaims({ pid: '110105194912310021', name: '王' }, map), /claim pid is not a valid/);
    assert.throws(
      () => holderFromClaims({ pid: '11010519491231002X', name: '王', ecode: '91350100M000100Y43' }, map),
      /claim ename/,
    );
  });

  it('wants all three HOLDER_OIDC_* or none, and https in production', () => {
    assert.equal(loadConfig({}).holder.oidc, undefined);
    assert.throws(
      () => loadConfig({ HOLDER_OIDC_ISSUER: 'https://id.example.gov' }),
      (err: ConfigError) =>
        err.problems.map((p) => p.variable).join() === 'HOLDER_OIDC_CLIENT_ID,HOLDER_OIDC_CLIENT_SECRET',
    );
    const full = {
      HOLDER_OIDC_ISSUER: 'http://id.example.gov/',
      HOLDER_OIDC_CLIENT_ID: 'c',
      HOLDER_OIDC_CLIENT_SECRET: 'secret-123',
    };
    assert.deepEqual(loadConfig(full).holder.oidc, {
      issuer: 'http://id.example.gov',
      clientId: 'c',
      clientSecret: 'secret-123',
    });
    assert.throws(
      () => loadConfig({ ...full, NODE_ENV: 'production', CERTFLOW_MASTER_KEY: 'x'.repeat(40) }),
      /must be https/,
    );
    assert.throws(() => loadConfig({ HOLDER_CLAIM_PERSON_ID: 'bad claim' }), /HOLDER_CLAIM_PERSON_ID/);
  });
});
