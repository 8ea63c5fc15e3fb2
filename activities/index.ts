import type { Db } from '../db/knex';
import type { Cache } from '../platform/cache';
import type { Logger } from '../platform/logger';
import type { Config } from '../platform/config';
import { pingActivities } from './ping';

/** What activities may touch. Workflows never see these: they only call activities. */
export interface ActivityDeps {
  config: Config;
  db: Db;
  cache: Cache;
  logger: Logger;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...pingActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
