import type { ServiceDeps } from '../deps';
import type { ActorRef } from '../../domain/issuance';
import { appendAudit } from '../../db/audit';

export interface OperatorAction {
  applicationId: string;
  department: string;
  action: 'application.retry' | 'application.cancel' | 'application.resend-callback';
  operator: ActorRef;
  reason: string;
  detail?: Record<string, unknown>;
}

/**
 * What operators do to a run by hand (docs/runbook.md): every `retry`, `cancel` and callback
 * re-send, from the Temporal Web UI, the `temporal` CLI or the API, leaves an audit entry.
 */
export async function recordOperatorAction(
  { db, masterKey }: Pick<ServiceDeps, 'db' | 'masterKey'>,
  input: OperatorAction,
) {
  await appendAudit(
    db,
    {
      category: 'operation',
      action: input.action,
      outcome: 'success',
      actor: { type: input.operator.type, id: input.operator.id, name: input.operator.name },
      department: input.department,
      object: { type: 'application', id: input.applicationId },
      detail: { reason: input.reason, ...input.detail },
    },
    masterKey,
  );
}
