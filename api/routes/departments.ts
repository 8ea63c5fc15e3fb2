import { z } from 'zod';
import type { AppDeps } from '../app';
import type { ApiRouter } from '../routing';
import { conflict, notFound, unprocessable } from '../problem';
import { requirePermission } from '../auth';
import { createDepartment, getDepartment, listDepartments, updateDepartment } from '../../db/org';
import { Department, DepartmentList } from '../schemas/organisation';

export const departmentCode = z
  .string()
  .regex(/^[a-z][a-z0-9-]{1,31}$/, 'lower-case letters, digits and dashes, 2–32 characters, starting with a letter');
const regionCode = z.string().regex(/^\d{6}$/, 'six-digit administrative region code (GB/T 2260)');
const creditCode = z.string().regex(/^[0-9A-HJ-NPQRTUWXY]{18}$/, '18-character unified social credit code');

const departmentBody = z.object({
  code: departmentCode,
  name: z.string().trim().min(2).max(100),
  regionCode,
  creditCode: creditCode.nullish(),
  parent: departmentCode.nullish(),
});

export function departmentRoutes(api: ApiRouter, deps: AppDeps) {
  api.route(
    {
      method: 'get',
      path: '/departments',
      operationId: 'listDepartments',
      responses: { 200: { description: 'All departments', schema: DepartmentList } },
      summary: 'All departments',
      tag: 'organisation',
      auth: 'staff',
    },
    async () => ({
      items: await listDepartments(deps.db),
    }),
  );

  api.route(
    {
      method: 'get',
      path: '/departments/:code',
      operationId: 'getDepartment',
      responses: { 200: { description: 'The department', schema: Department } },
      summary: 'One department',
      tag: 'organisation',
      auth: 'staff',
      params: z.object({ code: departmentCode }),
    },
    async (_ctx, { params }) =>
      (await getDepartment(deps.db, params.code)) ?? Promise.reject(notFound(`No department ${params.code}`)),
  );

  api.route(
    {
      method: 'post',
      path: '/departments',
      operationId: 'createDepartment',
      summary: 'Create a department (platform admin)',
      tag: 'organisation',
      auth: 'staff',
      body: departmentBody,
      responses: { 201: { description: 'Created', schema: Department } },
      audit: { category: 'configuration', action: 'department.create' },
    },
    async (ctx, { body }) => {
      ctx.state.auditObject = { type: 'department', id: body.code };
      ctx.state.auditDepartment = body.code;
      requirePermission(ctx, 'department.create');
      if (await getDepartment(deps.db, body.code)) throw conflict(`Department ${body.code} already exists`);
      const parent = body.parent ? await getDepartment(deps.db, body.parent) : null;
      if (body.parent && !parent)
        throw unprocessable('Unknown parent department', [
          { field: 'parent', message: `no department ${body.parent}` },
        ]);
      ctx.status = 201;
      return createDepartment(deps.db, { ...body, parentId: parent?.id ?? null });
    },
  );

  api.route(
    {
      method: 'put',
      path: '/departments/:code',
      operationId: 'updateDepartment',
      responses: { 200: { description: 'The department as changed', schema: Department } },
      summary: 'Change a department (platform admin or its department admin)',
      tag: 'organisation',
      auth: 'staff',
      params: z.object({ code: departmentCode }),
      body: departmentBody.omit({ code: true }).partial(),
      audit: { category: 'configuration', action: 'department.update' },
    },
    async (ctx, { params, body }) => {
      ctx.state.auditObject = { type: 'department', id: params.code };
      ctx.state.auditDepartment = params.code;
      requirePermission(ctx, 'department.update', { department: params.code });
      if (!(await getDepartment(deps.db, params.code))) throw notFound(`No department ${params.code}`);
      const parent = body.parent ? await getDepartment(deps.db, body.parent) : undefined;
      if (body.parent && !parent)
        throw unprocessable('Unknown parent department', [
          { field: 'parent', message: `no department ${body.parent}` },
        ]);
      if (parent?.code === params.code)
        throw unprocessable('A department cannot be its own parent', [
          { field: 'parent', message: 'same as the department' },
        ]);
      ctx.state.auditDetail = { changed: Object.keys(body) };
      return updateDepartment(deps.db, params.code, {
        ...body,
        parentId: body.parent === undefined ? undefined : (parent?.id ?? null),
      });
    },
  );
}
