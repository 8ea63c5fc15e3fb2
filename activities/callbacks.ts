import { ApplicationFailure } from '@temporalio/common';
import { CallbackUnavailable, type NotifyOutcome } from '../services/callbacks';
import { OutboundError } from '../services/outbound';

/**
 * Runs a callback (services/callbacks.ts) as an activity: what no retry can mend (no such
 * certificate, a receiver refusing the content) fails without retrying; anything else is
 * thrown as it is, and Temporal's retry policy sends the outbox message again.
 */
export async function notifyAsActivity(send: () => Promise<NotifyOutcome>): Promise<NotifyOutcome> {
  try {
    return await send();
  } catch (err) {
    if (err instanceof CallbackUnavailable) throw ApplicationFailure.nonRetryable(err.message, err.type);
    if (err instanceof OutboundError && err.permanent) {
      throw ApplicationFailure.nonRetryable(err.message, 'CallbackRefused');
    }
    throw err;
  }
}
