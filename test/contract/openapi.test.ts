import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { issuanceHarness, json, type IssuanceHarness } from '../support/issuance';
import { identities, runSchemathesis, schemathesisInstalled, type Identity } from '../support/contract';
import { cleanupClient, generateClient } from '../support/typed-client';
import { CALLBACK_EVENTS } from '../../api/openapi-webhooks';
import { STATUS_EVENTS } from '../../services/callbacks';

/**
 * The integration contract (docs/api.md): /openapi.json is a valid OpenAPI 3.1 document that
 * states every response, Schemathesis finds nothing against a live instance for each kind of
 * caller, and a client generated from it is typed well enough to issue a certificate.
 */

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  webhooks: Record<string, unknown>;
  components: { schemas: Record<string, unknown> };
};
type Operation = {
  operationId?: string;
  description?: string;
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; schema: Record<string, unknown> }[];
  responses: Record<string, { content?: Record<string, unknown>; headers?: Record<string, unknown> }>;
};

function optional<T>(name: string): T | undefined {
  try {
    // ESM-only dev tools, loaded at run time so that tsc does not need them installed.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(name) as T;
  } catch {
    const message = `${name} is not installed (npm ci): part of the contract test is skipped`;
    if (process.env.CI === 'true') throw new Error(message);
    console.warn(`\n  !!! ${message}\n`);
    return undefined;
  }
}

