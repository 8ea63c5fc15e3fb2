/**
 * The routes outside /api/v1's ApiRouter (api/routes/health.ts, trustRoutes in api/routes/seals.ts),
 * described by hand.
 */

const requestId = { 'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' } };
const problem = (description: string) => ({
  description,
  headers: requestId,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});
const pem = (description: string) => ({
  description,
  headers: requestId,
  content: { 'application/x-pem-file': { schema: { type: 'string' } } },
});
const check = {
  type: 'object',
  required: ['ok', 'ms'],
  properties: { ok: { type: 'boolean' }, ms: { type: 'number' }, error: { type: 'string' }, kind: { type: 'string' } },
};

export function extraPaths(): Record<string, Record<string, unknown>> {
  const open = { security: [], tags: ['health'] };
  return {
    '/healthz': {
      get: {
        ...open,
        operationId: 'getLiveness',
        summary: 'Liveness: the process answers',
        responses: {
          200: {
            description: 'Up',
            headers: requestId,
            content: {
              'application/json': {
                schema: { type: 'object', required: ['status'], properties: { status: { const: 'up' } } },
              },
            },
          },
        },
      },
    },
    '/readyz': {
      get: {
        ...open,
        operationId: 'getReadiness',
        summary: 'Readiness: the database, the cache and Temporal answer',
        responses: {
          200: {
            description: 'Ready',
            headers: requestId,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['status', 'checks'],
                  properties: {
                    status: { const: 'ready' },
                    checks: { type: 'object', additionalProperties: check },
                  },
                },
              },
            },
          },
          503: problem('Not ready; `checks` says which dependency is unreachable'),
        },
      },
    },
    '/openapi.json': {
      get: {
        ...open,
        operationId: 'getOpenApiDocument',
        summary: 'This document',
        responses: {
          200: {
            description: 'OpenAPI 3.1',
            headers: requestId,
            content: { 'application/json': { schema: { type: 'object' } } },
          },
        },
      },
    },
    '/api/v1/trust/root.pem': {
      get: {
        security: [],
        tags: ['trust'],
        operationId: 'getTrustRoot',
        summary: 'The platform root certificate (PEM) that every department signing certificate chains to',
        responses: {
          200: pem('The root certificate'),
          404: problem('No platform root is configured'),
          '4XX': problem('Error'),
        },
      },
    },
    '/api/v1/trust/departments/{file}': {
      get: {
        security: [],
        tags: ['trust'],
        operationId: 'getDepartmentCertificate',
        summary: "A department's default signing certificate (PEM)",
        parameters: [
          {
            name: 'file',
            in: 'path',
            required: true,
            description: '`<department code>.pem`',
            schema: { type: 'string', pattern: '^[a-z][a-z0-9-]{1,31}\\.pem$' },
            example: 'market.pem',
          },
        ],
        responses: {
          200: pem('The signing certificate'),
          404: problem('No such department or no seal'),
          '4XX': problem('Error'),
        },
      },
    },
  };
}
