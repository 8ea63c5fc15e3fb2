import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { AppDeps } from '../app';
import type { ApiRouter } from '../routing';
import { notFound, unprocessable } from '../problem';
import { requirePermission } from '../auth';
import { departmentCode } from './departments';
import { API_SCOPES, departmentsFor } from '../../domain/access';
import {
  createApiClient,
  findApiClient,
  getDepartment,
  listApiClients,
  setApiClientActive,
  setApiClientCallbackOrigins,
  type ApiClientRow,
} from '../../db/org';
import { parseOrigin } from '../../services/callback-target';
import { newToken, sha256Hex } from '../../platform/secrets';
import { ApiClient, ApiClientList, CreatedApiClient } from '../schemas/organisation';

const view = ({ secretHash: _secret, ...c }: ApiClientRow) => c;

/** Where the client's callbacks may go (services/callback-target.ts): origins only, at most 10. */
const callbackOrigins = z
  .array(
    z.string().transform((v, ctx) => {
      try {
        return parseOrigin(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `${v}: ${(err as Error).message}` });
        return z.NEVER;
      }
    }),
  )
  .max(10);

/** Business systems (approval systems) that call certflow with `ApiKey <id>.<secret>`. */
export function apiClientRoutes(api: ApiRouter, deps: AppDeps) {
  api.route(
    {
      method: 'get',
      path: '/api-clients',
      operationId: 'listApiClients',
      responses: { 200: { description: 'API clients the caller manages', schema: ApiClientList } },
      summary: 'API clients the caller manages',
      tag: 'organisation',
      auth: 'staff',
    },
    async (ctx) => {
      const scope = departmentsFor(ctx.state.actor, 'api-client.manage');
      if (scope !== null && scope.length === 0) requirePermission(ctx, 'api-client.manage');
      return { items: (await listApiClients(deps.db, scope ?? undefined)).map(view) };
    },
  );

  api.route(
    {
      method: 'post',
      path: '/api-clients',
      operationId: 'createApiClient',
      summary: 'Register a business system; the API key is shown only in this response',
      tag: 'organisation',
      auth: 'staff',
      body: z.object({
        name: z.string().trim().min(2).max(100),
        department: departmentCode,
        scopes: z.array(z.enum(API_SCOPES)).min(1),
        callbackOrigins: callbackOrigins.optional(),
      }),
      responses: { 201: { description: 'Created; `apiKey` is shown once', schema: CreatedApiClient } },
      audit: { category: 'configuration', action: 'api-client.create' },
    },
    async (ctx, { body }) => {
      ctx.state.auditDepartment = body.department;
      requirePermission(ctx, 'api-client.manage', { department: body.department });
      const dept = await getDepartment(deps.db, body.department);
      if (!dept)
        throw unprocessable('Unknown department', [
          { field: 'department', message: `no department ${body.department}` },
        ]);
      const id = `ac_${randomBytes(9).toString('hex')}`;
      const secret = newToken();
      ctx.state.auditObject = { type: 'api-client', id };
      const origins = [...new Set(body.callbackOrigins ?? [])];
      ctx.state.auditDetail = { name: body.name, scopes: body.scopes, callbackOrigins: origins };
      const client = await createApiClient(deps.db, {
        id,
        name: body.name,
        departmentId: dept.id,
        secretHash: sha256Hex(secret),
        scopes: [...new Set(body.scopes)],
        callbackOrigins: origins,
      });
      ctx.status = 201;
      return { ...view(client), apiKey: `${id}.${secret}` };
    },
  );

  api.route(
    {
      method: 'delete',
      path: '/api-clients/:id',
      operationId: 'deleteApiClient',
      responses: { 200: { description: 'The client, now inactive', schema: ApiClient } },
      summary: 'Deactivate an API client (its key stops working at once)',
      tag: 'organisation',
      auth: 'staff',
      params: z.object({ id: z.string().regex(/^ac_[0-9a-f]{18}$/) }),
      audit: { category: 'configuration', action: 'api-client.deactivate' },
    },
    async (ctx, { params }) => {
      ctx.state.auditObject = { type: 'api-client', id: params.id };
      const client = await findApiClient(deps.db, params.id);
      if (!client) throw notFound(`No API client ${params.id}`);
      ctx.state.auditDepartment = client.department;
      requirePermission(ctx, 'api-client.manage', { department: client.department });
      await setApiClientActive(deps.db, client.id, false);
      return view({ ...client, active: false });
    },
  );

  api.route(
    {
      method: 'put',
      path: '/api-clients/:id/callback-origins',
      operationId: 'setApiClientCallbackOrigins',
      responses: { 200: { description: 'The client with its new origins', schema: ApiClient } },
      summary: "Set the origins the client's callbackUrl may point at (replaces the list)",
      tag: 'organisation',
      auth: 'staff',
      params: z.object({ id: z.string().regex(/^ac_[0-9a-f]{18}$/) }),
      body: z.object({ callbackOrigins }),
      audit: { category: 'configuration', action: 'api-client.callback-origins' },
    },
    async (ctx, { params, body }) => {
      ctx.state.auditObject = { type: 'api-client', id: params.id };
      const client = await findApiClient(deps.db, params.id);
      if (!client) throw notFound(`No API client ${params.id}`);
      ctx.state.auditDepartment = client.department;
      requirePermission(ctx, 'api-client.manage', { department: client.department });
      const origins = [...new Set(body.callbackOrigins)];
      ctx.state.auditDetail = { callbackOrigins: origins };
      await setApiClientCallbackOrigins(deps.db, client.id, origins);
      return view({ ...client, callbackOrigins: origins });
    },
  );
}
