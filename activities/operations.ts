import type { ActivityDeps } from './index';
import { recordOperatorAction, type OperatorAction } from '../services/issuance/operations';

/** Operators' repairs (docs/runbook.md), audited through services/issuance/operations.ts. */
export function operationsActivities(deps: ActivityDeps) {
  return {
    async recordOperatorAction(input: OperatorAction): Promise<void> {
      await recordOperatorAction(deps, input);
    },
  };
}
