import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  createBlobStore,
  createFileBlobStore,
  sha256,
  BlobCorruptError,
  BlobNotFoundError,
  type BlobStore,
} from '../../platform/blobs';
import { loadConfig } from '../../platform/config';
import { requireService } from '../support/services';
import { seaweedfs, type Seaweed } from '../support/seaweedfs';

/**
 * The contract of platform/blobs.ts, run against every implementation: the file store and
 * the S3 store on a real SeaweedFS (test/support/seaweedfs.ts). Each backend says how to reach
 * under the store: list what is really stored, alter a stored blob, leave what a crash mid-write
 * leaves, and tell one stored copy from a rewritten one.
 */
interface Backend {
  store: BlobStore;
  /** Every name really stored (file names, object keys), temp files included. */
  stored(): Promise<string[]>;
  /** Replaces a stored blob's bytes behind the store's back (disk damage, a hand edit in the bucket). */
  tamper(hash: string, bytes: Buffer): Promise<void>;
  /** What a writer killed half-way through leaves behind. */
  interruptedWrite(hash: string, bytes: Buffer): Promise<void>;
  /** Changes when the stored copy is written again. */
  version(hash: string): Promise<string>;
  close(): Promise<void>;
}

const backends: { name: string; open(ctx: Mocha.Context): Promise<Backend> }[] = [
  {
    name: 'file store (DATA_DIR/blobs)',
    async open() {
      const root = fs.mkdtempSync(path.join(os.tmpdir(), 'certflow-blobs-contract-'));
      const file = (hash: string) => path.join(root, hash.slice(0, 2), hash.slice(2, 4), hash);
      return {
        store: createFileBlobStore(root),
        async stored() {
          return (fs.readdirSync(root, { recursive: true, withFileTypes: true }) as fs.Dirent[])
            .filter((d) => d.isFile())
            .map((d) => d.name);
        },
        async tamper(hash, bytes) {
          fs.writeFileSync(file(hash), bytes);
        },
        async interruptedWrite(hash, bytes) {
          // put() writes <name>.<random>.tmp and renames it; a crash before the rename leaves this.
          fs.mkdirSync(path.dirname(file(hash)), { recursive: true });
          fs.writeFileSync(`${file(hash)}.${randomBytes(6).toString('hex')}.tmp`, bytes.subarray(0, bytes.length >> 1));
        },
        async version(hash) {
          const st = fs.statSync(file(hash));
          return `${st.ino}:${st.mtimeMs}`;
        },
        async close() {
          fs.rmSync(root, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'S3 store (SeaweedFS)',
    async open(ctx) {
      let s3: Seaweed;
      try {
        s3 = await seaweedfs();
      } catch (err) {
        requireService(ctx, 'SeaweedFS (S3)', err);
      }
      const Bucket = await s3.createBucket();
      const prefix = 'contract/';
      // Through the configuration, as `certflow` builds it: BLOB_STORE_URL with a key prefix.
      const config = loadConfig({ BLOB_STORE_URL: `s3://${Bucket}/${prefix}?endpoint=${s3.endpoint}` });
      const store = createBlobStore(config.blobs);
      return {
        store,
        async stored() {
          const res = await s3.client.send(new ListObjectsV2Command({ Bucket }));
          return (res.Contents ?? []).map((o) => o.Key!.slice(prefix.length));
        },
        async tamper(hash, bytes) {
          await s3.client.send(new PutObjectCommand({ Bucket, Key: prefix + hash, Body: bytes }));
        },
        async interruptedWrite(hash, bytes) {
          // An upload whose connection dies half-way (a worker killed mid-PUT).
          const url = new URL(`${s3.endpoint}/${Bucket}/${prefix}${hash}`);
          await new Promise<void>((resolve) => {
            const req = http.request(url, { method: 'PUT', headers: { 'content-length': bytes.length } });
            req.on('error', () => resolve());
            req.on('response', () => resolve());
            req.write(bytes.subarray(0, bytes.length >> 1), () =>
              setTimeout(() => {
                req.destroy();
                resolve();
              }, 200),
            );
          });
          await new Promise((r) => setTimeout(r, 300));
        },
        async version(hash) {
          const head = await s3.client.send(new HeadObjectCommand({ Bucket, Key: prefix + hash }));
          return `${head.LastModified?.toISOString()}:${head.ETag}`;
        },
        async close() {
          store.close?.();
        },
      };
    },
  },
];

for (const backend of backends) {
  describe(`blob store contract: ${backend.name}`, function () {
    let b: Backend;
    before(async function () {
      this.timeout(120_000);
      b = await backend.open(this);
    });
    after(async () => b?.close());

    it('names a blob by its SHA-256 and gives back the same bytes, empty and large blobs included', async () => {
      for (const data of [Buffer.from('证照 record'), Buffer.alloc(0), randomBytes(3 * 1024 * 1024 + 7)]) {
        const hash = await b.store.put(data);
        assert.equal(hash, sha256(data));
        assert.equal(await b.store.has(hash), true);
        assert.ok((await b.store.get(hash)).equals(data));
      }
    });

    it('says "not found" for a blob it does not hold', async () => {
      const hash = sha256(randomBytes(16));
      assert.equal(await b.store.has(hash), false);
      await assert.rejects(b.store.get(hash), (err: unknown) => {
        return err instanceof BlobNotFoundError && err.sha256 === hash;
      });
    });

    it('refuses a name that is not a SHA-256 (no path tricks)', async () => {
      for (const bad of ['../../etc/passwd', 'ABC', sha256('x').toUpperCase()]) {
        await assert.rejects(b.store.get(bad), /not a SHA-256/);
        await assert.rejects(b.store.has(bad), /not a SHA-256/);
      }
    });

    it('writing the same bytes again is a no-op: one stored copy, not rewritten', async function () {
      this.timeout(10_000);
      const data = randomBytes(1000);
      const hash = await b.store.put(data);
      const before = await b.version(hash);
      // Object timestamps have one-second resolution: a rewrite must be able to show.
      await new Promise((r) => setTimeout(r, 1100));
      assert.equal(await b.store.put(Buffer.from(data)), hash);
      assert.equal(await b.version(hash), before);
      assert.deepEqual(
        (await b.stored()).filter((n) => n.startsWith(hash)),
        [hash],
      );
    });

    it('writers racing with the same bytes all succeed and leave one copy', async () => {
      const data = randomBytes(64 * 1024);
      const hashes = await Promise.all(Array.from({ length: 5 }, () => b.store.put(Buffer.from(data))));
      assert.deepEqual(new Set(hashes), new Set([sha256(data)]));
      assert.deepEqual(
        (await b.stored()).filter((n) => n.startsWith(sha256(data))),
        [sha256(data)],
      );
      assert.ok((await b.store.get(sha256(data))).equals(data));
    });

    it('a write cut off half-way leaves nothing under its name; the next write stores the blob whole', async () => {
      const data = randomBytes(256 * 1024);
      const hash = sha256(data);
      await b.interruptedWrite(hash, data);
      assert.equal(await b.store.has(hash), false);
      await assert.rejects(b.store.get(hash), BlobNotFoundError);
      assert.equal(await b.store.put(data), hash);
      assert.ok((await b.store.get(hash)).equals(data));
    });

    it('refuses to read a blob whose stored bytes were altered', async () => {
      const data = Buffer.from(`certificate ${randomBytes(8).toString('hex')}`);
      const hash = await b.store.put(data);
      const altered = Buffer.from(data);
      altered[0] = altered[0]! ^ 1;
      await b.tamper(hash, altered);
      await assert.rejects(b.store.get(hash), (err: unknown) => {
        assert.ok(err instanceof BlobCorruptError, String(err));
        assert.equal(err.sha256, hash);
        assert.equal(err.actual, sha256(altered));
        assert.match(err.message, new RegExp(`blob ${hash} is corrupt`));
        return true;
      });
    });
  });
}

describe('S3 blob store: configuration and failures', function () {
  let s3: Seaweed;
  before(async function () {
    this.timeout(120_000);
    try {
      s3 = await seaweedfs();
    } catch (err) {
      requireService(this, 'SeaweedFS (S3)', err);
    }
  });

  it('signs its requests when AWS credentials are set (the server here takes both)', async () => {
    const Bucket = await s3.createBucket();
    const env = { AWS_ACCESS_KEY_ID: 'certflow', AWS_SECRET_ACCESS_KEY: 'certflow-secret', AWS_REGION: 'eu-west-1' };
    const config = loadConfig({ ...env, BLOB_STORE_URL: `s3://${Bucket}?endpoint=${s3.endpoint}` });
    assert.equal(config.blobs.kind === 's3' && config.blobs.region, 'eu-west-1');
    const store = createBlobStore(config.blobs);
    try {
      const data = randomBytes(100);
      assert.ok((await store.get(await store.put(data))).equals(data));
    } finally {
      store.close?.();
    }
  });

  it('names the bucket and BLOB_STORE_URL when the bucket does not exist', async () => {
    const store = createBlobStore(s3.storeConfig('certflow-no-such-bucket'));
    try {
      const named = /s3:\/\/certflow-no-such-bucket\/.*bucket certflow-no-such-bucket does not exist \(BLOB_STORE_URL/;
      await assert.rejects(store.get(sha256('x')), named);
      await assert.rejects(store.put(Buffer.from('x')), /blob store: PUT s3:\/\/certflow-no-such-bucket\//);
    } finally {
      store.close?.();
    }
  });
});
