/**
 * The routes outside /api/v1's ApiRouter, described by hand: the probes (api/routes/health.ts), the trust
 * anchors (trustRoutes in api/routes/seals.ts) and the TSA and CRL (timeRoutes in api/routes/trust.ts), which
 * speak PEM, DER and RFC 3161 rather than JSON. test/contract/openapi.test.ts checks every one is here.
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
/** A binary body of this media type (OpenAPI 3.1: the media type, no `format: binary`). */
const file = (type: string, description: string) => ({
  description,
  headers: requestId,
  content: { [type]: { schema: { type: 'string', contentMediaType: type } } },
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
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['openapi', 'info', 'paths'],
                  properties: {
                    openapi: { const: '3.1.0' },
                    info: { type: 'object' },
                    paths: { type: 'object' },
                    webhooks: { type: 'object' },
                    components: { type: 'object' },
                  },
                },
              },
            },
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
    '/api/v1/trust/tsa.pem': {
      get: {
        security: [],
        tags: ['trust'],
        operationId: 'getTsaChain',
        summary: "The time-stamping authority's certificate chain (PEM): TSA certificate first, then the root",
        responses: { 200: pem('The chain'), '4XX': problem('Error') },
      },
    },
    '/api/v1/trust/crl.pem': {
      get: {
        security: [],
        tags: ['trust'],
        operationId: 'getCrlPem',
        summary: "The platform root's certificate revocation list (PEM): every revoked seal certificate",
        description: 'Re-issued when a seal is revoked (`revokeSeal`) and before it goes stale (docs/trust.md).',
        responses: { 200: pem('The CRL'), '4XX': problem('Error') },
      },
    },
    '/api/v1/trust/crl.crl': {
      get: {
        security: [],
        tags: ['trust'],
        operationId: 'getCrlDer',
        summary: 'The same certificate revocation list, DER-encoded',
        responses: { 200: file('application/pkix-crl', 'The CRL (DER)'), '4XX': problem('Error') },
      },
    },
    '/api/v1/tsa': {
      post: {
        security: [],
        tags: ['trust'],
        operationId: 'requestTimestamp',
        summary: 'RFC 3161 time-stamping: a DER TimeStampReq in, a DER TimeStampResp out',
        description:
          'The TSA that timestamps every seal signature (docs/trust.md), over HTTP as RFC 3161 §3.4 describes: ' +
          'POST the DER `TimeStampReq` with `Content-Type: application/timestamp-query`. A request the TSA cannot ' +
          'read is answered 200 with a `TimeStampResp` whose status is `rejection` (RFC 3161 §2.4.2), not an HTTP ' +
          'error; the chain to check tokens with is `getTsaChain`.',
        requestBody: {
          required: true,
          content: {
            'application/timestamp-query': {
              schema: {
                type: 'string',
                contentMediaType: 'application/timestamp-query',
                minLength: 1,
                maxLength: 65536,
              },
            },
          },
        },
        responses: {
          200: file('application/timestamp-reply', 'The DER TimeStampResp (granted, or rejection with its reason)'),
          400: problem('Empty body'),
          413: problem('Larger than 64 KiB'),
          415: problem('Not application/timestamp-query'),
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
