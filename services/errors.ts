/**
 * What a use case reports when it cannot do what was asked. The kind says what went wrong in
 * terms both adapters understand: api/problem.ts turns it into the HTTP status, and
 * activities/failures.ts into a non-retryable Temporal failure whose type is `code` (the
 * workflows and their recorded histories know those types, e.g. `NoIssuerCode`).
 */
export type ServiceErrorKind =
  'not-found' | 'conflict' | 'invalid' | 'forbidden' | 'too-many' | 'unavailable' | 'bad-gateway';

export interface FieldError {
  field: string;
  message: string;
}

export class ServiceError extends Error {
  readonly kind: ServiceErrorKind;
  /** The failure type an activity reports (defaults to the kind). */
  readonly code: string;
  readonly errors?: FieldError[];
  /** A short title for the API's answer when the kind's own title says too little. */
  readonly title?: string;
  /** Seconds after which trying again may succeed (an unavailable dependency): the API's Retry-After. */
  readonly retryAfter?: number;

  constructor(
    kind: ServiceErrorKind,
    message: string,
    options: { code?: string; errors?: FieldError[]; title?: string; retryAfter?: number } = {},
  ) {
    super(message);
    this.name = 'ServiceError';
    this.kind = kind;
    this.code = options.code ?? kind;
    this.errors = options.errors;
    this.title = options.title;
    this.retryAfter = options.retryAfter;
  }
}

export const notFoundError = (message: string, code = 'NotFound') => new ServiceError('not-found', message, { code });
export const conflictError = (message: string, code?: string) => new ServiceError('conflict', message, { code });
export const invalidError = (message: string, errors?: FieldError[], code?: string) =>
  new ServiceError('invalid', message, { errors, code });
export const forbiddenError = (message: string) => new ServiceError('forbidden', message);
export const unavailableError = (message: string, code?: string) => new ServiceError('unavailable', message, { code });
export const badGatewayError = (message: string, code?: string) => new ServiceError('bad-gateway', message, { code });