describe('the integration contract (/openapi.json)', function () {
  this.timeout(300_000);
  let h: IssuanceHarness;
  let doc: Doc;
  let ids: Identity[];

  const checking = process.env.CERTFLOW_CHECK_RESPONSES;
  before(async () => {
    // Every JSON answer of the live instance is also checked against its zod schema (api/routing.ts).
    process.env.CERTFLOW_CHECK_RESPONSES = '1';
    h = await issuanceHarness('sqlite');
    doc = await json<Doc>(await h.app.fetch('/openapi.json'), 200);
    ids = await identities(h);
  });
  after(async () => {
    await h?.close();
    if (checking === undefined) delete process.env.CERTFLOW_CHECK_RESPONSES;
    else process.env.CERTFLOW_CHECK_RESPONSES = checking;
  });

  const operations = () =>
    Object.entries(doc.paths).flatMap(([p, methods]) =>
      Object.entries(methods).map(([m, op]) => ({ key: `${m} ${p}`, op })),
    );

  it('is a valid OpenAPI 3.1 document', async function () {
    assert.equal(doc.openapi, '3.1.0');
    type Validator = { validate(d: unknown): Promise<{ valid: boolean; errors?: unknown }> };
    const lib = optional<{ Validator: new () => Validator }>('@seriousme/openapi-schema-validator');
    if (!lib) return this.skip();
    const result = await new lib.Validator().validate(doc);
    assert.ok(result.valid, JSON.stringify(result.errors));
  });

  it('names, describes and types every operation', () => {
    const ids = new Set<string>();
    for (const { key, op } of operations()) {
      assert.ok(op.operationId && /^[a-z][A-Za-z]+$/.test(op.operationId), `${key}: operationId ${op.operationId}`);
      assert.ok(!ids.has(op.operationId), `${key}: duplicate operationId ${op.operationId}`);
      ids.add(op.operationId);
      assert.ok(Array.isArray(op.security), `${key}: no security requirement`);
      for (const [status, r] of Object.entries(op.responses)) {
        if (status === '204') continue;
        assert.ok(r.content && Object.keys(r.content).length, `${key} ${status}: no body schema`);
        assert.ok(r.headers?.['X-Request-Id'], `${key} ${status}: X-Request-Id not documented`);
      }
      for (const s of ['400', '401', '403', '404', '422']) {
        const r = op.responses[s];
        if (r) assert.ok(r.content?.['application/problem+json'], `${key} ${s}: not problem+json`);
      }
    }
    assert.ok(ids.size > 50, `${ids.size} operations`);
  });

  /**
   * Generated clients type a body from its schema; a bare `{type: object}` types it as an empty record.
   * When this fails for an operation you added, give its RouteSpec a response schema (docs/api.md,
   * "Response schemas"): `responses: { 200: { description, schema: <zod schema from api/schemas/> } }`,
   * or `files: [<media type>]` for a PDF, DOCX or CSV body; a 204 has no body. Routes outside the
   * ApiRouter are described in api/openapi-extra.ts.
   */
  it('types every success response: a schema with properties, or a file', () => {
    const FILES = new Set([
      'application/pdf',
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      'text/csv',
      // The trust anchors' formats (api/openapi-extra.ts): PEM text, a DER CRL, an RFC 3161 reply.
      'application/x-pem-file',
      'application/pkix-crl',
      'application/timestamp-reply',
    ]);
    type Schema = Record<string, unknown>;
    const resolve = (s: Schema): Schema =>
      typeof s.$ref === 'string' ? resolve(doc.components.schemas[s.$ref.split('/').pop()!] as Schema) : s;
    const precise = (raw: Schema | undefined): boolean => {
      if (!raw) return false;
      const s = resolve(raw);
      const parts = (s.anyOf ?? s.oneOf ?? s.allOf) as Schema[] | undefined;
      if (parts) return parts.every(precise);
      if (s.type !== 'object') return s.type !== undefined || s.const !== undefined;
      return Object.keys((s.properties as object) ?? {}).length > 0 || typeof s.additionalProperties === 'object';
    };
    const untyped: string[] = [];
    for (const { key, op } of operations()) {
      for (const [status, r] of Object.entries(op.responses)) {
        if (!status.startsWith('2')) continue;
        const content = (r.content ?? {}) as Record<string, { schema?: Schema }>;
        if (status === '204') {
          if (Object.keys(content).length) untyped.push(`${key} 204: a 204 has no body`);
          continue;
        }
        if (!Object.keys(content).length) untyped.push(`${key} ${status}: no body documented`);
        for (const [type, media] of Object.entries(content)) {
          if (/json/.test(type) ? !precise(media.schema) : !FILES.has(type) || media.schema?.type !== 'string')
            untyped.push(`${key} ${status} ${type}: ${JSON.stringify(media.schema)}`);
        }
      }
    }
    assert.deepEqual(untyped, [], 'success responses without a precise schema (see the comment above this test)');
  });

  it('documents the trust endpoints with their binary bodies', () => {
    const tsa = doc.paths['/api/v1/tsa']!.post! as Operation & { requestBody: { content: Record<string, unknown> } };
    assert.equal(tsa.operationId, 'requestTimestamp');
    assert.deepEqual(Object.keys(tsa.requestBody.content), ['application/timestamp-query']);
    assert.ok(tsa.responses['200']!.content!['application/timestamp-reply']);
    assert.ok(tsa.responses['415']!.content!['application/problem+json']);
    for (const p of ['tsa.pem', 'crl.pem', 'root.pem']) {
      assert.ok(doc.paths[`/api/v1/trust/${p}`]!.get!.responses['200']!.content!['application/x-pem-file'], p);
    }
    assert.ok(doc.paths['/api/v1/trust/crl.crl']!.get!.responses['200']!.content!['application/pkix-crl']);
  });

  it('states what the server enforces: patterns, scopes, headers, the reason for use', () => {
    const get = (p: string, m = 'get') => doc.paths[p]![m]!;
    const number = get('/api/v1/certificates/{number}').parameters!.find((p) => p.name === 'number')!;
    assert.ok(new RegExp(number.schema.pattern as string).test('BL-330106-2026-0000042-B'));
    const submit = get('/api/v1/applications', 'post');
    assert.equal(submit.operationId, 'submitApplication');
    assert.deepEqual(submit.security, [{ bearer: [] }, { apiKey: ['applications:write'] }]);
    assert.ok(submit.parameters!.some((p) => p.name === 'Idempotency-Key' && p.in === 'header'));
    assert.ok(submit.responses['201']!.headers!.Location);
    const pdf = get('/api/v1/certificates/{number}/pdf');
    assert.ok(pdf.responses['200']!.content!['application/pdf']);
    assert.ok(pdf.responses['200']!.headers!['X-Content-Sha256']);
    assert.match(JSON.stringify(pdf.parameters), /required for API clients/);
    for (const p of ['/healthz', '/readyz', '/api/v1/trust/root.pem', '/api/v1/trust/departments/{file}'])
      assert.ok(doc.paths[p], p);
    assert.match(JSON.stringify(get('/api/v1/callbacks/signing-key')), /base64-decoded|decode it/);
  });

  it('documents every callback certflow sends as a webhook, with its signature scheme', () => {
    // What services/callbacks.ts sends; a new event needs its line in WEBHOOKS (api/openapi-webhooks.ts).
    // services/sharing/access-requests.ts notifyRequester sends the last.
    const sent = ['certificate.issued', ...STATUS_EVENTS.map((e) => `certificate.${e}`), 'access-request.decided'];
    assert.deepEqual(Object.keys(doc.webhooks).sort(), sent.sort(), 'a callback certflow sends is not a webhook');
    assert.deepEqual(Object.keys(doc.webhooks).sort(), [...CALLBACK_EVENTS].sort());
    const issued = JSON.stringify(doc.webhooks['certificate.issued']);
    for (const h of ['X-Certflow-Event', 'X-Certflow-Signature', 'X-Certflow-Body-Sha256', 'X-Certflow-Delivery']) {
      assert.ok(issued.includes(h), h);
    }
    assert.match(issued, /2xx/i);
    assert.ok(doc.components.schemas.CertificateIssuedCallback);
  });

  it('is rendered for people at /docs from a local copy of the viewer, no CDN', async function () {
    const page = await h.app.fetch('/docs');
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.doesNotMatch(html, /https?:\/\//, 'no external script');
    assert.match(html, /src="\/docs\/scalar\.js"/);
    const js = await h.app.fetch('/docs/scalar.js');
    if (js.status === 503) return this.skip();
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    assert.ok((await js.arrayBuffer()).byteLength > 100_000);
  });

  it('a TypeScript client generated from it compiles with typed responses and issues a certificate', async function () {
    if (!optional('openapi-typescript') || !optional('openapi-fetch')) return this.skip();
    const { dir, diagnostics } = await generateClient(doc);
    try {
      assert.deepEqual(diagnostics, []);
      // The compile blocked this process (and the app in it) for seconds: let the server's overdue
      // keep-alive timers close idle sockets before the client would reuse one (ECONNRESET).
      await new Promise((r) => setTimeout(r, 500));
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { issueOne } = require(path.join(dir, 'client.ts')) as {
        issueOne(base: string, key: string, ref: string): Promise<string>;
      };
      const apiKey = ids.find((i) => i.name === 'api-key')!.headers.authorization!.replace('ApiKey ', '');
      const number = await issueOne(h.app.url, apiKey, 'TYPED-CLIENT-1');
      assert.match(number, /^BL-/);
    } finally {
      cleanupClient(dir);
    }
  });

  describe('Schemathesis against the live instance', () => {
    for (const name of ['anonymous', 'api-key', 'filler', 'admin'] as const) {
      it(`finds no server error, schema, status or content-type mismatch as ${name}`, async function () {
        if (!schemathesisInstalled()) {
          const message = 'Schemathesis is not installed (bash scripts/setup.sh): skipped';
          if (process.env.CI === 'true') throw new Error(message);
          console.warn(`\n  !!! ${message}\n`);
          return this.skip();
        }
        const reportDir = path.resolve(__dirname, '../../test-artifacts/schemathesis', name);
        fs.mkdirSync(reportDir, { recursive: true });
        // Signing out would end the session the rest of the run uses.
        const identity = ids.find((i) => i.name === name)!;
        const run = await runSchemathesis(h.app.url, identity, {
          maxExamples: 5,
          maxTime: 35,
          exclude: ['logout'],
          reportDir,
        });
        fs.writeFileSync(path.join(reportDir, 'output.txt'), run.output);
        assert.equal(
          run.code,
          0,
          run.output
            .split('\n')
            .filter((l) => !l.startsWith('    '))
            .slice(-80)
            .join('\n'),
        );
        assert.match(run.output, /\d+ generated, \d+ passed/);
      });
    }
  });
});
