import { createHash, createHmac } from 'node:crypto';
import type dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { guardedLookup, isSpecialAddress } from './callback-target';
import type { Config } from '../platform/config';
import type { Db } from '../db/knex';
import { createHolderCrypto } from '../platform/holder-crypto';
import { createFaceCrypto } from '../platform/face-crypto';
import { getTypeVersion } from '../db/certificate-types';
import { keysOf, type CallbackOwner } from '../platform/keys';
import { getCertificate, recordCatalogAttempt, type CertificateRow } from '../db/certificates';
import { CERTIFICATE_STATUS_CODES } from '../domain/certificate-record';

/**
 * What certflow sends to other systems after issuing: the catalog registration and the
 * business system's callback. Both are plain HTTPS POSTs with a time limit; a failure is
 * recorded and thrown, and Temporal's retry policy does the waiting.
 */

export class OutboundError extends Error {
  constructor(
    message: string,
    /** The receiver refused the content (4xx other than 408/429): sending it again will not help. */
    public readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'OutboundError';
  }
}

export interface PostResult {
  status: number;
  durationMs: number;
  body: string;
}

/** POST with a hard time limit; a network error or timeout is an OutboundError, any HTTP answer is returned. */
export async function postJson(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<PostResult> {
  const t0 = performance.now();
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'certflow', ...headers },
      body,
      redirect: 'manual', // a redirect could take a signed, personal payload somewhere nobody configured
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = (await res.text()).slice(0, 2000);
    return { status: res.status, durationMs: performance.now() - t0, body: text };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const why =
      e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : `${e.cause?.code ?? e.name}: ${e.message}`;
    throw new OutboundError(`POST ${url} failed: ${why}`, false);
  }
}

/**
 * postJson for callbacks, whose URL a submitter chose: the connection goes only to addresses
 * checked by guardedLookup (services/callback-target.ts) unless private ones are allowed; no
 * redirects are followed. A refused address is a permanent failure (retrying will not help).
 */
export function postJsonGuarded(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
  allowPrivate: boolean,
): Promise<PostResult> {
  const t0 = performance.now();
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (!allowPrivate && net.isIP(host) && isSpecialAddress(host)) {
    return Promise.reject(new OutboundError(`POST ${url} refused: ${host} is a loopback or private address`, true));
  }
  const lib = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      u,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'certflow', ...headers },
        lookup: guardedLookup(allowPrivate) as unknown as typeof dns.lookup,
        timeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          if (text.length < 2000) text += d;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, durationMs: performance.now() - t0, body: text.slice(0, 2000) }),
        );
        res.on('error', (err) => reject(new OutboundError(`POST ${url} failed: ${err.message}`, false)));
      },
    );
    req.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'ECALLBACKADDRESS')
        return reject(new OutboundError(`POST ${url} refused: ${err.message}`, true));
      const timedOut = err.name === 'AbortError' || err.name === 'TimeoutError';
      const why = timedOut ? `no answer within ${timeoutMs} ms` : `${err.code ?? err.name}: ${err.message}`;
      reject(new OutboundError(`POST ${url} failed: ${why}`, false));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { name: 'TimeoutError' })));
    req.end(body);
  });
}

const isPermanent = (status: number) => status >= 400 && status < 500 && status !== 408 && status !== 429;

// ------------------------------------------------------------------ catalog

/** Catalog metadata (docs/standards.md) for one certificate, with the holder code in clear. */
export function catalogPayload(c: CertificateRow, holderId: string, publicUrl: string) {
  return {
    identifier: c.identifier,
    certificateName: c.typeName,
    typeName: c.typeName,
    typeCode: c.typeCode,
    typeVersion: c.typeVersion,
    certificateNumber: c.number,
    version: '001',
    definingAuthority: { name: c.issuerName, code: c.issuerCode },
    issuer: { name: c.issuerName, code: c.issuerCode, department: c.department },
    issueDate: c.issuedAt.slice(0, 10),
    issuedAt: c.issuedAt,
    // The catalog is keyed by holder code: it gets the real one (it is the government's own index).
    holder: { name: c.holderName, code: holderId, codeType: c.holderCodeType },
    validFrom: c.validFrom,
    validUntil: c.validUntil,
    sealer: c.sealedBy,
    sealingTime: c.sealedAt,
    sealName: c.sealName,
    regionCode: c.regionCode,
    extension: c.faceData,
    fileLocation: `${publicUrl}/api/v1/certificates/${c.number}/pdf`,
    fileSha256: c.pdfSha256,
    status: CERTIFICATE_STATUS_CODES[c.status],
  };
}

