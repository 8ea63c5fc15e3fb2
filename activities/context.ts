import { Context } from '@temporalio/activity';

/** True inside a Temporal activity; false when an activity function is called directly (tests, bench). */
export function inActivity(): boolean {
  try {
    Context.current();
    return true;
  } catch {
    return false;
  }
}

export function heartbeat(details?: unknown): void {
  Context.current().heartbeat(details);
}
