/**
 * Who may do what (docs/access.md). This is the one place that answers "may this actor do
 * this to this object?"; routes and workflow validators ask it and never decide themselves.
 * Permissions are scoped by department: a role held in department A says nothing about B.
 */

export const ROLES = [
  'platform-admin',
  'department-admin',
  'filler',
  'reviewer',
  'sealing-officer',
  'handler',
  'audit-admin',
] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_LABELS: Record<Role, { zh: string; en: string }> = {
  'platform-admin': { zh: '平台管理员', en: 'Platform admin' },
  'department-admin': { zh: '部门管理员', en: 'Department admin' },
  filler: { zh: '填报人员', en: 'Filler' },
  reviewer: { zh: '审核人员', en: 'Reviewer' },
  'sealing-officer': { zh: '机要人员', en: 'Sealing officer' },
  handler: { zh: '经办人员', en: 'Handler' },
  'audit-admin': { zh: '审计管理员', en: 'Audit admin' },
};

/** Roles that exist platform-wide rather than in one department. */
export const PLATFORM_ROLES: readonly Role[] = ['platform-admin'];
/**
 * Roles that may be held platform-wide (department null): the platform admin, and an audit admin
 * for all departments.
 */
export const PLATFORM_WIDE_ROLES: readonly Role[] = ['platform-admin', 'audit-admin'];

/** Roles that administer people and configuration; they never also audit the same departments. */
export const ADMIN_ROLES: readonly Role[] = ['platform-admin', 'department-admin'];

/** null is platform-wide, so it overlaps every department. */
const overlaps = (a: string | null, b: string | null) => a === null || b === null || a === b;
const scopeName = (d: string | null) => (d === null ? 'platform-wide' : `in ${d}`);

/**
 * Separation of duties: nobody administers and audits the same department, or they would
 * audit themselves. Why holding `add` beside `held` would break it, or null.
 */
export function separationOfDutiesConflict(held: readonly RoleAssignment[], add: RoleAssignment): string | null {
  const clashes = (r: RoleAssignment) =>
    (ADMIN_ROLES.includes(add.role) && r.role === 'audit-admin') ||
    (add.role === 'audit-admin' && ADMIN_ROLES.includes(r.role));
  const clash = held.find((r) => clashes(r) && overlaps(r.department, add.department));
  return clash
    ? `separation of duties: ${add.role} ${scopeName(add.department)} overlaps ` +
        `${clash.role} held ${scopeName(clash.department)}`
    : null;
}

export const API_SCOPES = [
  'applications:write',
  'applications:read',
  'certificates:read',
  'certificates:verify',
  'certificates:compare',
  'certificates:import',
  // Fetch (获取) an annotated copy of another department's certificate (docs/sharing.md).
  'certificates:fetch',
  'operations:ping',
] as const;
export type ApiScope = (typeof API_SCOPES)[number];

export interface RoleAssignment {
  role: Role;
  /** null: the role holds on every department (platform admin; a platform-wide audit admin). */
  department: string | null;
}

export type Actor =
  | { kind: 'user'; id: number; username: string; displayName: string; roles: RoleAssignment[] }
  | { kind: 'api-client'; id: string; name: string; department: string; scopes: ApiScope[] }
  | { kind: 'system'; name: string }
  /**
   * A holder signed in through OpenID Connect (docs/holders.md): sees and shares its own
   * certificates only. `holderHash` is the lookup hash of the holder's ID; for an entity,
   * `agentName` is the person acting for it. Holders never pass a staff permission.
   */
  | {
      kind: 'holder';
      sessionHash: string;
      holderKind: 'person' | 'entity';
      holderHash: string;
      name: string;
      agentName: string | null;
    }
  | { kind: 'anonymous' };

export type Action =
  | 'department.create'
  | 'department.update'
  | 'department.read'
  | 'user.manage'
  | 'role.assign'
  | 'api-client.manage'
  | 'audit.read'
  | 'certificate-type.manage'
  | 'certificate-type.read'
  | 'application.create'
  | 'application.read'
  | 'task.decide'
  | 'certificate.read'
  | 'certificate.revoke'
  | 'catalog.repair'
  | 'application.repair'
  | 'stats.read'
  | 'certificate.compare'
  | 'certificate.import'
  | 'certificate.fetch'
  | 'operations.ping';

/** The department an object belongs to; undefined for platform-level objects. */
export interface Target {
  department?: string;
  /** For role.assign: the role being granted. */
  role?: Role;
}

export type Decision = { allowed: true } | { allowed: false; reason: string };

const ALLOW: Decision = { allowed: true };
const deny = (reason: string): Decision => ({ allowed: false, reason });

