import type { Db } from '../db/knex';
import type { Cache } from '../platform/cache';
import type { Logger } from '../platform/logger';
import type { Config } from '../platform/config';
import type { BlobStore } from '../platform/blobs';
import type { PdfConverter } from './documents/convert';

/**
 * What the services may touch: built once by main/ and handed to the API and to the
 * activities. Workflows never see these: they only call activities.
 */
export interface ServiceDeps {
  config: Config;
  db: Db;
  cache: Cache;
  logger: Logger;
  blobs: BlobStore;
  masterKey: Buffer;
  converter: PdfConverter;
}
