import {
  ParentClosePolicy,
  continueAsNew,
  patched,
  proxyActivities,
  setCurrentDetails,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ActorRef } from '../domain/issuance';
import { addDays, chinaDate } from '../domain/calendar';
import { statusNoticeRunText } from '../domain/operations';
import { catalogStatusWorkflow } from './catalog-status';

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
 * one is tried again by a later sweep, see services/callbacks.ts) and to the holders'
 * notification gateway (services/holder/notify.ts).
 */
export async function expirySweepWorkflow(
  input: ExpirySweepInput = {},
): Promise<{ asOf: string; expired: number; reminded: number }> {
  const asOf = input.asOf ?? chinaDate(Date.now());
  const batchSize = input.batchSize ?? 1000;
  const maxBatches = input.maxBatchesPerRun ?? 100;
  let expired = input.expiredSoFar ?? 0;
  for (let batch = 0; ; batch++) {
    if (batch === maxBatches) {
      await continueAsNew<typeof expirySweepWorkflow>({ ...input, asOf, expiredSoFar: expired });
    }
    setCurrentDetails(
      `expiring certificates whose last valid day is before ${asOf} · batch ${batch + 1}` +
        ` · ${expired} expired so far`,
    );
    const batchOf = { summary: `expire a batch of ≤ ${batchSize} (as of ${asOf})` };
    const n = await lifecycle.expireCertificates.executeWithOptions(batchOf, [{ asOf, limit: batchSize }]);
    expired += n;
    if (n < batchSize) break;
  }
  let reminded = 0;
  const until = addDays(asOf, input.reminderDays ?? 30);
  for (;;) {
    setCurrentDetails(
      `recording reminders for certificates ending ${asOf} … ${until} · ${reminded} so far` + ` (${expired} expired)`,
    );
    const remind = { summary: `remind a batch ending by ${until}` };
    const n = await lifecycle.remindExpiring.executeWithOptions(remind, [{ from: asOf, to: until, limit: batchSize }]);
    reminded += n;
    if (n < batchSize) break;
  }
  if (patched('catalog-status-sync')) {
    // Expired certificates, and status pushes earlier runs could not deliver, to the external catalog.
    for (;;) {
      const r = await lifecycle.relayCatalogStatuses({ limit: batchSize, giveUpAfter: 10 });
      if (r.attempted < batchSize) break;
    }
  }
  if (patched('expiry-reminder-callbacks')) {
    // Runs started before reminders were sent only recorded them; these send them through the outbox.
    for (;;) {
      const r = await lifecycle.notifyExpiring({ limit: batchSize });
      if (r.enqueued < batchSize) break;
    }
  }
  if (patched('holder-notify-reminders')) {
    // And to the holders themselves, through the city's notification gateway (HOLDER_NOTIFY_URL).
    for (;;) {
      const r = await lifecycle.notifyHolderReminders({ limit: batchSize });
      if (r.enqueued < batchSize) break;
    }
  }
  setCurrentDetails(`done as of ${asOf}: ${expired} expired, ${reminded} reminders`);
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
  setCurrentDetails(`${input.status}: ending ${input.number} (status, cache, audit)`);
  const result = await lifecycle.revokeCertificate.executeWithOptions({ summary: `${input.status} ${input.number}` }, [
    input,
  ]);
  setCurrentDetails(
    result?.changed
      ? `${input.number} is ${input.status}; business system notified in a child run`
      : `${input.number} unchanged`,
  );
  if (result?.changed) {
    await startChild(notifyStatusChangeWorkflow, {
      ...statusNoticeRunText({ number: input.number, event: input.status }),
      workflowId: `notify-${input.status}-${input.number}`,
      args: [{ number: input.number, event: input.status }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      taskQueue: workflowInfo().taskQueue,
    });
  }
  if (result && (result.changed || result.previous === input.status) && patched('catalog-status-sync')) {
    // The external catalog hears of it too (docs/sharing.md), in a run that outlives this one.
    await startChild(catalogStatusWorkflow, {
      workflowId: `catalog-status-${input.status}-${input.number}`,
      args: [{ number: input.number, status: input.status }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      taskQueue: workflowInfo().taskQueue,
    });
  }
  return result ?? null;
}

export async function notifyStatusChangeWorkflow(input: {
  number: string;
  event: string;
  suspensionId?: number;
}): Promise<boolean> {
  setCurrentDetails(`telling the business system that ${input.number} is ${input.event}`);
  try {
    const notice = { summary: `notify ${input.event}` };
    return (await notify.notifyStatusChange.executeWithOptions(notice, [input])).delivered;
  } catch {
    return false; // every attempt is recorded in the outbox (outbox, outbox_attempts) for operators
  }
}
