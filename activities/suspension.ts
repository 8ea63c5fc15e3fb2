import type { ActivityDeps } from './index';
import { mappingFailures } from './failures';
import { suspensionSteps } from '../services/suspension';

/**
 * The suspension workflow's activities: Temporal adapters over services/suspension.ts.
 * Names and signatures are part of the recorded workflow histories: keep them.
 */
export function suspensionActivities(deps: ActivityDeps) {
  return mappingFailures(suspensionSteps(deps));
}
