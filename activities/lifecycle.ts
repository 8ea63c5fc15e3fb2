import type { ActivityDeps } from './index';
import { mappingFailures } from './failures';
import { lifecycleSteps } from '../services/lifecycle';

/**
 * The lifecycle workflows' activities: Temporal adapters over services/lifecycle.ts.
 * Names and signatures are part of the recorded workflow histories: keep them.
 */
export function lifecycleActivities(deps: ActivityDeps) {
  return mappingFailures(lifecycleSteps(deps));
}
