import { z } from 'zod';
import type { Context } from 'koa';
import type { AppDeps } from '../app';
import type { ApiRouter } from '../routing';
import { conflict, forbidden, notFound, unprocessable } from '../problem';
import { deny, requirePermission } from '../auth';
import { departmentCode } from './departments';
import { ROLES, PLATFORM_WIDE_ROLES, departmentsFor, isPlatformAdmin, type Role } from '../../domain/access';
import { addRole, createUserWithRoles, getDepartment, getRoleAssignment, getUser, listUsers, removeRole, updateUser, usernameTaken, type Department, type User } from '../../db/org';
import { hashPassword } from '../../platform/secrets';

const password = z.string().min(10, 'at least 10 characters').max(200);
const roleBody = z.object({ role: z.enum(ROLES), department: departmentCode.nullable() });

/** Staff and their roles. Department admins manage the people of their own department only. */
export function userRoutes(api: ApiRouter, deps: AppDeps) {
  async function resolveRole(ctx: Context, r: { role: Role; department: string | null }, field: string) {
    if (r.role === 'platform-admin' && r.department !== null) {
      throw unprocessable('Invalid role assignment', [{ field, message: 'platform-admin is platform-wide: department must be null' }]);
    }
    if (r.department === null && !PLATFORM_WIDE_ROLES.includes(r.role)) {
      throw unprocessable('Invalid role assignment', [{ field, message: `${r.role} needs a department` }]);
    }
    if (r.department === null) {
      if (!isPlatformAdmin(ctx.state.actor)) deny(ctx, 'role.assign', 'only a platform admin grants platform-wide roles');
      return null;
    }
    requirePermission(ctx, 'role.assign', { department: r.department, role: r.role });
    const dept = await getDepartment(deps.db, r.department);
    if (!dept) throw unprocessable('Unknown department', [{ field, message: `no department ${r.department}` }]);
    return dept;
  }

  /** Managing a person needs user.manage in every department they work in, so A cannot lock out B's staff. */
  function requireManage(ctx: Context, user: User) {
    const departments = [...new Set(user.roles.map((r) => r.department).filter((d): d is string => d !== null))];
    const platformLevel = departments.length === 0 || user.roles.some((r) => r.department === null);
    if (platformLevel && !isPlatformAdmin(ctx.state.actor)) deny(ctx, 'user.manage', 'only a platform admin manages platform-level staff');
    for (const department of departments) requirePermission(ctx, 'user.manage', { department });
  }

  api.route({ method: 'get', path: '/users', summary: 'Staff the caller may manage', tag: 'organisation', auth: 'staff' }, async (ctx) => {
    const scope = departmentsFor(ctx.state.actor, 'user.manage');
    if (scope !== null && scope.length === 0) requirePermission(ctx, 'user.manage');
    return { items: await listUsers(deps.db, scope ?? undefined) };
  });

  api.route(
    { method: 'get', path: '/users/:id', summary: 'One staff member', tag: 'organisation', auth: 'staff', params: z.object({ id: z.coerce.number().int().positive() }) },
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
      summary: 'Create a staff member with roles',
      tag: 'organisation',
      auth: 'staff',
      body: z.object({
        username: z.string().trim().toLowerCase().regex(/^[a-z0-9][a-z0-9._-]{1,63}$/, 'letters, digits, dot, dash, underscore; 2–64 characters'),
        displayName: z.string().trim().min(1).max(100),
        password,
        roles: z.array(roleBody).max(20).default([]),
      }),
      responses: { 201: 'Created' },
      audit: { category: 'configuration', action: 'user.create' },
    },
    async (ctx, { body }) => {
      ctx.state.auditObject = { type: 'user', id: body.username };
      ctx.state.auditDetail = { roles: body.roles };
      if (body.roles.length === 0 && !isPlatformAdmin(ctx.state.actor)) {
        throw unprocessable('A new staff member needs at least one role in your department', [{ field: 'roles', message: 'empty' }]);
      }
      const departments: (Department | null)[] = [];
      for (const [i, r] of body.roles.entries()) departments.push(await resolveRole(ctx, r, `roles.${i}`));
      ctx.state.auditDepartment = departments.find((d) => d)?.code ?? null;
      if (await usernameTaken(deps.db, body.username)) throw conflict(`Username ${body.username} is taken`);
      const passwordHash = await hashPassword(body.password);
      const roles = body.roles.map((r, i) => ({ role: r.role, department: departments[i] ?? null }));
      const id = await createUserWithRoles(deps.db, { username: body.username, displayName: body.displayName, passwordHash }, roles);
      ctx.status = 201;
      return getUser(deps.db, id);
    },
  );

  api.route(
    {
      method: 'put',
      path: '/users/:id',
      summary: 'Change name, deactivate or reset the password (ends the user\'s sessions)',
      tag: 'organisation',
      auth: 'staff',
      params: z.object({ id: z.coerce.number().int().positive() }),
      body: z.object({ displayName: z.string().trim().min(1).max(100).optional(), active: z.boolean().optional(), password: password.optional() }),
      audit: { category: 'configuration', action: 'user.update' },
    },
    async (ctx, { params, body }) => {
      const user = await getUser(deps.db, params.id);
      if (!user) throw notFound(`No user ${params.id}`);
      ctx.state.auditObject = { type: 'user', id: user.username };
      ctx.state.auditDetail = { changed: Object.keys(body) };
      const actor = ctx.state.actor;
      const self = actor.kind === 'user' && actor.id === user.id;
      // Anyone may change their own name and password; everything else is an admin's.
      if (!self || body.active !== undefined) requireManage(ctx, user);
      if (self && body.active === false) throw forbidden('You cannot deactivate yourself');
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
      summary: 'Grant a role in a department',
      tag: 'organisation',
      auth: 'staff',
      params: z.object({ id: z.coerce.number().int().positive() }),
      body: roleBody,
      responses: { 201: 'Granted' },
      audit: { category: 'configuration', action: 'role.grant' },
    },
    async (ctx, { params, body }) => {
      ctx.state.auditDetail = body;
      ctx.state.auditDepartment = body.department;
      const user = await getUser(deps.db, params.id);
      if (!user) throw notFound(`No user ${params.id}`);
      ctx.state.auditObject = { type: 'user', id: user.username };
      const dept = await resolveRole(ctx, body, '(body)');
      await addRole(deps.db, user.id, body.role, dept);
      ctx.status = 201;
      return getUser(deps.db, user.id);
    },
  );

  api.route(
    {
      method: 'delete',
      path: '/users/:id/roles/:assignmentId',
      summary: 'Withdraw a role',
      tag: 'organisation',
      auth: 'staff',
      params: z.object({ id: z.coerce.number().int().positive(), assignmentId: z.coerce.number().int().positive() }),
      audit: { category: 'configuration', action: 'role.withdraw' },
    },
    async (ctx, { params }) => {
      const a = await getRoleAssignment(deps.db, params.assignmentId);
      if (!a || a.userId !== params.id) throw notFound(`User ${params.id} has no role assignment ${params.assignmentId}`);
      ctx.state.auditObject = { type: 'user', id: String(params.id) };
      ctx.state.auditDepartment = a.department;
      ctx.state.auditDetail = { role: a.role, department: a.department };
      requirePermission(ctx, 'role.assign', { department: a.department ?? undefined, role: a.role });
      await removeRole(deps.db, a.id);
      return getUser(deps.db, params.id);
    },
  );
}