export interface CatalogDeps {
  config: Pick<Config, 'catalog' | 'http'>;
  db: Db;
  masterKey: Buffer;
}

export type CatalogOutcome = { registered: true; registeredAt: string; attempts: number; alreadyRegistered: boolean };

/**
 * Registers a stored certificate in the catalog. Without CATALOG_URL the certificates table
 * is the catalog and this only marks the row. Every attempt is counted on the row; a failed
 * one keeps its error there and throws, so the certificate stays stored and shows under
 * GET /catalog/failed until a retry or a sealing officer's re-registration succeeds.
 */
export async function registerCertificate(deps: CatalogDeps, number: string): Promise<CatalogOutcome> {
  const cert = await getCertificate(deps.db, number);
  if (!cert) throw new OutboundError(`no certificate ${number}`, true);
  if (cert.catalogRegisteredAt) {
    return {
      registered: true,
      registeredAt: cert.catalogRegisteredAt,
      attempts: cert.catalogAttempts,
      alreadyRegistered: true,
    };
  }
  const url = deps.config.catalog.url;
  if (url) {
    let failure: OutboundError | undefined;
    try {
      const holderId = createHolderCrypto(deps.masterKey).decrypt(cert.holderIdEncrypted);
      // The catalog is the government's own index: it gets the face as printed, ID numbers in clear.
      const type = await getTypeVersion(deps.db, cert.typeCode, cert.typeVersion);
      const faceData = createFaceCrypto(deps.masterKey).open(type?.faceFields ?? [], cert.faceData);
      const body = JSON.stringify(catalogPayload({ ...cert, faceData }, holderId, deps.config.http.publicUrl));
      const res = await postJson(url, body, { 'x-certflow-certificate': cert.number }, deps.config.catalog.timeoutMs);
      if (res.status < 200 || res.status > 299) {
        failure = new OutboundError(
          `catalog answered ${res.status}${res.body ? `: ${res.body.slice(0, 300)}` : ''}`,
          isPermanent(res.status),
        );
      }
    } catch (err) {
      failure = err instanceof OutboundError ? err : new OutboundError((err as Error).message, false);
    }
    if (failure) {
      await recordCatalogAttempt(deps.db, number, { ok: false, error: failure.message });
      throw failure;
    }
  }
  await recordCatalogAttempt(deps.db, number, { ok: true });
  const after = (await getCertificate(deps.db, number))!;
  return {
    registered: true,
    registeredAt: after.catalogRegisteredAt!,
    attempts: after.catalogAttempts,
    alreadyRegistered: false,
  };
}

// ------------------------------------------------------------------ callbacks

/**
 * The HMAC key a callback is signed with: one per API client (or, for applications staff
 * entered, one per department), derived from the master key (platform/keys.ts) so nothing new has
 * to be stored and one receiver's key says nothing about another's. The business system
 * fetches its key once with `GET /api/v1/callbacks/signing-key` (its own ApiKey).
 * Rotating the master key changes every callback key.
 */
export function callbackSigningKey(masterKey: Buffer, owner: CallbackOwner): Buffer {
  return keysOf(masterKey).callbackKey(owner);
}

/** `sha256=<hex HMAC-SHA256 of the exact body bytes>`, the X-Certflow-Signature header. */
export function signCallbackBody(key: Buffer, body: string): string {
  return `sha256=${createHmac('sha256', key).update(body, 'utf8').digest('hex')}`;
}

export const bodySha256 = (body: string) => createHash('sha256').update(body, 'utf8').digest('hex');
export { isPermanent as isPermanentHttpStatus };
