import { z, type ZodType } from 'zod';
import type { ApiRouter, ResponseSpec, RouteSpec } from './routing';
import { webhooks, webhookSchemas } from './openapi-webhooks';
import { extraPaths } from './openapi-extra';

/**
 * /openapi.json, built from the routes' own zod schemas (api/routing.ts) so that what is
 * documented is what is enforced; docs/api.md explains the contract around it.
 */

type AnySpec = RouteSpec<ZodType | undefined, ZodType | undefined, ZodType | undefined>;

const json = (schema: ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;

/** Named schemas (zod `.meta({ id })`) met while building, hoisted into components.schemas. */
let named: Record<string, unknown> = {};

/** Without $schema (OpenAPI 3.1 schema objects use the document's dialect), named parts as component refs. */
function schemaOf(schema: ZodType, io: 'input' | 'output') {
  const text = JSON.stringify(json(schema, io)).replaceAll('"#/$defs/', '"#/components/schemas/');
  const { $schema: _dialect, $defs, ...rest } = JSON.parse(text) as Record<string, unknown>;
  Object.assign(named, $defs ?? {});
  return rest;
}

const problemRef = { $ref: '#/components/schemas/Problem' };
const requestIdHeader = { $ref: '#/components/headers/X-Request-Id' };

const ERROR_TEXT: Record<number, string> = {
  400: 'Malformed path or query parameters; `errors` names each field',
  401: 'Not signed in, or the token or API key is not valid',
  403: 'Signed in, but not allowed (role, department or API-key scope)',
  404: 'No such resource, or not visible to the caller',
  409: 'Conflicts with the current state',
  413: 'Body too large',
  415: 'Unsupported Content-Type',
  422: 'The body is well-formed but has invalid fields; `errors` names each field',
  429: 'Rate limited; see Retry-After',
  502: 'A system certflow depends on refused or did not answer',
  503: 'A dependency is unavailable; try again later',
};

function problemResponse(description: string) {
  return {
    description,
    headers: { 'X-Request-Id': requestIdHeader },
    content: { 'application/problem+json': { schema: problemRef } },
  };
}

/** A 2xx: its zod schema, a raw JSON schema or files; without any, a bare object (test/contract flags it). */
function successResponse(status: number, r: ResponseSpec) {
  const contentType = r.contentType ?? 'application/json';
  const schema = r.schema ? schemaOf(r.schema, 'output') : (r.rawSchema ?? { type: 'object' });
  const content = r.files
    ? Object.fromEntries(r.files.map((type) => [type, { schema: { type: 'string', contentMediaType: type } }]))
    : { [contentType]: { schema, ...(r.example ? { example: r.example } : {}) } };
  return {
    description: r.description,
    headers: { 'X-Request-Id': requestIdHeader, ...(r.headers ?? {}) },
    ...(r.noContent || status === 204 ? {} : { content }),
  };
}

function operation(prefix: string, s: AnySpec) {
  const auth = s.auth ?? 'any';
  const parameters: unknown[] = [...schemaParams(s.params, 'path'), ...schemaParams(s.query, 'query')];
  for (const h of s.requestHeaders ?? []) parameters.push(h);
  const responses: Record<string, unknown> = {};
  const declared = Object.entries(s.responses ?? { 200: 'OK' }).map(
    ([status, r]) => [Number(status), typeof r === 'string' ? { description: r } : r] as const,
  );
  for (const [status, r] of declared) {
    responses[status] = status >= 400 ? problemResponse(r.description) : successResponse(status, r);
  }
  const errors = new Set<number>(s.errors ?? []);
  if (s.params || s.query) errors.add(400);
  if (auth !== 'public') [401, 403].forEach((e) => errors.add(e));
  if (s.params) errors.add(404);
  if (s.body) errors.add(422);
  for (const e of [...errors].sort()) responses[e] ??= problemResponse(ERROR_TEXT[e] ?? 'Error');
  // Every other client error is problem+json too (405 and 501 for methods the path does not take).
  responses['4XX'] = problemResponse('Any other client error');
  const security =
    auth === 'public'
      ? []
      : auth === 'holder'
        ? [{ holderSession: [] }]
        : auth === 'staff' || !s.scopes
          ? [{ bearer: [] }]
          : [{ bearer: [] }, { apiKey: s.scopes }];
  const access =
    auth === 'public'
      ? 'No sign-in.'
      : auth === 'holder'
        ? 'A signed-in holder (session cookie from the holder sign-in, docs/holders.md).'
        : s.scopes
          ? `Staff (bearer token) or a business system (API key${s.scopes.length ? ` with scope ${s.scopes.join(', ')}` : ''}).`
          : 'Signed-in staff only.';
  return {
    operationId: s.operationId,
    summary: s.summary,
    description: [s.description, `**Access:** ${access}`].filter(Boolean).join('\n\n'),
    tags: [s.tag],
    security,
    ...(parameters.length ? { parameters } : {}),
    ...(s.body || s.requestContent ? { requestBody: requestBody(s) } : {}),
    responses,
    ...(s.callbacks ? { callbacks: s.callbacks } : {}),
  };
}

function requestBody(s: AnySpec) {
  const content: Record<string, unknown> = {};
  if (s.body)
    content['application/json'] = {
      schema: schemaOf(s.body, 'input'),
      ...(s.bodyExample ? { example: s.bodyExample } : {}),
    };
  Object.assign(content, s.requestContent ?? {});
  return { required: true, content };
}

export function openApiDocument(routers: ApiRouter[], info: { title: string; version: string; description?: string }) {
  named = {};
  const paths: Record<string, Record<string, unknown>> = { ...extraPaths() };
  for (const r of routers) {
    for (const s of r.specs) {
      const path = (r.prefix + s.path).replace(/:(\w+)/g, '{$1}');
      (paths[path] ??= {})[s.method] = operation(r.prefix, s);
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      ...info,
      description: info.description ?? DESCRIPTION,
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: '/', description: 'This certflow instance' }],
    tags: TAGS,
    paths,
    webhooks: webhooks(),
    components: {
      securitySchemes: {
        holderSession: {
          type: 'apiKey',
          in: 'cookie',
          name: 'certflow_holder',
          description: 'Holders: the session cookie set by the holder sign-in (docs/holders.md).',
        },
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'Staff: the `token` from `POST /api/v1/auth/login`, as `Authorization: Bearer <token>`.',
        },
        apiKey: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description:
            'Business systems: `Authorization: ApiKey <id>.<secret>` (the key shown once by `POST /api/v1/api-clients`). ' +
            'The scopes an operation needs are listed in its security requirement: ' +
            'applications:write, applications:read, certificates:read, certificates:verify, certificates:compare, ' +
            'certificates:fetch, certificates:import, ' +
            'operations:ping.',
        },
      },
      headers: {
        'X-Request-Id': {
          description:
            "The request id: the caller's own X-Request-Id if it was sane, else a new one; in logs and audit",
          schema: { type: 'string' },
        },
      },
      schemas: { Problem: PROBLEM, ...webhookSchemas(), ...named },
    },
  };
}

