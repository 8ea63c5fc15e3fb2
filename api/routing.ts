import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { z, ZodType } from 'zod';
import { fieldErrors, unprocessable, badRequest, unauthorized, forbidden, HttpProblem, problemOf } from './problem';
import { recordAudit } from './audit';
import type { AuditCategory } from '../db/audit';
import type { ApiScope } from '../domain/access';

/**
 * Routes are declared with their schemas once: the same zod schema validates the request
 * and describes it in /openapi.json, so the document cannot drift from the behaviour.
 */
type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteSpec<
  B extends ZodType | undefined,
  Q extends ZodType | undefined,
  P extends ZodType | undefined,
> {
  method: Method;
  /** Koa-router style, relative to the router's prefix: `/pings/:id`. */
  path: string;
  /** The SDK method name a generated client gives this operation: a verb and a noun, camelCase. */
  operationId: string;
  summary: string;
  /** Longer prose for /docs (Markdown); the access rule is appended from `auth` and `scopes`. */
  description?: string;
  tag: string;
  body?: B;
  query?: Q;
  params?: P;
  /**
   * Documented responses: status → description, or the full response (schema, headers). Statuses
   * of 400 and more are problem+json; the usual errors (400/401/403/404/422) are added from the
   * spec's shape, `errors` lists further ones.
   */
  responses?: Record<number, string | ResponseSpec>;
  errors?: number[];
  /** API-key scopes that let a business system call this; absent: staff only (bearer). */
  scopes?: ApiScope[];
  /** Header parameters (Idempotency-Key), as OpenAPI parameter objects. */
  requestHeaders?: Record<string, unknown>[];
  /** Non-JSON request bodies (a PDF, a DOCX): media type → OpenAPI media type object. */
  requestContent?: Record<string, unknown>;
  bodyExample?: unknown;
  /** OpenAPI callbacks object (the callbackUrl a submission names). */
  callbacks?: Record<string, unknown>;
  /**
   * Who may call at all (finer checks: requirePermission in the handler).
   * `any` (default): signed-in staff or a business system; `staff`: signed-in staff only;
   * `public`: anyone, no sign-in; `holder`: a holder signed in to the portal (docs/holders.md).
   * Holders may call only `holder` and `public` routes: their session is no staff credential.
   */
  auth?: 'any' | 'staff' | 'public' | 'holder';
  /**
   * Audit this route's outcome, success or failure, under this category. The handler names
   * the object with ctx.state.auditObject (and auditDepartment / auditDetail).
   */
  audit?: { category: AuditCategory; action: string };
}

export interface ResponseSpec {
  description: string;
  /** The body's zod schema; the default documents a JSON object. */
  schema?: ZodType;
  /** A JSON schema, for bodies zod does not describe (binary files). */
  rawSchema?: Record<string, unknown>;
  /** A file body (PDF, DOCX, CSV): its media types, each documented as a binary string of that type. */
  files?: string[];
  contentType?: string;
  headers?: Record<string, unknown>;
  example?: unknown;
  noContent?: boolean;
}

type Parsed<S> = S extends ZodType ? z.output<S> : undefined;

export interface RouteInput<B, Q, P> {
  body: B;
  query: Q;
  params: P;
}

export class ApiRouter {
  readonly router: Router;
  readonly specs: RouteSpec<ZodType | undefined, ZodType | undefined, ZodType | undefined>[] = [];

  constructor(readonly prefix: string) {
    this.router = new Router({ prefix });
  }

  route<
    B extends ZodType | undefined = undefined,
    Q extends ZodType | undefined = undefined,
    P extends ZodType | undefined = undefined,
  >(
    spec: RouteSpec<B, Q, P>,
    handler: (ctx: Context, input: RouteInput<Parsed<B>, Parsed<Q>, Parsed<P>>) => unknown | Promise<unknown>,
  ): void {
    this.specs.push(spec);
    this.router[spec.method](spec.path, async (ctx) => {
      const actor = ctx.state.actor;
      const auth = spec.auth ?? 'any';
      if (auth !== 'public' && actor.kind === 'anonymous') throw unauthorized();
      if ((auth === 'holder') !== (actor.kind === 'holder') && auth !== 'public') {
        const reason = auth === 'holder' ? 'only signed-in holders may call this' : 'holders may not call staff routes';
        ctx.state.denial = { action: `${spec.method.toUpperCase()} ${this.prefix}${spec.path}`, reason };
        throw forbidden(reason[0]!.toUpperCase() + reason.slice(1));
      }
      if (auth === 'staff' && actor.kind !== 'user') {
        ctx.state.denial = {
          action: `${spec.method.toUpperCase()} ${this.prefix}${spec.path}`,
          reason: 'only signed-in staff may call this',
        };
        throw forbidden('Only signed-in staff may call this');
      }
      if (!spec.audit) return this.run(ctx as Context, spec, handler);
      try {
        await this.run(ctx as Context, spec, handler);
        await recordAudit(ctx as Context, {
          ...spec.audit,
          outcome: 'success',
          object: ctx.state.auditObject ?? null,
          department: ctx.state.auditDepartment ?? null,
          detail: ctx.state.auditDetail ?? null,
        });
      } catch (err) {
        // Refusals are recorded by the audit middleware under 'authorization'.
        const problem = problemOf(err);
        if (problem?.status !== 403) {
          await recordAudit(ctx as Context, {
            ...spec.audit,
            outcome: 'failure',
            object: ctx.state.auditObject ?? null,
            department: ctx.state.auditDepartment ?? null,
            detail: { error: problem ? `${problem.status} ${problem.detail ?? problem.title}` : 'internal error' },
          });
        }
        throw err;
      }
    });
  }

