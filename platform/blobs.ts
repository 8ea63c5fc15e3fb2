import fs from 'node:fs';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';

/**
 * Content-addressed blob store (templates, PDFs, DOCX, records) under DATA_DIR/blobs:
 * a blob's name is its SHA-256, so writing the same bytes twice is a no-op and a
 * retried activity can never create a second copy. Writes go to a temp file and are
 * renamed into place, so a crash never leaves a half-written blob under a real name.
 */
export interface BlobStore {
  put(data: Buffer): Promise<string>;
  get(sha256: string): Promise<Buffer>;
  has(sha256: string): Promise<boolean>;
}

const SHA256 = /^[0-9a-f]{64}$/;

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export class BlobNotFoundError extends Error {
  constructor(public readonly sha256: string) {
    super(`blob ${sha256} not found`);
    this.name = 'BlobNotFoundError';
  }
}

export function createFileBlobStore(root: string): BlobStore {
  const locate = (hash: string) => {
    if (!SHA256.test(hash)) throw new Error(`not a SHA-256: ${hash}`);
    return path.join(root, hash.slice(0, 2), hash.slice(2, 4), hash);
  };
  return {
    async put(data) {
      const hash = sha256(data);
      const file = locate(hash);
      if (fs.existsSync(file)) return hash;
      await fs.promises.mkdir(path.dirname(file), { recursive: true });
      const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
      await fs.promises.writeFile(tmp, data, { flag: 'wx' });
      await fs.promises.rename(tmp, file);
      return hash;
    },
    async get(hash) {
      try {
        return await fs.promises.readFile(locate(hash));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new BlobNotFoundError(hash);
        throw err;
      }
    },
    async has(hash) {
      return fs.existsSync(locate(hash));
    },
  };
}
