import type { ActivityDeps } from './index';
import { mappingFailures } from './failures';
import { renderQueueSteps, sealingSteps } from '../services/issuance/sealing';

export { placeholderIssuerCode, type SignedCertificate, type StoreInput } from '../services/issuance/sealing';

/**
 * The sealing pipeline's activities: Temporal adapters over services/issuance/sealing.ts,
 * whose steps fail with ServiceErrors that activities/failures.ts turns into non-retryable
 * failures. Names and signatures are part of the recorded workflow histories: keep them.
 */

export const RENDER_TASK_QUEUE = 'certflow-render';

export function sealingActivities(deps: ActivityDeps) {
  return mappingFailures(sealingSteps(deps));
}

/** Runs on the `certflow-render` task queue, so conversion concurrency is bounded apart from everything else. */
export function renderQueueActivities(deps: ActivityDeps) {
  return mappingFailures(renderQueueSteps(deps));
}

export type SealingActivities = ReturnType<typeof sealingActivities>;
export type RenderQueueActivities = ReturnType<typeof renderQueueActivities>;
