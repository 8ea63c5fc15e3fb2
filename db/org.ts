import type { Db } from './knex';
import { toIso } from './knex';
import type { ApiScope, Role, RoleAssignment } from '../domain/access';

/** Departments, staff, role assignments, API clients and sessions. No permission checks here. */

export interface Department {
  id: number;
  code: string;
  name: string;
  regionCode: string;
  creditCode: string | null;
  parentCode: string | null;
  createdAt: string;
}

export interface User {
  id: number;
  username: string;
  displayName: string;
  active: boolean;
  roles: (RoleAssignment & { id: number })[];
}

const now = () => new Date();

export async function listDepartments(db: Db): Promise<Department[]> {
  const rows = await db('departments as d')
    .leftJoin('departments as p', 'p.id', 'd.parent_id')
    .select('d.*', 'p.code as parent_code')
    .orderBy('d.code');
  return rows.map(toDepartment);
}

export async function getDepartment(db: Db, code: string): Promise<Department | undefined> {
  const row = await db('departments as d')
    .leftJoin('departments as p', 'p.id', 'd.parent_id')
    .select('d.*', 'p.code as parent_code')
    .where('d.code', code)
    .first();
  return row ? toDepartment(row) : undefined;
}

function toDepartment(r: Record<string, unknown>): Department {
  return {
    id: Number(r.id),
    code: r.code as string,
    name: r.name as string,
    regionCode: r.region_code as string,
    creditCode: (r.credit_code as string | null) ?? null,
    parentCode: (r.parent_code as string | null) ?? null,
    createdAt: toIso(r.created_at),
  };
}

export async function createDepartment(
  db: Db,
  d: { code: string; name: string; regionCode: string; creditCode?: string | null; parentId?: number | null },
): Promise<Department> {
  await db('departments').insert({
    code: d.code,
    name: d.name,
    region_code: d.regionCode,
    credit_code: d.creditCode ?? null,
    parent_id: d.parentId ?? null,
    created_at: now(),
  });
  return (await getDepartment(db, d.code))!;
}

export async function updateDepartment(
  db: Db,
  code: string,
  patch: { name?: string; regionCode?: string; creditCode?: string | null; parentId?: number | null },
): Promise<Department | undefined> {
  const update: Record<string, unknown> = {};
  if (patch.name !== undefined) update.name = patch.name;
  if (patch.regionCode !== undefined) update.region_code = patch.regionCode;
  if (patch.creditCode !== undefined) update.credit_code = patch.creditCode;
  if (patch.parentId !== undefined) update.parent_id = patch.parentId;
  if (Object.keys(update).length) await db('departments').where({ code }).update(update);
  return getDepartment(db, code);
}

export async function rolesOf(db: Db, userIds: number[]): Promise<Map<number, (RoleAssignment & { id: number })[]>> {
  const rows = userIds.length
    ? await db('role_assignments as r')
        .leftJoin('departments as d', 'd.id', 'r.department_id')
        .whereIn('r.user_id', userIds)
        .select('r.id', 'r.user_id', 'r.role', 'd.code as department')
        .orderBy('r.id')
    : [];
  const byUser = new Map<number, (RoleAssignment & { id: number })[]>();
  for (const r of rows) {
    const list = byUser.get(Number(r.user_id)) ?? [];
    list.push({ id: Number(r.id), role: r.role as Role, department: (r.department as string | null) ?? null });
    byUser.set(Number(r.user_id), list);
  }
  return byUser;
}

async function withRoles(db: Db, rows: Record<string, unknown>[]): Promise<User[]> {
  const roles = await rolesOf(
    db,
    rows.map((r) => Number(r.id)),
  );
  return rows.map((r) => ({
    id: Number(r.id),
    username: r.username as string,
    displayName: r.display_name as string,
    active: Boolean(r.active),
    roles: roles.get(Number(r.id)) ?? [],
  }));
}

export async function getUser(db: Db, id: number): Promise<User | undefined> {
  const row = await db('users').where({ id }).first();
  return row ? (await withRoles(db, [row]))[0] : undefined;
}

export async function findUserForLogin(
  db: Db,
  username: string,
): Promise<(User & { passwordHash: string }) | undefined> {
  const row = await db('users').where({ username }).first();
  if (!row) return undefined;
  const [user] = await withRoles(db, [row]);
  return { ...user!, passwordHash: row.password_hash };
}

/** Users with any role in one of these departments (undefined: everyone). */
export async function listUsers(db: Db, departments?: string[]): Promise<User[]> {
  const q = db('users').select('users.*').orderBy('users.username');
  if (departments) {
    q.whereIn(
      'users.id',
      db('role_assignments as r')
        .join('departments as d', 'd.id', 'r.department_id')
        .whereIn('d.code', departments)
        .select('r.user_id'),
    );
  }
  return withRoles(db, await q);
}

export async function createUser(
  db: Db,
  u: { username: string; displayName: string; passwordHash: string },
): Promise<number> {
  const [id] = await db('users').insert({
    username: u.username,
    display_name: u.displayName,
    password_hash: u.passwordHash,
    active: true,
    created_at: now(),
    updated_at: now(),
  });
  return Number(id);
}

export async function usernameTaken(db: Db, username: string): Promise<boolean> {
  return Boolean(await db('users').where({ username }).first('id'));
}

/** The user and their roles, all or nothing. */
export async function createUserWithRoles(
  db: Db,
  u: { username: string; displayName: string; passwordHash: string },
  roles: { role: Role; department: Department | null }[],
): Promise<number> {
  return db.transaction(async (trx) => {
    const userId = await createUser(trx, u);
    for (const r of roles) await addRole(trx, userId, r.role, r.department);
    return userId;
  });
}

