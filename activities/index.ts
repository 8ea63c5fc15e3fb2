import type { ServiceDeps } from '../services/deps';
import { pingActivities } from './ping';
import * as activityContext from './context';
import { issuanceActivities } from './issuance';
import { renderQueueActivities, sealingActivities } from './sealing';
import { lifecycleActivities } from './lifecycle';
import { operationsActivities } from './operations';
import { grantActivities } from './grants';
import { holderRequestActivities } from './holder-requests';
import { suspensionActivities } from './suspension';
import { importActivities } from './imports';
import { accessRequestActivities } from './access-requests';
import { catalogStatusActivities } from './catalog-status';

/** Activities are thin Temporal adapters over the services: they get the same deps. */
export type ActivityDeps = ServiceDeps;

export function createActivities(deps: ActivityDeps) {
  return {
    ...pingActivities(deps),
    ...issuanceActivities(deps),
    ...beatingAtStart(sealingActivities(deps)),
    ...lifecycleActivities(deps),
    ...operationsActivities(deps),
    ...grantActivities(deps),
    ...holderRequestActivities(deps),
    ...suspensionActivities(deps),
    ...importActivities(deps),
    ...accessRequestActivities(deps),
    ...catalogStatusActivities(deps),
  };
}

/**
 * Sealing activities heartbeat when they start, and the workflow gives them a heartbeat
 * timeout: if a worker dies mid-step, Temporal retries the step on another worker within
 * seconds instead of waiting out the whole start-to-close timeout.
 */
function beatingAtStart<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = (...args: never[]) => {
      if (activityContext.inActivity()) activityContext.heartbeat();
      return fn(...args);
    };
  }
  return wrapped as T;
}

/**
 * Activities of the render queue (`<task queue>-render`): DOCX → PDF only, on workers sized
 * to the converter pool, so conversion load is bounded apart from everything else.
 */
export function createRenderActivities(deps: ActivityDeps) {
  return renderQueueActivities(deps);
}

export type RenderActivities = ReturnType<typeof createRenderActivities>;

export type Activities = ReturnType<typeof createActivities>;
