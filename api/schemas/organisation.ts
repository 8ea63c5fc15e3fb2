import { z } from 'zod';
import { API_SCOPES, ROLES } from '../../domain/access';
import { AUDIT_CATEGORIES } from '../../db/audit';
import { DEMO, departmentCode, isoTime, list, page } from './common';

/** Response bodies of pings, sign-in, departments, users, API clients and the audit log (api/routes/*.ts). */

export const PingStarted = z.looseObject({ id: z.uuid(), workflowId: z.string() }).meta({ id: 'PingStarted' });

export const PingState = z
  .looseObject({
    pingId: z.uuid(),
    message: z.string(),
    status: z.enum(['recording', 'recorded']),
    recordedAt: isoTime.optional().describe('Once recorded'),
  })
  .meta({ id: 'PingState' });

const roleLabel = z.looseObject({ zh: z.string(), en: z.string() });

const role = z
  .looseObject({
    role: z.enum(ROLES),
    department: z.string().nullable().describe('null: the role holds on every department (platform roles)'),
  })
  .describe('A role held in a department');

export const CurrentUser = z
  .looseObject({
    kind: z.literal('user'),
    id: z.number().int(),
    username: z.string(),
    displayName: z.string(),
    roles: z.array(role.extend({ label: roleLabel })),
  })
  .meta({
    id: 'CurrentUser',
    examples: [
      {
        kind: 'user',
        id: 2,
        username: 'market-filler',
        displayName: `${DEMO.department.name}填报员`,
        roles: [{ role: 'filler', department: 'market', label: { zh: '填报人员', en: 'Filler' } }],
      },
    ],
  });

export const CurrentApiClient = z
  .looseObject({
    kind: z.literal('api-client'),
    id: z.string(),
    name: z.string(),
    department: departmentCode,
    scopes: z.array(z.enum(API_SCOPES)),
  })
  .meta({ id: 'CurrentApiClient' });

export const CurrentActor = z.union([CurrentUser, CurrentApiClient]).meta({ id: 'CurrentActor' });

export const LoginResult = z
  .looseObject({
    token: z.string().describe('Send as `Authorization: Bearer <token>`'),
    expiresAt: isoTime,
    user: CurrentUser,
  })
  .meta({ id: 'LoginResult' });

export const Department = z
  .looseObject({
    id: z.number().int(),
    code: departmentCode,
    name: z.string(),
    regionCode: z.string().describe('Six-digit administrative region code (GB/T 2260)'),
    creditCode: z.string().nullable(),
    parentCode: z.string().nullable(),
    createdAt: isoTime,
  })
  .meta({
    id: 'Department',
    examples: [{ id: 1, ...DEMO.department, creditCode: null, parentCode: null, createdAt: DEMO.issuedAt }],
  });
export const DepartmentList = list(Department).meta({ id: 'DepartmentList' });

export const StaffUser = z
  .looseObject({
    id: z.number().int(),
    username: z.string(),
    displayName: z.string(),
    active: z.boolean(),
    roles: z.array(role.extend({ id: z.number().int().describe('The assignment id (`revokeRole`)') })),
  })
  .meta({
    id: 'User',
    examples: [
      {
        id: 3,
        username: 'market-reviewer',
        displayName: `${DEMO.department.name}审核员`,
        active: true,
        roles: [{ id: 3, role: 'reviewer', department: 'market' }],
      },
    ],
  });
export const StaffUserList = list(StaffUser).meta({ id: 'UserList' });

export const ApiClient = z
  .looseObject({
    id: z.string(),
    name: z.string(),
    department: departmentCode,
    scopes: z.array(z.enum(API_SCOPES)),
    callbackOrigins: z.array(z.string()).describe("Origins its applications' callbackUrl may point at"),
    active: z.boolean(),
    createdAt: isoTime,
    lastUsedAt: isoTime.nullable(),
  })
  .meta({ id: 'ApiClient' });
export const ApiClientList = list(ApiClient).meta({ id: 'ApiClientList' });
export const CreatedApiClient = ApiClient.extend({
  apiKey: z.string().describe('`<id>.<secret>`: shown only here; send as `Authorization: ApiKey <apiKey>`'),
}).meta({ id: 'CreatedApiClient' });

export const AuditEntry = z
  .looseObject({
    seq: z.number().int(),
    at: isoTime,
    category: z.enum(AUDIT_CATEGORIES),
    action: z.string(),
    outcome: z.enum(['success', 'failure', 'denied']),
    actorType: z.string(),
    actorId: z.string().nullable(),
    actorName: z.string().nullable(),
    department: z.string().nullable(),
    objectType: z.string().nullable(),
    objectId: z.string().nullable(),
    requestId: z.string().nullable(),
    ip: z.string().nullable(),
    detail: z.record(z.string(), z.unknown()).nullable(),
    prevHash: z.string(),
    hash: z.string(),
  })
  .meta({ id: 'AuditEntry' });
export const AuditPage = page(AuditEntry).meta({ id: 'AuditPage' });

export const AuditChainReport = z
  .union([
    z.looseObject({
      ok: z.literal(true),
      entries: z.number().int(),
      headHash: z.string(),
      keyedFrom: z.number().int(),
    }),
    z.looseObject({
      ok: z.literal(false),
      entries: z.number().int(),
      firstBroken: z.looseObject({ seq: z.number().int(), reason: z.string() }),
    }),
  ])
  .meta({ id: 'AuditChainReport' });
