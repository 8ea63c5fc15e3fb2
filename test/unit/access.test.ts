import assert from 'node:assert/strict';
import {
  authorize,
  departmentsFor,
  mayDiscoverByHolder,
  ROLES,
  separationOfDutiesConflict,
  type Action,
  type Actor,
  type ApiScope,
  type Role,
} from '../../domain/access';

const user = (role: Role, department: string | null): Actor => ({
  kind: 'user',
  id: 1,
  username: 'u',
  displayName: 'U',
  roles: [{ role, department }],
});

/** What each department role may do in its own department; in any other department it may do none of it. */
const OWN_DEPARTMENT: Record<Exclude<Role, 'platform-admin'>, Action[]> = {
  'department-admin': [
    'department.update',
    'department.read',
    'user.manage',
    'role.assign',
    'api-client.manage',
    'certificate-type.manage',
    'certificate-type.read',
    'application.read',
    'task.decide',
    'certificate.read',
    'certificate.revoke',
    'stats.read',
  ],
  filler: ['department.read', 'certificate-type.read', 'application.create', 'application.read'],
  reviewer: ['department.read', 'certificate-type.read', 'application.read', 'task.decide', 'certificate.read'],
  'sealing-officer': [
    'department.read',
    'certificate-type.read',
    'application.read',
    'task.decide',
    'certificate.read',
    'catalog.repair',
  ],
  handler: ['department.read', 'certificate-type.read', 'application.read', 'certificate.read'],
  'audit-admin': ['department.read', 'audit.read', 'stats.read'],
};
const ALL_ACTIONS = [...new Set(Object.values(OWN_DEPARTMENT).flat()), 'department.create'] as Action[];

describe('authorize: department scoping', () => {
  for (const [role, allowed] of Object.entries(OWN_DEPARTMENT) as [Exclude<Role, 'platform-admin'>, Action[]][]) {
    it(`a ${role} of market may do exactly its own actions in market, and nothing in health`, () => {
      const actor = user(role, 'market');
      for (const action of ALL_ACTIONS) {
        assert.equal(
          authorize(actor, action, { department: 'market' }).allowed,
          allowed.includes(action),
          `${role} ${action} in market`,
        );
        const other = authorize(actor, action, { department: 'health' });
        assert.equal(other.allowed, false, `${role} ${action} in health`);
        assert.ok(!other.allowed && other.reason.length > 0);
      }
    });
  }

  it("only the platform admin creates departments, and it does not do departments' business", () => {
    const admin = user('platform-admin', null);
    assert.ok(authorize(admin, 'department.create').allowed);
    assert.ok(authorize(admin, 'user.manage', { department: 'health' }).allowed);
    for (const action of [
      'application.create',
      'task.decide',
      'certificate.read',
      'certificate.revoke',
      'audit.read',
    ] as Action[]) {
      assert.equal(authorize(admin, action, { department: 'market' }).allowed, false, action);
    }
    for (const role of ROLES.filter((r) => r !== 'platform-admin'))
      assert.equal(authorize(user(role, 'market'), 'department.create').allowed, false);
  });

  it('only the platform admin repairs applications (retry, cancel, resend-callback), in any department', () => {
    assert.ok(authorize(user('platform-admin', null), 'application.repair', { department: 'market' }).allowed);
    for (const role of ROLES.filter((r) => r !== 'platform-admin')) {
      assert.equal(
        authorize(user(role, 'market'), 'application.repair', { department: 'market' }).allowed,
        false,
        role,
      );
      assert.equal(authorize(user(role, null), 'application.repair', { department: 'market' }).allowed, false, role);
    }
    const client: Actor = {
      kind: 'api-client',
      id: 'c',
      name: 'c',
      department: 'market',
      scopes: ['applications:write', 'applications:read'],
    };
    assert.equal(authorize(client, 'application.repair', { department: 'market' }).allowed, false);
  });

  it('a department admin cannot grant the platform admin role', () => {
    const d = authorize(user('department-admin', 'market'), 'role.assign', {
      department: 'market',
      role: 'platform-admin',
    });
    assert.equal(d.allowed, false);
  });

  it("a platform-wide audit admin reads every department's log", () => {
    const auditor = user('audit-admin', null);
    assert.ok(authorize(auditor, 'audit.read', { department: 'health' }).allowed);
    assert.equal(departmentsFor(auditor, 'audit.read'), null);
    assert.deepEqual(departmentsFor(user('audit-admin', 'market'), 'audit.read'), ['market']);
  });

  it('statistics: department and audit admins for their departments, a platform-wide audit admin for all', () => {
    assert.deepEqual(departmentsFor(user('department-admin', 'market'), 'stats.read'), ['market']);
    assert.deepEqual(departmentsFor(user('audit-admin', 'health'), 'stats.read'), ['health']);
    assert.equal(departmentsFor(user('audit-admin', null), 'stats.read'), null);
    assert.deepEqual(departmentsFor(user('handler', 'market'), 'stats.read'), []);
    assert.deepEqual(departmentsFor(user('platform-admin', null), 'stats.read'), []);
  });

  it("only handlers discover other departments' certificates by holder ID", () => {
    assert.equal(mayDiscoverByHolder(user('handler', 'market')), true);
    for (const role of ROLES.filter((r) => r !== 'handler'))
      assert.equal(mayDiscoverByHolder(user(role, 'market')), false, role);
    assert.equal(
      mayDiscoverByHolder({
        kind: 'api-client',
        id: 'ac_1',
        name: 'x',
        department: 'market',
        scopes: ['certificates:read'],
      }),
      false,
    );
  });

  it('a business system acts only within its department and scopes', () => {
    const client: Actor = {
      kind: 'api-client',
      id: 'ac_1',
      name: '审批系统',
      department: 'market',
      scopes: ['applications:write'],
    };
    assert.ok(authorize(client, 'application.create', { department: 'market' }).allowed);
    assert.equal(authorize(client, 'application.create', { department: 'health' }).allowed, false);
    assert.equal(authorize(client, 'certificate.read', { department: 'market' }).allowed, false);
    assert.equal(authorize(client, 'user.manage', { department: 'market' }).allowed, false);
  });

  it('anonymous callers may do nothing', () => {
    for (const action of ALL_ACTIONS) assert.equal(authorize({ kind: 'anonymous' }, action).allowed, false);
  });
});

