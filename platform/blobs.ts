import fs from 'node:fs';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import type { Config } from './config';
import type * as S3BlobStore from './blobs-s3';

/**
 * Content-addressed blob store (templates, PDFs, DOCX, records): a blob's name is its
 * SHA-256, so writing the same bytes twice is a no-op and a retried activity can never
 * create a second copy; no store ever shows a half-written blob under a real name; and
 * every read checks the bytes against the name, so a blob altered at rest is refused
 * (BlobCorruptError) instead of being sealed, served or verified against.
 * Files under DATA_DIR/blobs by default; an S3 bucket with BLOB_STORE_URL (platform/blobs-s3.ts).
 * test/integration/blobs.test.ts is the contract both implementations pass.
 */
export interface BlobStore {
  put(data: Buffer): Promise<string>;
  get(sha256: string): Promise<Buffer>;
  has(sha256: string): Promise<boolean>;
  /** Releases connections (S3); the file store holds none. */
  close?(): void;
}

const SHA256 = /^[0-9a-f]{64}$/;

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function assertSha256(hash: string): void {
  if (!SHA256.test(hash)) throw new Error(`not a SHA-256: ${hash}`);
}

export class BlobNotFoundError extends Error {
  constructor(public readonly sha256: string) {
    super(`blob ${sha256} not found`);
    this.name = 'BlobNotFoundError';
  }
}

export class BlobCorruptError extends Error {
  constructor(
    public readonly sha256: string,
    public readonly actual: string,
    where: string,
  ) {
    super(`blob ${sha256} is corrupt: the bytes in ${where} hash to ${actual}; it was altered or damaged at rest`);
    this.name = 'BlobCorruptError';
  }
}

/** The bytes, if they are the blob's; a store's read path ends here. */
export function verified(hash: string, data: Buffer, where: string): Buffer {
  const actual = sha256(data);
  if (actual !== hash) throw new BlobCorruptError(hash, actual, where);
  return data;
}

export function createFileBlobStore(root: string): BlobStore {
  const locate = (hash: string) => {
    assertSha256(hash);
    return path.join(root, hash.slice(0, 2), hash.slice(2, 4), hash);
  };
  return {
    async put(data) {
      const hash = sha256(data);
      const file = locate(hash);
      if (fs.existsSync(file)) return hash;
      await fs.promises.mkdir(path.dirname(file), { recursive: true });
      // Written under a temp name and renamed into place: a crash leaves at most a *.tmp file.
      const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
      await fs.promises.writeFile(tmp, data, { flag: 'wx' });
      await fs.promises.rename(tmp, file);
      return hash;
    },
    async get(hash) {
      const file = locate(hash);
      let data: Buffer;
      try {
        data = await fs.promises.readFile(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new BlobNotFoundError(hash);
        throw err;
      }
      return verified(hash, data, file);
    },
    async has(hash) {
      return fs.existsSync(locate(hash));
    },
  };
}

/**
 * The store the configuration names. The S3 client is loaded only when asked for, so the
 * embedded default (`npm start`) does not pay for the AWS SDK (and blobs-s3.ts may import this file).
 */
export function createBlobStore(config: Config['blobs']): BlobStore {
  if (config.kind === 'file') return createFileBlobStore(config.dir);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only for s3:// (the SDK is large)
  const { createS3BlobStore } = require('./blobs-s3') as typeof S3BlobStore;
  return createS3BlobStore(config);
}