/** Which roles grant an action within their department. */
const GRANTS: Record<Action, readonly Role[]> = {
  'department.create': [],
  'department.update': ['department-admin'],
  'department.read': ['department-admin', 'filler', 'reviewer', 'sealing-officer', 'handler', 'audit-admin'],
  'user.manage': ['department-admin'],
  'role.assign': ['department-admin'],
  'api-client.manage': ['department-admin'],
  'audit.read': ['audit-admin'],
  'certificate-type.manage': ['department-admin'],
  'certificate-type.read': ['department-admin', 'filler', 'reviewer', 'sealing-officer', 'handler'],
  'application.create': ['filler'],
  'application.read': ['department-admin', 'filler', 'reviewer', 'sealing-officer', 'handler'],
  'task.decide': ['reviewer', 'sealing-officer', 'department-admin'],
  'certificate.read': ['department-admin', 'handler', 'sealing-officer', 'reviewer'],
  'certificate.revoke': ['department-admin'],
  'catalog.repair': ['sealing-officer'],
  // Retry a failed sealing, cancel a stuck application, re-send its callback (docs/runbook.md):
  // operations on the platform's machinery, for the platform admin only.
  'application.repair': [],
  // Statistics (docs/api.md) for those who run or supervise a department; counts only, no personal data.
  'stats.read': ['department-admin', 'audit-admin'],
  // Compare (比对) is for other departments: it answers "does it say X?" per field and never
  // shows a value, so a handler of any department may ask, with a stated reason, audited.
  // Callers check it without a department target; readers in the issuing department compare
  // under certificate.read (api/routes/verify.ts).
  'certificate.compare': ['handler'],
  // Registering certificates issued before certflow (docs/import.md): the department's admin, or its
  // business system with the scope certificates:import.
  'certificate.import': ['department-admin'],
  // Fetch (获取) an annotated copy of another department's certificate; whether this one may be
  // fetched is services/sharing/policy.ts's decision (docs/sharing.md).
  'certificate.fetch': ['handler'],
  // Pings start a workflow: any staff member may check a deployment, a business system only with its scope.
  'operations.ping': ['department-admin', 'filler', 'reviewer', 'sealing-officer', 'handler', 'audit-admin'],
};

/** What an API client's scopes let it do, within its own department. */
const SCOPE_GRANTS: Partial<Record<Action, ApiScope>> = {
  'application.create': 'applications:write',
  'application.read': 'applications:read',
  'certificate-type.read': 'applications:write',
  'certificate.read': 'certificates:read',
  'certificate.compare': 'certificates:compare',
  'certificate.import': 'certificates:import',
  'certificate.fetch': 'certificates:fetch',
  'operations.ping': 'operations:ping',
};

export function hasRole(actor: Actor, role: Role, department?: string): boolean {
  return (
    actor.kind === 'user' &&
    actor.roles.some(
      (r) => r.role === role && (r.department === null || department === undefined || r.department === department),
    )
  );
}

export function isPlatformAdmin(actor: Actor): boolean {
  return actor.kind === 'user' && actor.roles.some((r) => r.role === 'platform-admin');
}

export function authorize(actor: Actor, action: Action, target: Target = {}): Decision {
  if (actor.kind === 'anonymous') return deny('sign-in required');
  if (actor.kind === 'holder') return deny('holders use the holder portal, not staff actions');
  if (actor.kind === 'system') return ALLOW;
  if (actor.kind === 'api-client') {
    const scope = SCOPE_GRANTS[action];
    if (!scope) return deny(`business systems may not ${action}`);
    if (!actor.scopes.includes(scope)) return deny(`API client lacks scope ${scope}`);
    if (target.department !== undefined && target.department !== actor.department) {
      return deny(`API client belongs to department ${actor.department}, not ${target.department}`);
    }
    return ALLOW;
  }
  if (isPlatformAdmin(actor)) {
    // The platform admin runs the organisation, not the departments' business: it does not
    // fill, review, seal or read certificates (four-eyes and department scoping stay meaningful).
    const orgActions: Action[] = [
      'department.create',
      'department.update',
      'department.read',
      'user.manage',
      'role.assign',
      'api-client.manage',
      'certificate-type.read',
      'operations.ping',
      'application.repair',
    ];
    if (orgActions.includes(action)) return ALLOW;
  }
  if (action === 'role.assign' && target.role && PLATFORM_ROLES.includes(target.role)) {
    return deny('only a platform admin may grant platform roles');
  }
  const grants = GRANTS[action];
  const held = heldFor(actor.roles, action);
  if (held.length === 0) return deny(`requires one of: ${grants.join(', ') || 'platform-admin'}`);
  if (target.department === undefined) return ALLOW;
  if (held.some((r) => r.department === null || r.department === target.department)) return ALLOW;
  return deny(`no ${grants.join('/')} role in department ${target.department}`);
}

