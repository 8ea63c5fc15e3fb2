/**
 * How domain validators answer. A reason, not a boolean, so an API error can tell an
 * integrator exactly what is wrong with the value they sent.
 */
export type Validation<T> = { ok: true; value: T } | { ok: false; reason: string };

export const valid = <T>(value: T): Validation<T> => ({ ok: true, value });
export const invalid = <T = never>(reason: string): Validation<T> => ({ ok: false, reason });

/**
 * Thrown by builders (buildIdentifier, formatCertificateNumber) when given bad parts:
 * those come from our own configuration, so a bad one is a bug to surface, not a
 * user error to report.
 */
export class InvalidValueError extends Error {
  constructor(
    public readonly what: string,
    public readonly reason: string,
  ) {
    super(`Invalid ${what}: ${reason}`);
    this.name = 'InvalidValueError';
  }
}

/** Unwraps a validation for builders, turning a failure into InvalidValueError. */
export function orThrow<T>(what: string, v: Validation<T>): T {
  if (!v.ok) throw new InvalidValueError(what, v.reason);
  return v.value;
}
