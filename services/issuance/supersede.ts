import type { AuditInput } from '../../db/audit';
import type { SealingApplication } from '../../db/certificates';
import type { Supersession } from '../../db/certificate-versions';
import { KIND_NAMES, supersedableStatuses } from '../../domain/certificate-change';

/**
 * What storing a change, renewal or reissue does to the certificate it replaces
 * (docs/lifecycle.md): the supersession written in the store's transaction, and its audit entry.
 * A first issue supersedes nothing.
 */
export function supersession(
  app: Pick<SealingApplication, 'id' | 'kind' | 'replacesNumber' | 'kindReason'>,
  number: string,
  department: string,
): { supersede?: Supersession; audit: Omit<AuditInput, 'outcome'>[] } {
  if (app.kind === 'new' || !app.replacesNumber) return { audit: [] };
  const supersede: Supersession = {
    number: app.replacesNumber,
    allowed: supersedableStatuses(app.kind),
    reason: `superseded by ${number} (${KIND_NAMES[app.kind]})`,
  };
  const audit: Omit<AuditInput, 'outcome'>[] = [
    {
      category: 'operation',
      action: 'certificate.supersede',
      actor: { type: 'system', id: null, name: 'sealing-pipeline' },
      department,
      object: { type: 'certificate', id: app.replacesNumber },
      detail: { supersededBy: number, kind: app.kind, reason: app.kindReason, applicationId: app.id },
    },
  ];
  return { supersede, audit };
}
