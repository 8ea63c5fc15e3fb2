import type { ActivityDeps } from './index';
import { mappingFailures } from './failures';
import { renderQueueSteps, sealingSteps } from '../services/issuance/sealing';
import { timeSealingStep, type SealingStep } from '../platform/metrics';

export { placeholderIssuerCode, type SignedCertificate, type StoreInput } from '../services/issuance/sealing';

/**
 * The sealing pipeline's activities: Temporal adapters over services/issuance/sealing.ts,
 * whose steps fail with ServiceErrors that activities/failures.ts turns into non-retryable
 * failures. Names and signatures are part of the recorded workflow histories: keep them.
 */

export const RENDER_TASK_QUEUE = 'certflow-render';

/** Activity → the step name of certflow_sealing_step_duration_seconds (docs/operations.md, "Metrics"). */
const STEP_OF: Record<string, SealingStep> = {
  allocateCertificateNumber: 'allocate',
  renderCertificate: 'render',
  convertCertificate: 'convert',
  signCertificate: 'sign',
  storeCertificate: 'store',
  registerInCatalog: 'register',
  notifyCallback: 'notify',
};

/** Every attempt of a step is timed, failed ones too, under the step's name. */
function timed<T extends Record<string, (...args: never[]) => Promise<unknown>>>(steps: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(steps)) {
    const step = STEP_OF[name];
    wrapped[name] = step ? (...args: never[]) => timeSealingStep(step, () => fn(...args)) : fn;
  }
  return wrapped as T;
}

export function sealingActivities(deps: ActivityDeps) {
  return mappingFailures(timed(sealingSteps(deps)));
}

/** Runs on the `certflow-render` task queue, so conversion concurrency is bounded apart from everything else. */
export function renderQueueActivities(deps: ActivityDeps) {
  return mappingFailures(timed(renderQueueSteps(deps)));
}

export type SealingActivities = ReturnType<typeof sealingActivities>;
export type RenderQueueActivities = ReturnType<typeof renderQueueActivities>;