const PROBLEM = {
  type: 'object',
  description: 'RFC 9457 problem details: every error certflow answers has this shape',
  required: ['title', 'status'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string', examples: ['Unprocessable Content'] },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    detail: { type: 'string' },
    instance: { type: 'string' },
    requestId: { type: 'string' },
    errors: {
      type: 'array',
      description: 'One entry per invalid field: `field` is its dotted path (`faceData.regCapital`, `query.limit`)',
      items: {
        type: 'object',
        required: ['field', 'message'],
        properties: { field: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
};

const DESCRIPTION = [
  'certflow issues, stores and verifies government e-certificates (电子证照).',
  'Business systems submit face data (`submitApplication`), follow the application, receive signed callbacks',
  '(see `webhooks`), download the sealed PDF with a reason for use (用证事由) and verify it.',
  'Errors are always `application/problem+json` (RFC 9457) naming the invalid field.',
  'Every response carries `X-Request-Id`. Walkthrough: docs/api.md and examples/approval-system/ in the repository.',
].join(' ');

const TAGS = [
  { name: 'issuance', description: 'Submit and follow applications (docs/issuance.md)' },
  { name: 'certificates', description: 'Issued certificates: detail, PDF, signed record, compare' },
  { name: 'verification', description: 'Public verification of a certificate or a PDF' },
  {
    name: 'sharing',
    description: 'Sharing between departments: sharing conditions, fetch of annotated copies (docs/sharing.md)',
  },
  { name: 'callbacks', description: 'The key that signs callbacks (see `webhooks`)' },
  { name: 'health', description: 'Probes and this document' },
  { name: 'trust', description: "Public trust anchors: the platform root and the departments' signing certificates" },
];

function schemaParams(schema: ZodType | undefined, where: 'path' | 'query') {
  if (!schema) return [];
  const j = schemaOf(schema, 'input') as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return Object.entries(j.properties ?? {}).map(([name, s]) => {
    const { description, examples, ...rest } = s as { description?: string; examples?: unknown[] };
    return {
      name,
      in: where,
      required: where === 'path' || (j.required ?? []).includes(name),
      ...(description ? { description } : {}),
      schema: rest,
      ...(examples?.length ? { example: examples[0] } : {}),
    };
  });
}
