import { ApplicationFailure } from '@temporalio/common';
import { ServiceError } from '../services/errors';
import { withFix } from '../domain/operations';

/**
 * The one place where what a service reports becomes what Temporal understands. A
 * ServiceError is something a retry cannot fix: it becomes a non-retryable
 * ApplicationFailure whose type is the error's code (the types the workflows and their
 * recorded histories know). Anything else is rethrown as it is, so Temporal retries it.
 */
export function toFailure(err: unknown): unknown {
  // The message also names the fix, for the operator reading it in the Web UI (docs/runbook.md#failure-types).
  if (err instanceof ServiceError) return ApplicationFailure.nonRetryable(withFix(err.code, err.message), err.code);
  return err;
}

type AsyncFns = Record<string, (...args: never[]) => Promise<unknown>>;

/** Wraps each activity so that its errors pass through toFailure. */
export function mappingFailures<T extends AsyncFns>(activities: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        throw toFailure(err);
      }
    };
  }
  return wrapped as T;
}