describe('separation of duties', () => {
  const two = (a: [Role, string | null], b: [Role, string | null]): Actor => ({
    kind: 'user',
    id: 1,
    username: 'u',
    displayName: 'U',
    roles: [
      { role: a[0], department: a[1] },
      { role: b[0], department: b[1] },
    ],
  });

  it('admin and audit-admin clash where their departments overlap (platform-wide overlaps all)', () => {
    const clash = (held: [Role, string | null], add: [Role, string | null]) =>
      separationOfDutiesConflict([{ role: held[0], department: held[1] }], { role: add[0], department: add[1] });
    assert.match(clash(['department-admin', 'market'], ['audit-admin', 'market'])!, /separation of duties/);
    assert.ok(clash(['audit-admin', null], ['department-admin', 'health']));
    assert.ok(clash(['platform-admin', null], ['audit-admin', 'health']));
    assert.equal(clash(['department-admin', 'market'], ['audit-admin', 'health']), null);
    assert.equal(clash(['reviewer', 'market'], ['audit-admin', 'market']), null);
  });

  it('an overlapping pair held from before does not read the log it administers', () => {
    const both = two(['department-admin', 'market'], ['audit-admin', 'market']);
    assert.equal(authorize(both, 'audit.read', { department: 'market' }).allowed, false);
    assert.deepEqual(departmentsFor(both, 'audit.read'), []);
    const apart = two(['department-admin', 'market'], ['audit-admin', 'health']);
    assert.deepEqual(departmentsFor(apart, 'audit.read'), ['health']);
  });

  it('a business system pings only with the operations:ping scope; staff may ping', () => {
    const client = (scopes: ApiScope[]): Actor => ({
      kind: 'api-client',
      id: 'ac_1',
      name: 'x',
      department: 'market',
      scopes,
    });
    assert.equal(authorize(client(['certificates:read']), 'operations.ping').allowed, false);
    assert.ok(authorize(client(['operations:ping']), 'operations.ping').allowed);
    assert.ok(authorize(user('filler', 'market'), 'operations.ping').allowed);
  });
});