  private async run<B extends ZodType | undefined, Q extends ZodType | undefined, P extends ZodType | undefined>(
    ctx: Context,
    spec: RouteSpec<B, Q, P>,
    handler: (ctx: Context, input: RouteInput<Parsed<B>, Parsed<Q>, Parsed<P>>) => unknown | Promise<unknown>,
  ) {
    {
      const input = {
        body: parse(spec.body, (ctx.request as { body?: unknown }).body ?? {}, 'body'),
        query: parse(spec.query, ctx.query, 'query'),
        params: parse(spec.params, ctx.params, 'path'),
      } as RouteInput<Parsed<B>, Parsed<Q>, Parsed<P>>;
      const result = await handler(ctx, input);
      if (result !== undefined) ctx.body = result;
      if (process.env.CERTFLOW_CHECK_RESPONSES === '1') checkResponse(spec, ctx);
    }
  }
}

/**
 * With CERTFLOW_CHECK_RESPONSES=1 (the contract tests, docs/api.md) every JSON body is checked against the
 * schema its spec documents for that status: one that drifted from the handler is a 500 whose detail names the field.
 */
function checkResponse(spec: { operationId: string; responses?: Record<number, string | ResponseSpec> }, ctx: Context) {
  const documented = spec.responses?.[ctx.status];
  const schema = typeof documented === 'object' ? documented.schema : undefined;
  const body: unknown = ctx.body;
  if (!schema || body === null || typeof body !== 'object' || Buffer.isBuffer(body) || 'pipe' in body) return;
  const checked = schema.safeParse(JSON.parse(JSON.stringify(body)));
  if (!checked.success) {
    const issues = checked.error.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`);
    const detail = `${spec.operationId} ${ctx.status}: the body does not match its schema: ${issues.join('; ')}`;
    throw new HttpProblem(500, 'Internal Server Error', detail);
  }
}

/** What the API implements; anything else (PROPFIND, PURGE, …) is answered 501 on every path. */
const IMPLEMENTED = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/**
 * Standard methods (RFC 9110, and QUERY) no resource here allows: 405 with Allow where the path is known, 404
 * elsewhere — a 501 would tell clients (and Schemathesis, test/contract) the server failed.
 */
const NEVER_ALLOWED = new Set(['TRACE', 'CONNECT', 'QUERY']);

export function refuseUnknownMethods(routers: Router[] = []) {
  return async (ctx: Context, next: Next) => {
    if (NEVER_ALLOWED.has(ctx.method)) {
      const allowed = new Set<string>();
      for (const r of routers)
        for (const layer of r.match(ctx.path, 'GET').path) layer.methods.forEach((m) => allowed.add(m));
      if (!allowed.size) throw new HttpProblem(404, 'Not Found', `Nothing at ${ctx.path}`);
      ctx.set('Allow', [...allowed].join(', '));
      throw new HttpProblem(
        405,
        'Method Not Allowed',
        `${ctx.method} is not allowed here; use ${[...allowed].join(', ')}`,
      );
    }
    if (!IMPLEMENTED.has(ctx.method)) {
      throw new HttpProblem(501, 'Not Implemented', `The method ${ctx.method} is not supported`);
    }
    await next();
  };
}

/**
 * 405 with an Allow header for a known path called with another method (and the Allow list
 * for OPTIONS), as problem+json: the router's own errors would carry no Allow header.
 */
export function allowedMethods(api: ApiRouter) {
  const answer = api.router.allowedMethods({ throw: false });
  return async (ctx: Context, next: Next) => {
    await answer(ctx as never, next);
    if (ctx.status === 405) {
      const detail = `${ctx.method} is not allowed here; use ${ctx.response.get('Allow')}`;
      throw new HttpProblem(405, 'Method Not Allowed', detail);
    }
  };
}

function parse(schema: ZodType | undefined, value: unknown, where: 'body' | 'query' | 'path') {
  if (!schema) return undefined;
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const errors = fieldErrors(r.error, where === 'body' ? '' : where);
  // A malformed path or query is the caller's URL; a bad body is content we understood but cannot accept.
  throw where === 'body'
    ? unprocessable('The request body has invalid fields', errors)
    : badRequest(`Invalid ${where} parameters`, errors);
}

export { openApiDocument } from './openapi';
