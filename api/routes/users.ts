import { z } from 'zod';
import type { Context } from 'koa';
import type { AppDeps } from '../app';
import type { ApiRouter } from '../routing';
import { conflict, forbidden, notFound, unprocessable } from '../problem';
import { deny, requirePermission } from '../auth';
import { departmentCode } from './departments';
import {
  ADMIN_ROLES,
  ROLES,
  PLATFORM_WIDE_ROLES,
  departmentsFor,
  isPlatformAdmin,
  separationOfDutiesConflict,
  type Role,
} from '../../domain/access';
import {
  addRole,
  createUserWithRoles,
  findUserForLogin,
  getDepartment,
  getRoleAssignment,
  getUser,
  listUsers,
  removeRole,
  updateUser,
  usernameTaken,
  type Department,
  type User,
} from '../../db/org';
import { hashPassword, verifyPassword } from '../../platform/secrets';
import { loginThrottle } from '../login-throttle';
import { StaffUser, StaffUserList } from '../schemas/organisation';

const password = z.string().min(10, 'at least 10 characters').max(200);
const roleBody = z.object({ role: z.enum(ROLES), department: departmentCode.nullable() });

/** Staff and their roles. Department admins manage the people of their own department only. */
export function userRoutes(api: ApiRouter, deps: AppDeps) {
  const throttle = loginThrottle(deps);

  /**
   * Granting and withdrawing a role need the same right: a platform-wide role (department
   * null) is the platform admin's alone, a department role needs role.assign there.
   */
  function requireRoleChange(ctx: Context, r: { role: Role; department: string | null }) {
    if (r.department === null) {
      if (!isPlatformAdmin(ctx.state.actor)) {
        deny(ctx, 'role.assign', 'only a platform admin grants or withdraws platform-wide roles');
      }
      return;
    }
    requirePermission(ctx, 'role.assign', { department: r.department, role: r.role });
  }

  /** Nobody grants themselves a role: an admin could otherwise make itself its own auditor, or more. */
  function refuseOwnRoles(ctx: Context, userId: number) {
    const actor = ctx.state.actor;
    if (actor.kind === 'user' && actor.id === userId) deny(ctx, 'role.assign', 'you cannot grant a role to yourself');
  }

  async function resolveRole(ctx: Context, r: { role: Role; department: string | null }, field: string) {
    if (r.role === 'platform-admin' && r.department !== null) {
      throw unprocessable('Invalid role assignment', [
        { field, message: 'platform-admin is platform-wide: department must be null' },
      ]);
    }
    if (r.department === null && !PLATFORM_WIDE_ROLES.includes(r.role)) {
      throw unprocessable('Invalid role assignment', [{ field, message: `${r.role} needs a department` }]);
    }
    requireRoleChange(ctx, r);
    if (r.department === null) return null;
    const dept = await getDepartment(deps.db, r.department);
    if (!dept) throw unprocessable('Unknown department', [{ field, message: `no department ${r.department}` }]);
    return dept;
  }

  /** Managing a person needs user.manage in every department they work in, so A cannot lock out B's staff. */
  function requireManage(ctx: Context, user: User) {
    const departments = [...new Set(user.roles.map((r) => r.department).filter((d): d is string => d !== null))];
    const platformLevel = departments.length === 0 || user.roles.some((r) => r.department === null);
    if (platformLevel && !isPlatformAdmin(ctx.state.actor))
      deny(ctx, 'user.manage', 'only a platform admin manages platform-level staff');
    for (const department of departments) requirePermission(ctx, 'user.manage', { department });
  }

  api.route(
    {
      method: 'get',
      path: '/users',
      operationId: 'listUsers',
      responses: { 200: { description: 'Staff the caller manages', schema: StaffUserList } },
      summary: 'Staff the caller may manage',
      tag: 'organisation',
      auth: 'staff',
    },
    async (ctx) => {
      const scope = departmentsFor(ctx.state.actor, 'user.manage');
      if (scope !== null && scope.length === 0) requirePermission(ctx, 'user.manage');
      return { items: await listUsers(deps.db, scope ?? undefined) };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/users/:id',
      operationId: 'getUser',
      responses: { 200: { description: 'The user and their roles', schema: StaffUser } },
      summary: 'One staff member',
      tag: 'organisation',
      auth: 'staff',
      params: z.object({ id: z.coerce.number().int().positive() }),
    },
    async (ctx, { params }) => {
      const user = await getUser(deps.db, params.id);
      if (!user) throw notFound(`No user ${params.id}`);
      const actor = ctx.state.actor;
      if (!(actor.kind === 'user' && actor.id === user.id)) requireManage(ctx, user);
      return user;
    },
  );

  api.route(
    {
      method: 'post',
      path: '/users',
      operationId: 'createUser',
      summary: 'Create a staff member with roles',
      tag: 'organisation',
      auth: 'staff',
      body: z.object({
        username: z
          .string()
          .trim()
          .toLowerCase()
          .regex(/^[a-z0-9][a-z0-9._-]{1,63}$/, 'letters, digits, dot, dash, underscore; 2–64 characters'),
        displayName: z.string().trim().min(1).max(100),
        password,
        roles: z.array(roleBody).max(20).default([]),
      }),
      responses: { 201: { description: 'Created', schema: StaffUser } },
      audit: { category: 'configuration', action: 'user.create' },
    },
    async (ctx, { body }) => {
      ctx.state.auditObject = { type: 'user', id: body.username };
      ctx.state.auditDetail = { roles: body.roles };
      if (body.roles.length === 0 && !isPlatformAdmin(ctx.state.actor)) {
        throw unprocessable('A new staff member needs at least one role in your department', [
          { field: 'roles', message: 'empty' },
        ]);
      }
      const departments: (Department | null)[] = [];
      for (const [i, r] of body.roles.entries()) departments.push(await resolveRole(ctx, r, `roles.${i}`));
      for (const [i, r] of body.roles.entries()) {
        const clash = separationOfDutiesConflict(body.roles.slice(0, i), r);
        if (clash) throw conflict(`Role ${i + 1} breaks ${clash}`);
      }
      ctx.state.auditDepartment = departments.find((d) => d)?.code ?? null;
      if (await usernameTaken(deps.db, body.username)) throw conflict(`Username ${body.username} is taken`);
      const passwordHash = await hashPassword(body.password);
      const roles = body.roles.map((r, i) => ({ role: r.role, department: departments[i] ?? null }));
      const id = await createUserWithRoles(
        deps.db,
        { username: body.username, displayName: body.displayName, passwordHash },
        roles,
      );
      ctx.status = 201;
      return getUser(deps.db, id);
    },
  );

  /** Counts like a sign-in (api/login-throttle.ts): a wrong current password is a failed attempt. */
  async function checkCurrentPassword(ctx: Context, user: User, current: string | undefined) {
    if (current === undefined) {
      throw unprocessable('Changing your own password needs your current password', [
        { field: 'currentPassword', message: 'required' },
      ]);
    }
    const attempt = await throttle.begin(ctx, user.username);
    const stored = await findUserForLogin(deps.db, user.username);
    if (!stored || !(await verifyPassword(current, stored.passwordHash))) {
      await attempt.failed();
      deny(ctx, 'user.manage', 'wrong current password');
    }
    await attempt.succeeded();
  }

  api.route(
    {
      method: 'put',
      path: '/users/:id',
      operationId: 'updateUser',
      responses: { 200: { description: 'The user as changed', schema: StaffUser } },
      summary: "Change name, deactivate or reset the password (ends the user's sessions)",
      tag: 'organisation',
      auth: 'staff',
      params: z.object({ id: z.coerce.number().int().positive() }),
      body: z.object({
        displayName: z.string().trim().min(1).max(100).optional(),
        active: z.boolean().optional(),
        password: password.optional(),
        /** Needed to change one's own password, so a borrowed session cannot take the account over. */
        currentPassword: z.string().min(1).max(200).optional(),
      }),
      audit: { category: 'configuration', action: 'user.update' },
    },
    async (ctx, { params, body }) => {
      const user = await getUser(deps.db, params.id);
      if (!user) throw notFound(`No user ${params.id}`);
      ctx.state.auditObject = { type: 'user', id: user.username };
      ctx.state.auditDetail = { changed: Object.keys(body).filter((k) => k !== 'currentPassword') };
      const actor = ctx.state.actor;
      const self = actor.kind === 'user' && actor.id === user.id;
      // Anyone may change their own name and password; everything else is an admin's.
      if (!self || body.active !== undefined) requireManage(ctx, user);
      if (self && body.active === false) throw forbidden('You cannot deactivate yourself');
      if (self && body.password !== undefined) await checkCurrentPassword(ctx, user, body.currentPassword);
      await updateUser(deps.db, user.id, {
        displayName: body.displayName,
        active: body.active,
        passwordHash: body.password ? await hashPassword(body.password) : undefined,
      });
      return getUser(deps.db, user.id);
    },
  );

  api.route(
    {
      method: 'post',
      path: '/users/:id/roles',
      operationId: 'grantRole',
      summary: 'Grant a role in a department',
      tag: 'organisation',
      auth: 'staff',
      params: z.object({ id: z.coerce.number().int().positive() }),
      body: roleBody,
      responses: { 201: { description: 'Granted', schema: StaffUser } },
      audit: { category: 'configuration', action: 'role.grant' },
    },
    async (ctx, { params, body }) => {
      ctx.state.auditDetail = body;
      ctx.state.auditDepartment = body.department;
      const user = await getUser(deps.db, params.id);
      if (!user) throw notFound(`No user ${params.id}`);
      ctx.state.auditObject = { type: 'user', id: user.username };
      refuseOwnRoles(ctx, user.id);
      const dept = await resolveRole(ctx, body, '(body)');
      const clash = separationOfDutiesConflict(user.roles, body);
      if (clash) throw conflict(`${user.username} cannot hold this role: ${clash}`);
      await addRole(deps.db, user.id, body.role, dept);
      ctx.status = 201;
      return getUser(deps.db, user.id);
    },
  );

  api.route(
    {
      method: 'delete',
      path: '/users/:id/roles/:assignmentId',
      operationId: 'revokeRole',
      responses: { 200: { description: 'The user without the role', schema: StaffUser } },
      summary: 'Withdraw a role',
      tag: 'organisation',
      auth: 'staff',
      params: z.object({ id: z.coerce.number().int().positive(), assignmentId: z.coerce.number().int().positive() }),
      audit: { category: 'configuration', action: 'role.withdraw' },
    },
    async (ctx, { params }) => {
      const a = await getRoleAssignment(deps.db, params.assignmentId);
      if (!a || a.userId !== params.id)
        throw notFound(`User ${params.id} has no role assignment ${params.assignmentId}`);
      ctx.state.auditObject = { type: 'user', id: String(params.id) };
      ctx.state.auditDepartment = a.department;
      ctx.state.auditDetail = { role: a.role, department: a.department };
      requireRoleChange(ctx, a);
      const actor = ctx.state.actor;
      if (actor.kind === 'user' && actor.id === a.userId && ADMIN_ROLES.includes(a.role)) {
        // Withdrawing one's own admin role can lock a department out; another admin must do it.
        throw conflict('You cannot withdraw your own admin role; ask another administrator');
      }
      await removeRole(deps.db, a.id);
      return getUser(deps.db, params.id);
    },
  );
}
