import { createHash } from 'node:crypto';
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import type { Config } from './config';
import { assertSha256, BlobNotFoundError, sha256, verified, type BlobStore } from './blobs';

/**
 * The content-addressed store (platform/blobs.ts) on an S3 bucket, for api and workers that do
 * not share a disk: AWS S3 or an S3-compatible server (SeaweedFS in docker-compose.yml and
 * in the tests). Objects are named `<prefix><sha256>` with no directory fan-out: S3 needs none.
 */

export type S3BlobConfig = Extract<Config['blobs'], { kind: 's3' }>;

export function s3BlobKey(config: Pick<S3BlobConfig, 'prefix'>, hash: string): string {
  assertSha256(hash);
  return `${config.prefix}${hash}`;
}

/** Unsigned requests, for a server that allows anonymous access (no AWS credentials configured). */
const anonymous: Pick<S3ClientConfig, 'httpAuthSchemes' | 'httpAuthSchemeProvider'> = {
  httpAuthSchemes: [
    {
      schemeId: 'aws.auth#sigv4',
      identityProvider: () => async () => ({}),
      signer: { sign: async (request) => request },
    },
  ],
  httpAuthSchemeProvider: () => [{ schemeId: 'aws.auth#sigv4' }],
};

export function createS3Client(config: S3BlobConfig): S3Client {
  return new S3Client({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    // S3-compatible servers rarely serve virtual-hosted buckets (bucket.host); every one serves paths.
    forcePathStyle: true,
    // The SDK's default CRC32 checksum headers are refused by several S3-compatible servers;
    // integrity is ours anyway: Content-MD5 on upload, the SHA-256 name on every read.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 120_000 },
    ...(config.credentials ? { credentials: config.credentials } : anonymous),
  });
}

const status = (err: unknown) => (err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined);

export function createS3BlobStore(config: S3BlobConfig): BlobStore {
  const client = createS3Client(config);
  const Bucket = config.bucket;
  const where = (key: string) => `s3://${Bucket}/${key}`;
  /** S3's own messages name neither the bucket nor the object (a HEAD error has no body at all). */
  const failed = (op: string, key: string, err: unknown) => {
    const e = err as Error;
    const code = status(err);
    const detail = e.name === 'NoSuchBucket' ? `bucket ${Bucket} does not exist (BLOB_STORE_URL)` : e.message;
    const message = `blob store: ${op} ${where(key)} failed: ${code ?? ''} ${e.name}: ${detail}`;
    return new Error(message.replace(/ {2,}/g, ' '), { cause: err });
  };

  const has = async (key: string) => {
    try {
      await client.send(new HeadObjectCommand({ Bucket, Key: key }));
      return true;
    } catch (err) {
      if (status(err) === 404) return false;
      throw failed('HEAD', key, err);
    }
  };

  return {
    async put(data) {
      const hash = sha256(data);
      const key = s3BlobKey(config, hash);
      if (await has(key)) return hash;
      try {
        // A PUT is atomic in S3: the object appears whole under its key or not at all, so a
        // crash mid-upload never leaves a partial blob under a real name (no temp-and-rename
        // needed). If-None-Match keeps a racing writer from replacing an existing object;
        // Content-MD5 makes the server refuse bytes damaged on the way.
        await client.send(
          new PutObjectCommand({
            Bucket,
            Key: key,
            Body: data,
            ContentLength: data.length,
            ContentMD5: createHash('md5').update(data).digest('base64'),
            ContentType: 'application/octet-stream',
            IfNoneMatch: '*',
          }),
        );
      } catch (err) {
        // 412: someone stored it first (the same bytes: the key is their hash). 409: AWS's answer
        // to two conditional writes at once; the other one has won when the object is there now.
        const code = status(err);
        if (code === 412 || (code === 409 && (await has(key)))) return hash;
        throw failed('PUT', key, err);
      }
      return hash;
    },
    async get(hash) {
      const key = s3BlobKey(config, hash);
      let data: Buffer;
      try {
        const res = await client.send(new GetObjectCommand({ Bucket, Key: key }));
        data = Buffer.from(await res.Body!.transformToByteArray());
      } catch (err) {
        if (err instanceof S3ServiceException && err.name === 'NoSuchKey') throw new BlobNotFoundError(hash);
        throw failed('GET', key, err);
      }
      return verified(hash, data, where(key));
    },
    has: async (hash) => has(s3BlobKey(config, hash)),
    close: () => client.destroy(),
  };
}
