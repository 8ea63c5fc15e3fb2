import type { Db } from '../db/knex';
import type { Cache } from '../platform/cache';
import type { Logger } from '../platform/logger';
import type { Config } from '../platform/config';
import type { BlobStore } from '../platform/blobs';
import type { PdfConverter } from './convert';
import { pingActivities } from './ping';
import { issuanceActivities } from './issuance';

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
  };
}

export type Activities = ReturnType<typeof createActivities>;
