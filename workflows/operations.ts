import { proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { TEMPORAL_OPERATOR, type OperatorRequest } from '../domain/operations';

/**
 * Repairs that outlive the issuance run (docs/runbook.md): the issuance workflow ends once its
 * callback is done, so re-sending certificate.issued is a short run of its own, started by the
 * API (`POST /api/v1/applications/:id/resend-callback`) or by an operator from the CLI.
 */

const audit = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});
/** Like the issuance run's own callback, but an operator is watching: give up within minutes. */
const callbacks = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});

export interface ResendCallbackInput extends OperatorRequest {
  applicationId: string;
  department: string;
}

export async function resendCallbackWorkflow(
  input: ResendCallbackInput,
): Promise<{ delivered: boolean; skipped?: string }> {
  const operator = input.operator ?? TEMPORAL_OPERATOR;
  setCurrentDetails('recording the operator request in the audit log');
  await audit.recordOperatorAction.executeWithOptions({ summary: 'audit operator resend-callback' }, [
    {
      applicationId: input.applicationId,
      department: input.department,
      action: 'application.resend-callback',
      operator,
      reason: input.reason,
    },
  ]);
  setCurrentDetails('calling the business system back (certificate.issued)');
  const callback = { summary: 'callback certificate.issued' };
  const outcome = await callbacks.notifyCallback.executeWithOptions(callback, [input.applicationId]);
  if (!outcome.delivered) setCurrentDetails(`not sent: ${outcome.skipped}`);
  else setCurrentDetails(outcome.skipped ? `not sent again: ${outcome.skipped}` : 'delivered');
  return outcome;
}