export async function updateUser(
  db: Db,
  id: number,
  patch: { displayName?: string; active?: boolean; passwordHash?: string },
) {
  const update: Record<string, unknown> = { updated_at: now() };
  if (patch.displayName !== undefined) update.display_name = patch.displayName;
  if (patch.active !== undefined) update.active = patch.active;
  if (patch.passwordHash !== undefined) update.password_hash = patch.passwordHash;
  await db('users').where({ id }).update(update);
  // A deactivated user or a new password ends every open session.
  if (patch.active === false || patch.passwordHash !== undefined) {
    await db('sessions').where({ user_id: id }).whereNull('revoked_at').update({ revoked_at: now() });
  }
}

export async function addRole(db: Db, userId: number, role: Role, department: Department | null): Promise<number> {
  const scopeKey = `${userId}:${role}:${department?.id ?? '*'}`;
  const existing = await db('role_assignments').where({ scope_key: scopeKey }).first();
  if (existing) return Number(existing.id);
  const [id] = await db('role_assignments').insert({
    user_id: userId,
    role,
    department_id: department?.id ?? null,
    scope_key: scopeKey,
    created_at: now(),
  });
  return Number(id);
}

export async function getRoleAssignment(db: Db, id: number) {
  const r = await db('role_assignments as r')
    .leftJoin('departments as d', 'd.id', 'r.department_id')
    .where('r.id', id)
    .select('r.*', 'd.code as department')
    .first();
  return r
    ? {
        id: Number(r.id),
        userId: Number(r.user_id),
        role: r.role as Role,
        department: (r.department as string | null) ?? null,
      }
    : undefined;
}

export async function removeRole(db: Db, id: number) {
  await db('role_assignments').where({ id }).delete();
}

export interface ApiClientRow {
  id: string;
  name: string;
  department: string;
  secretHash: string;
  scopes: ApiScope[];
  /** Origins (`https://host[:port]`) its applications' callbackUrl may point at (migration 011). */
  callbackOrigins: string[];
  active: boolean;
  createdAt: string;
  lastUsedAt: string | null;
}

function toClient(r: Record<string, unknown>): ApiClientRow {
  return {
    id: r.id as string,
    name: r.name as string,
    department: r.department as string,
    secretHash: r.secret_hash as string,
    scopes: JSON.parse(r.scopes as string) as ApiScope[],
    callbackOrigins: r.callback_origins ? (JSON.parse(r.callback_origins as string) as string[]) : [],
    active: Boolean(r.active),
    createdAt: toIso(r.created_at),
    lastUsedAt: r.last_used_at ? toIso(r.last_used_at) : null,
  };
}

const clientQuery = (db: Db) =>
  db('api_clients as c').join('departments as d', 'd.id', 'c.department_id').select('c.*', 'd.code as department');

export async function findApiClient(db: Db, id: string): Promise<ApiClientRow | undefined> {
  const r = await clientQuery(db).where('c.id', id).first();
  return r ? toClient(r) : undefined;
}

export async function listApiClients(db: Db, departments?: string[]): Promise<ApiClientRow[]> {
  const q = clientQuery(db).orderBy('c.created_at');
  if (departments) q.whereIn('d.code', departments);
  return (await q).map(toClient);
}

export async function createApiClient(
  db: Db,
  c: {
    id: string;
    name: string;
    departmentId: number;
    secretHash: string;
    scopes: ApiScope[];
    callbackOrigins?: string[];
  },
): Promise<ApiClientRow> {
  await db('api_clients').insert({
    id: c.id,
    name: c.name,
    department_id: c.departmentId,
    secret_hash: c.secretHash,
    scopes: JSON.stringify(c.scopes),
    callback_origins: JSON.stringify(c.callbackOrigins ?? []),
    active: true,
    created_at: now(),
  });
  return (await findApiClient(db, c.id))!;
}

export async function setApiClientActive(db: Db, id: string, active: boolean) {
  await db('api_clients').where({ id }).update({ active });
}

export async function setApiClientCallbackOrigins(db: Db, id: string, origins: string[]) {
  await db('api_clients')
    .where({ id })
    .update({ callback_origins: JSON.stringify(origins) });
}

export async function touchApiClient(db: Db, id: string) {
  await db('api_clients').where({ id }).update({ last_used_at: now() });
}

export async function createSession(db: Db, s: { tokenHash: string; userId: number; expiresAt: Date }) {
  await db('sessions').insert({
    token_hash: s.tokenHash,
    user_id: s.userId,
    created_at: now(),
    expires_at: s.expiresAt,
  });
}

/** The user behind a live session, or undefined if unknown, expired, revoked or deactivated. */
export async function findSessionUser(
  db: Db,
  tokenHash: string,
): Promise<{ user: User; expiresAt: string } | undefined> {
  const row = await db('sessions as s')
    .join('users as u', 'u.id', 's.user_id')
    .where('s.token_hash', tokenHash)
    .whereNull('s.revoked_at')
    .where('s.expires_at', '>', now())
    .where('u.active', true)
    .select('u.*', 's.expires_at')
    .first();
  if (!row) return undefined;
  const [user] = await withRoles(db, [row]);
  return { user: user!, expiresAt: toIso(row.expires_at) };
}

export async function revokeSession(db: Db, tokenHash: string) {
  await db('sessions').where({ token_hash: tokenHash }).whereNull('revoked_at').update({ revoked_at: now() });
}