/**
 * The assignments that grant the action. An audit-admin role overlapping one of the actor's
 * admin roles (granted before separation of duties was enforced) does not count: nobody reads
 * the audit log of what they administer.
 */
function heldFor(roles: readonly RoleAssignment[], action: Action): RoleAssignment[] {
  const held = roles.filter((r) => GRANTS[action].includes(r.role));
  if (action !== 'audit.read') return held;
  return held.filter((r) => !roles.some((a) => ADMIN_ROLES.includes(a.role) && overlaps(a.department, r.department)));
}

/** Departments in which the actor holds a role granting the action; null = all. */
export function departmentsFor(actor: Actor, action: Action): string[] | null {
  if (actor.kind === 'system') return null;
  if (actor.kind === 'anonymous' || actor.kind === 'holder') return [];
  if (actor.kind === 'api-client') return authorize(actor, action).allowed ? [actor.department] : [];
  if (isPlatformAdmin(actor) && authorize(actor, action).allowed) return null;
  const held = heldFor(actor.roles, action);
  if (held.some((r) => r.department === null)) return null;
  return [...new Set(held.map((r) => r.department as string))];
}

/**
 * "One number, many certificates": a handler serving a holder may find out, by the holder's
 * ID number and with a stated reason, which certificates other departments hold for them
 * (number, type, issuer, status, dates) — to use them or to ask for access — without reading
 * them: names, ID numbers and face data stay with certificate.read in the issuing department.
 */
export function mayDiscoverByHolder(actor: Actor): boolean {
  return actor.kind === 'user' && actor.roles.some((r) => r.role === 'handler');
}

export function describeActor(actor: Actor): { type: Actor['kind']; id: string | null; name: string | null } {
  switch (actor.kind) {
    case 'user':
      return { type: 'user', id: String(actor.id), name: actor.username };
    case 'api-client':
      return { type: 'api-client', id: actor.id, name: actor.name };
    case 'system':
      return { type: 'system', id: null, name: actor.name };
    case 'holder':
      return { type: 'holder', id: actor.sessionHash.slice(0, 16), name: actor.agentName ?? actor.name };
    case 'anonymous':
      return { type: 'anonymous', id: null, name: null };
  }
}

/** What a consent grant (用证授权, docs/holders.md) says, as far as deciding access goes. */
export interface GrantTerms {
  department: string;
  /** Only this business system of the department, when set. */
  apiClientId: string | null;
  status: 'active' | 'revoked' | 'expired';
  validUntil: string;
}

/**
 * May this actor fetch the full certificate under this grant? The department's handlers, and its
 * business systems with certificates:read (the named one only, when the grant names one), while the
 * grant is active and before its end: the end counts even if the expiry timer has not fired yet.
 */
export function grantPermits(actor: Actor, grant: GrantTerms, now: Date): Decision {
  if (grant.status !== 'active') return deny(`the holder's grant is ${grant.status}`);
  if (Date.parse(grant.validUntil) <= now.getTime()) return deny("the holder's grant has ended");
  if (actor.kind === 'user') {
    const handler = actor.roles.some((r) => r.role === 'handler' && r.department === grant.department);
    return handler ? ALLOW : deny(`the grant is for handlers of ${grant.department}`);
  }
  if (actor.kind === 'api-client') {
    if (actor.department !== grant.department) return deny(`the grant is for department ${grant.department}`);
    if (!actor.scopes.includes('certificates:read')) return deny('API client lacks scope certificates:read');
    if (grant.apiClientId && grant.apiClientId !== actor.id) return deny('the grant names another business system');
    return ALLOW;
  }
  return deny('only staff and business systems use grants');
}

/**
 * Who may redeem a holder's show-code (亮证, docs/holders.md): a counter clerk — a handler of any
 * department — or a business system with certificates:read. The holder chose to show it to them.
 */
export function mayRedeemShowCode(actor: Actor): Decision {
  if (actor.kind === 'user') {
    return actor.roles.some((r) => r.role === 'handler') ? ALLOW : deny('only handlers (经办人员) redeem show-codes');
  }
  if (actor.kind === 'api-client') {
    return actor.scopes.includes('certificates:read') ? ALLOW : deny('API client lacks scope certificates:read');
  }
  return deny('only staff and business systems redeem show-codes');
}
