import type { Context, Next } from 'koa';
import { ZodError } from 'zod';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ServiceError, type ServiceErrorKind } from '../services/errors';
import { TemplateError } from '../services/documents/render';
import { ConversionError } from '../services/documents/convert';
import { OutboundError } from '../services/outbound';
import { VerifyInputError } from '../services/verify';
import { CompareInputError } from '../services/compare';

/** An RFC 9457 problem: the only shape in which certflow's API reports errors. */
export interface FieldError {
  field: string;
  message: string;
}

export class HttpProblem extends Error {
  constructor(
    public readonly status: number,
    public readonly title: string,
    public readonly detail?: string,
    public readonly errors?: FieldError[],
    public readonly extra: Record<string, unknown> = {},
  ) {
    super(detail ?? title);
    this.name = 'HttpProblem';
  }
}

export const badRequest = (detail: string, errors?: FieldError[]) =>
  new HttpProblem(400, 'Bad Request', detail, errors);
export const unauthorized = (detail = 'Sign in first') => new HttpProblem(401, 'Unauthorized', detail);
export const forbidden = (detail: string) => new HttpProblem(403, 'Forbidden', detail);
export const notFound = (detail: string) => new HttpProblem(404, 'Not Found', detail);
export const conflict = (detail: string) => new HttpProblem(409, 'Conflict', detail);
export const unprocessable = (detail: string, errors?: FieldError[]) =>
  new HttpProblem(422, 'Unprocessable Content', detail, errors);

export function fieldErrors(err: ZodError, prefix = ''): FieldError[] {
  return err.issues.map((i) => ({
    field: [prefix, ...i.path.map(String)].filter(Boolean).join('.') || '(body)',
    message: i.message,
  }));
}

const KIND_STATUS: Record<ServiceErrorKind, number> = {
  'not-found': 404,
  conflict: 409,
  invalid: 422,
  forbidden: 403,
  'too-many': 429,
  unavailable: 503,
  'bad-gateway': 502,
};

/**
 * The one translation of what services and Temporal report into HTTP: a ServiceError by its
 * kind; the services' own input and upstream errors; a workflow that has finished as a
 * conflict; a refused workflow Update by the kind its validator gave as the failure type
 * (workflows/issuance.ts). Undefined: not a known error.
 */
export function problemOf(err: unknown): HttpProblem | undefined {
  if (err instanceof HttpProblem) return err;
  if (err instanceof ServiceError) {
    const status = KIND_STATUS[err.kind];
    const extra = err.retryAfter === undefined ? {} : { retryAfter: err.retryAfter };
    return new HttpProblem(status, err.title ?? TITLES[status] ?? 'Bad Request', err.message, err.errors, extra);
  }
  if (err instanceof TemplateError) {
    if (err.code === 'limit') {
      const errors = err.problems.map((p) => ({ field: p.tag ?? '(template)', message: p.message }));
      return new HttpProblem(413, 'Content Too Large', err.message, errors);
    }
    return unprocessable(
      err.message,
      err.problems.map((p) => ({ field: p.tag ?? '(template)', message: p.message })),
    );
  }
  if (err instanceof ConversionError) {
    if (err.code === 'unsafe') return unprocessable(err.message, [{ field: '(template)', message: err.message }]);
    if (err.code === 'busy') {
      return new HttpProblem(429, 'Too Many Requests', err.message, undefined, { retryAfter: 5 });
    }
    return new HttpProblem(503, 'Service Unavailable', `PDF conversion failed: ${err.message}`);
  }
  // The API's only outbound call is the catalog push (POST /certificates/:number/catalog).
  if (err instanceof OutboundError) {
    return new HttpProblem(502, 'Bad Gateway', `The catalog registration failed: ${err.message}`);
  }
  if (err instanceof VerifyInputError) {
    // The number comes from the path (GET /verify/:number); everything else from the body.
    return err.field === 'number'
      ? badRequest('Invalid path parameters', [{ field: 'path.number', message: err.message }])
      : unprocessable(`Cannot verify this: ${err.message}`, [{ field: err.field, message: err.message }]);
  }
  if (err instanceof CompareInputError) return unprocessable('Some claimed values cannot be compared', err.errors);
  if (err instanceof WorkflowNotFoundError) {
    return conflict("The application's workflow has finished: nothing more can be decided or repaired in it");
  }
  if (err instanceof WorkflowUpdateFailedError) {
    // The validator's RuleViolation (domain/issuance.ts): kind as the failure type, the field in its details.
    const cause = err.cause as { type?: string; message?: string; details?: unknown[] } | undefined;
    const message = cause?.message ?? err.message;
    if (cause?.type === 'forbidden') return forbidden(message);
    if (cause?.type === 'invalid') {
      const field = (cause.details?.[0] as { field?: unknown } | undefined)?.field;
      return unprocessable(message, [{ field: typeof field === 'string' ? field : '(body)', message }]);
    }
    return conflict(message);
  }
  return undefined;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export function sendProblem(ctx: Context, p: HttpProblem) {
  ctx.status = p.status;
  if (typeof p.extra.retryAfter === 'number') ctx.set('Retry-After', String(p.extra.retryAfter));
  ctx.type = 'application/problem+json';
  ctx.body = {
    type: 'about:blank',
    title: p.title,
    status: p.status,
    ...(p.detail ? { detail: p.detail } : {}),
    ...(p.errors ? { errors: p.errors } : {}),
    ...p.extra,
    instance: ctx.path,
    requestId: ctx.state.requestId,
  };
}

/**
 * Turns every error into problem+json. Client mistakes keep their 4xx and message; anything
 * unexpected becomes a 500 whose details go to the log under the request id, not to the caller.
 */
export function problemMiddleware() {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new HttpProblem(404, 'Not Found', `No route for ${ctx.method} ${ctx.path}`);
      }
    } catch (err) {
      const known = problemOf(err);
      if (known) return sendProblem(ctx, known);
      if (err instanceof ZodError) {
        return sendProblem(ctx, unprocessable('The request has invalid fields', fieldErrors(err)));
      }
      const e = err as { status?: number; statusCode?: number; message?: string; type?: string };
      const status = e.status ?? e.statusCode;
      if (status && status >= 400 && status < 500) {
        const detail = e.type === 'entity.parse.failed' ? 'The request body is not valid JSON' : e.message;
        return sendProblem(ctx, new HttpProblem(status, TITLES[status] ?? 'Bad Request', detail));
      }
      // A client that hangs up mid-upload is not a server error (readRawBody, api/raw-body.ts).
      if (ctx.req.aborted || (ctx.req.destroyed && !ctx.req.complete)) {
        ctx.log?.info({ err: (err as Error)?.message }, 'client aborted the request');
        return sendProblem(ctx, new HttpProblem(400, 'Bad Request', 'The client aborted the request'));
      }
      ctx.log?.error({ err }, 'unhandled error');
      sendProblem(
        ctx,
        new HttpProblem(
          500,
          'Internal Server Error',
          'An unexpected error occurred; quote the request id when reporting it',
        ),
      );
    }
  };
}
