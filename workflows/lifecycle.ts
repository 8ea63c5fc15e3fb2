import { ParentClosePolicy, continueAsNew, patched, proxyActivities, startChild, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ActorRef } from '../domain/issuance';
import { addDays, chinaDate } from '../domain/calendar';

/**
 * Expiry, reminders and revocation (docs/issuance.md, "After issue"): short, idempotent steps,
 * each retried on its own.
 */

const lifecycle = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute' },
});
/** Telling a business system about a status change may take a day of retries. */
const notify = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '2 hours', maximumAttempts: 16 },
});

export interface ExpirySweepInput {
  /** The first day that no longer counts as valid; default: today in China. */
  asOf?: string;
  batchSize?: number;
  /** After this many batches the run continues as new, keeping its history short. */
  maxBatchesPerRun?: number;
  /** Record a reminder this many days before a certificate's validity ends. */
  reminderDays?: number;
  /** Carried across continue-as-new. */
  expiredSoFar?: number;
}

/**
 * Started hourly by the Temporal Schedule `certflow-expiry-sweep`: expires, in batches,
 * every valid certificate whose last valid day is before today; then records reminders
 * for those ending within `reminderDays` and sends them to the business systems (a failed
 * one is tried again by a later sweep, see services/callbacks.ts).
 */
export async function expirySweepWorkflow(input: ExpirySweepInput = {}): Promise<{ asOf: string; expired: number; reminded: number }> {
  const asOf = input.asOf ?? chinaDate(Date.now());
  const batchSize = input.batchSize ?? 1000;
  const maxBatches = input.maxBatchesPerRun ?? 100;
  let expired = input.expiredSoFar ?? 0;
  for (let batch = 0; ; batch++) {
    if (batch === maxBatches) {
      await continueAsNew<typeof expirySweepWorkflow>({ ...input, asOf, expiredSoFar: expired });
    }
    const n = await lifecycle.expireCertificates({ asOf, limit: batchSize });
    expired += n;
    if (n < batchSize) break;
  }
  let reminded = 0;
  const until = addDays(asOf, input.reminderDays ?? 30);
  for (;;) {
    const n = await lifecycle.remindExpiring({ from: asOf, to: until, limit: batchSize });
    reminded += n;
    if (n < batchSize) break;
  }
  if (patched('expiry-reminder-callbacks')) {
    // Runs started before reminders were sent only recorded them; these send them through the outbox.
    for (;;) {
      const r = await lifecycle.notifyExpiring({ limit: batchSize });
      if (r.enqueued < batchSize) break;
    }
  }
  return { asOf, expired, reminded };
}

export interface RevocationInput {
  number: string;
  status: 'revoked' | 'cancelled' | 'withdrawn';
  reason: string;
  actor: ActorRef;
}

/**
 * Ends a certificate (作废 / 注销): status change, cache invalidation and audit in one
 * activity, then the business system is told in a child run that outlives this one, so
 * the caller has its answer as soon as the certificate has stopped verifying.
 */
export async function revocationWorkflow(input: RevocationInput) {
  const result = await lifecycle.revokeCertificate(input);
  if (result?.changed) {
    await startChild(notifyStatusChangeWorkflow, {
      workflowId: `notify-${input.status}-${input.number}`,
      args: [{ number: input.number, event: input.status }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      taskQueue: workflowInfo().taskQueue,
    });
  }
  return result ?? null;
}

export async function notifyStatusChangeWorkflow(input: { number: string; event: string }): Promise<boolean> {
  try {
    return (await notify.notifyStatusChange(input)).delivered;
  } catch {
    return false; // every attempt is recorded in the outbox (outbox, outbox_attempts) for operators
  }
}
