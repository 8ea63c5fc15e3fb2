import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { z, type ZodType } from 'zod';
import { fieldErrors, unprocessable, badRequest, unauthorized, forbidden, HttpProblem, problemOf } from './problem';
import { recordAudit } from './audit';
import type { AuditCategory } from '../db/audit';

/**
 * Routes are declared with their schemas once: the same zod schema validates the request
 * and describes it in /openapi.json, so the document cannot drift from the behaviour.
 */
type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteSpec<B extends ZodType | undefined, Q extends ZodType | undefined, P extends ZodType | undefined> {
  method: Method;
  /** Koa-router style, relative to the router's prefix: `/pings/:id`. */
  path: string;
  summary: string;
  tag: string;
  body?: B;
  query?: Q;
  params?: P;
  /** Documented responses besides problem+json errors: status → description. */
  responses?: Record<number, string>;
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

  route<B extends ZodType | undefined = undefined, Q extends ZodType | undefined = undefined, P extends ZodType | undefined = undefined>(
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
        ctx.state.denial = { action: `${spec.method.toUpperCase()} ${this.prefix}${spec.path}`, reason: 'only signed-in staff may call this' };
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
    }
  }
}

/** What the API implements; anything else (TRACE, PROPFIND, QUERY, …) is answered 501 on every path. */
const IMPLEMENTED = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export function refuseUnknownMethods() {
  return async (ctx: Context, next: Next) => {
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
  throw where === 'body' ? unprocessable('The request body has invalid fields', errors) : badRequest(`Invalid ${where} parameters`, errors);
}

export function openApiDocument(routers: ApiRouter[], info: { title: string; version: string }) {
  const paths: Record<string, Record<string, unknown>> = {};
  const problem = { description: 'Problem (RFC 9457)', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };
  for (const r of routers) {
    for (const s of r.specs) {
      const path = (r.prefix + s.path).replace(/:(\w+)/g, '{$1}');
      const parameters = [
        ...schemaParams(s.params, 'path'),
        ...schemaParams(s.query, 'query'),
      ];
      const responses: Record<string, unknown> = {};
      for (const [status, description] of Object.entries(s.responses ?? { 200: 'OK' })) responses[status] = { description };
      responses['4XX'] = problem;
      (paths[path] ??= {})[s.method] = {
        summary: s.summary,
        tags: [s.tag],
        ...(s.auth === 'public'
          ? { security: [] }
          : s.auth === 'staff'
            ? { security: [{ bearer: [] }] }
            : s.auth === 'holder'
              ? { security: [{ holderSession: [] }] }
              : {}),
        ...(parameters.length ? { parameters } : {}),
        ...(s.body
          ? { requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(s.body, { io: 'input', unrepresentable: 'any' }) } } } }
          : {}),
        responses,
      };
    }
  }
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'Staff token from POST /api/v1/auth/login' },
        apiKey: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'Business systems: `ApiKey <id>.<secret>`' },
        holderSession: { type: 'apiKey', in: 'cookie', name: 'certflow_holder', description: 'Holders: session from /holder/login' },
      },
      schemas: {
        Problem: {
          type: 'object',
          required: ['title', 'status'],
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer' },
            detail: { type: 'string' },
            instance: { type: 'string' },
            requestId: { type: 'string' },
            errors: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } } },
          },
        },
      },
    },
    security: [{ bearer: [] }, { apiKey: [] }],
  };
}

function schemaParams(schema: ZodType | undefined, where: 'path' | 'query') {
  if (!schema) return [];
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, unknown>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || (json.required ?? []).includes(name),
    schema: s,
  }));
}
