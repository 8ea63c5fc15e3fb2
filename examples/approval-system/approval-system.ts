import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A business system's side of certflow (README.md next to this file): submit face data with an
 * API key, retry safely, receive and verify the signed callback, download the PDF with a reason
 * for use, and have certflow verify it. Only Node's standard library; no certflow code.
 */

export interface Certflow {
  /** e.g. http://127.0.0.1:3000 */
  baseUrl: string;
  /** `<id>.<secret>` from POST /api/v1/api-clients (scopes applications:write, applications:read, certificates:read) */
  apiKey: string;
}

async function call<T>(
  cf: Certflow,
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const res = await fetch(new URL(path, cf.baseUrl), {
    ...init,
    headers: { authorization: `ApiKey ${cf.apiKey}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
  });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${text}`);
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, headers: res.headers };
}

export interface Submitted {
  id: string;
  status: string;
  /** 201 for a new application, 200 when certflow recognised a retry */
  httpStatus: number;
  location: string | null;
}

/** submitApplication. The Idempotency-Key makes a retry after a lost answer safe: the same application comes back. */
export async function submit(cf: Certflow, caseId: string, application: Record<string, unknown>): Promise<Submitted> {
  const r = await call<{ id: string; status: string }>(cf, '/api/v1/applications', {
    method: 'POST',
    headers: { 'idempotency-key': `${caseId}-submit` },
    body: JSON.stringify({ ...application, externalRef: caseId }),
  });
  return { ...r.body, httpStatus: r.status, location: r.headers.get('location') };
}

/** getCallbackSigningKey: the key is base64; the HMAC key is the decoded bytes. */
export async function signingKey(cf: Certflow): Promise<Buffer> {
  const r = await call<{ key: string }>(cf, '/api/v1/callbacks/signing-key');
  return Buffer.from(r.body.key, 'base64');
}

/** Checks X-Certflow-Signature (`sha256=<hex HMAC-SHA256 of the raw body>`) in constant time. */
export function verifySignature(key: Buffer, rawBody: Buffer, header: string | undefined): boolean {
  const expected = Buffer.from(`sha256=${createHmac('sha256', key).update(rawBody).digest('hex')}`);
  const given = Buffer.from(header ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export interface Callback {
  event: string;
  delivery: string;
  body: {
    applicationId: string;
    certificateNumber: string;
    downloadUrl?: string;
    status: string;
    externalRef: string | null;
  };
}

/**
 * The callback receiver: answers 2xx only for a correctly signed message (anything else makes
 * certflow retry), and hands each delivery on once even if certflow sends it again.
 */
export async function startReceiver(key: Buffer, onCallback: (c: Callback) => void) {
  const seen = new Set<string>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      if (!verifySignature(key, raw, req.headers['x-certflow-signature'] as string | undefined)) {
        res.writeHead(401).end();
        return;
      }
      const delivery = String(req.headers['x-certflow-delivery']);
      if (!seen.has(delivery)) {
        seen.add(delivery);
        onCallback({
          event: String(req.headers['x-certflow-event']),
          delivery,
          body: JSON.parse(raw.toString('utf8')),
        });
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/certflow/callback`;
  return { url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/**
 * Downloads the PDF from the callback's downloadUrl as is: it already carries a reason for use
 * (用证事由) naming the callback, which certflow requires from business systems and audits.
 */
export async function download(
  cf: Certflow,
  downloadUrl: string,
): Promise<{ pdf: Buffer; sha256Header: string | null }> {
  const res = await fetch(downloadUrl, { headers: { authorization: `ApiKey ${cf.apiKey}` } });
  if (res.status !== 200) throw new Error(`download: ${res.status} ${await res.text()}`);
  const pdf = Buffer.from(await res.arrayBuffer());
  const sha256Header = res.headers.get('x-content-sha256');
  const digest = createHash('sha256').update(pdf).digest('hex');
  if (sha256Header && digest !== sha256Header) throw new Error('PDF digest mismatch');
  return { pdf, sha256Header };
}

/** verifyPdf (public): certflow checks the PDF's signature, seal and status. */
type Report = { verdict: string; certificate?: { number: string } };

export async function verifyPdf(cf: Certflow, pdf: Buffer): Promise<Report> {
  const res = await fetch(new URL('/api/v1/verify', cf.baseUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/pdf' },
    body: pdf,
  });
  if (res.status !== 200) throw new Error(`verify: ${res.status} ${await res.text()}`);
  return (await res.json()) as Report;
}
