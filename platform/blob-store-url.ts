import { z } from 'zod';

/** Where an S3 store keeps blobs: `s3://bucket[/prefix]?endpoint=http://host:port[&region=…]`. */
export interface S3Location {
  bucket: string;
  /** Prepended to every key ('' or ending in '/'), so one bucket can serve several installations. */
  prefix: string;
  /** Unset: AWS itself. */
  endpoint: string | undefined;
  region: string | undefined;
}

// S3's bucket naming rules, which every S3-compatible server accepts.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function parseBlobStoreUrl(value: string, ctx: z.RefinementCtx): S3Location {
  const fail = (message: string) => {
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  };
  const example = 'e.g. s3://certflow?endpoint=http://127.0.0.1:8333';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail(`must be a URL, ${example}`);
  }
  if (url.protocol !== 's3:') return fail(`must start with s3:// (unset means files under DATA_DIR/blobs), ${example}`);
  if (url.username || url.password) {
    return fail('must not hold credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
  }
  if (!BUCKET.test(url.hostname)) {
    return fail(`"${url.hostname}" is not a valid bucket name (3–63 of a-z 0-9 . -), ${example}`);
  }
  const unknown = [...url.searchParams.keys()].filter((k) => k !== 'endpoint' && k !== 'region');
  if (unknown.length) return fail(`unknown parameter ${unknown.join(', ')} (only endpoint and region)`);
  const endpoint = url.searchParams.get('endpoint') ?? undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^/?#\s]+\/?$/.test(endpoint)) {
    return fail(`endpoint must be http(s)://host[:port] with no path, ${example}`);
  }
  const region = url.searchParams.get('region') ?? undefined;
  if (region !== undefined && !/^[a-z0-9-]+$/.test(region)) return fail('region must be a name such as us-east-1');
  const prefix = url.pathname.replace(/^\/+|\/+$/g, '');
  return { bucket: url.hostname, prefix: prefix ? `${prefix}/` : '', endpoint: endpoint?.replace(/\/$/, ''), region };
}
