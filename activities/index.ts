import type { Db } from '../db/knex';
import type { Cache } from '../platform/cache';
import type { Logger } from '../platform/logger';
import type { Config } from '../platform/config';
import type { BlobStore } from '../platform/blobs';
import type { PdfConverter } from './convert';
import { pingActivities } from './ping';
import * as activityContext from './context';
import { issuanceActivities } from './issuance';
import { renderQueueActivities, sealingActivities } from './sealing';
import { lifecycleActivities } from './lifecycle';

/** What activities may touch. Workflows never see these: they only call activities. */
export interface ActivityDeps {
  config: Config;
  db: Db;
  cache: Cache;
  logger: Logger;
  blobs: BlobStore;
  masterKey: Buffer;
  converter: PdfConverter;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...pingActivities(deps),
    ...issuanceActivities(deps),
    ...beatingAtStart(sealingActivities(deps)),
    ...lifecycleActivities(deps),
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
