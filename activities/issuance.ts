import type { ActivityDeps } from './index';
import { mappingFailures } from './failures';
import * as inbox from '../services/issuance/inbox';

/**
 * The issuance workflow's activities: Temporal adapters over services/issuance/inbox.ts.
 * Names and signatures are part of the recorded workflow histories: keep them.
 */
export function issuanceActivities(deps: ActivityDeps) {
  return mappingFailures({
    async markApplication(input: inbox.MarkApplicationInput) {
      await inbox.markApplication(deps, input);
    },
    async openTask(input: inbox.OpenTaskInput) {
      return inbox.openTask(deps, input);
    },
    async recordDecision(input: inbox.RecordDecisionInput) {
      await inbox.recordDecision(deps, input);
    },
    async markOverdue(input: inbox.MarkOverdueInput) {
      await inbox.markOverdue(deps, input);
    },
    async applyAmendment(input: inbox.ApplyAmendmentInput) {
      await inbox.applyAmendment(deps, input);
    },
    async closeOpenTasks(input: Parameters<typeof inbox.closeOpenTasks>[1]) {
      await inbox.closeOpenTasks(deps, input);
    },
    async recordSealedPlaceholder(input: { applicationId: string }): Promise<string | null> {
      return inbox.recordSealedPlaceholder(deps, input);
    },
  });
}
