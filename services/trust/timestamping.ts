import { createHash, X509Certificate } from 'node:crypto';
import { x509 } from 'node-opcua-crypto';
import type { Db } from '../../db/knex';
import type { Config } from '../../platform/config';
import type { Logger } from '../../platform/logger';
import { getActiveRoot, getActiveTsa, insertTsa, listSealRevocations } from '../../db/trust';
import {
  createCrl,
  decryptPrivateKey,
  encryptPrivateKey,
  TrustError,
  type RootCa,
  type SigningCredential,
} from './pki';
import {
  createTimestampToken,
  encodeTimestampRequest,
  issueTsaCertificate,
  parseTimestampRequest,
  TimestampRequestError,
  timestampResponse,
  tokenFromResponse,
  verifyTimestampToken,
} from './tsa';

/**
 * The platform's time-stamping and revocation services (docs/trust.md): certflow's own TSA
 * (made on first use under the development root; in production, or whenever TSA_URL is set,
 * the city's TSA is asked instead), the timestamper the signing steps use, and the root's CRL.
 */

export interface TimeDeps {
  db: Db;
  masterKey: Buffer;
  logger: Logger;
  config: Pick<Config, 'http' | 'trust'>;
}

/** Where relying parties fetch the CRL: DER, as RFC 5280 §4.2.1.13 has distribution points serve it. */
export const crlUrl = (publicUrl: string) => `${publicUrl}/api/v1/trust/crl.crl`;

const tsaCache = new WeakMap<Db, Promise<SigningCredential>>();

async function rootWithKey(db: Db, masterKey: Buffer): Promise<RootCa> {
  const root = await getActiveRoot(db);
  if (!root) throw new TrustError('no platform root is configured');
  if (!root.encryptedPrivateKey) {
    throw new TrustError('the platform root was imported without its key: set TSA_URL and take CRLs from the real CA');
  }
  const privateKeyPem = await decryptPrivateKey(root.encryptedPrivateKey, masterKey);
  return { certificatePem: root.certificatePem, privateKeyPem };
}

/** certflow's TSA credential; the first call makes it, under the platform root. */
export function embeddedTsa(deps: TimeDeps): Promise<SigningCredential> {
  let p = tsaCache.get(deps.db);
  if (!p) {
    p = loadOrCreateTsa(deps);
    p.catch(() => tsaCache.delete(deps.db));
    tsaCache.set(deps.db, p);
  }
  return p;
}

async function loadOrCreateTsa(deps: TimeDeps): Promise<SigningCredential> {
  const existing = await getActiveTsa(deps.db);
  if (existing) {
    return {
      certificatePem: existing.certificatePem,
      chainPem: existing.chainPem,
      privateKeyPem: await decryptPrivateKey(existing.encryptedPrivateKey, deps.masterKey),
    };
  }
  const tsa = await issueTsaCertificate({ root: await rootWithKey(deps.db, deps.masterKey) });
  await insertTsa(deps.db, {
    certificatePem: tsa.certificatePem,
    chainPem: tsa.chainPem,
    encryptedPrivateKey: await encryptPrivateKey(tsa.privateKeyPem, deps.masterKey),
  });
  deps.logger.warn("created certflow's own time-stamping authority under the platform root");
  return tsa;
}

/** The TSA's certificate and chain, for `openssl ts -verify -untrusted` and relying parties. */
export async function tsaChainPem(deps: TimeDeps): Promise<string> {
  const tsa = await embeddedTsa(deps);
  return [tsa.certificatePem, ...tsa.chainPem].join('');
}

/** POST /api/v1/tsa: a DER TimeStampReq in, a DER TimeStampResp out (a rejection is a reply too). */
export async function answerTimestampRequest(deps: TimeDeps, der: Buffer): Promise<Buffer> {
  let req;
  try {
    req = parseTimestampRequest(der);
  } catch (err) {
    if (err instanceof TimestampRequestError) return timestampResponse({ error: err });
    throw err;
  }
  return timestampResponse({ token: await createTimestampToken(await embeddedTsa(deps), req) });
}

/**
 * What the signing steps call with a signature value: an RFC 3161 token over it, from
 * TSA_URL when set, else from certflow's own TSA in process. The token is checked before use,
 * so a TSA answering for other data, or with a broken token, fails the signing step.
 */
export function timestamper(deps: TimeDeps): (signatureValue: Buffer) => Promise<Buffer> {
  return async (signatureValue) => {
    const digest = createHash('sha256').update(signatureValue).digest();
    const { der } = encodeTimestampRequest(digest);
    const url = deps.config.trust.tsaUrl;
    let token: Buffer;
    if (url) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/timestamp-query' },
        body: der,
        signal: AbortSignal.timeout(15_000),
      });
      if (!res.ok) throw new Error(`the TSA at ${url} answered HTTP ${res.status}`);
      token = tokenFromResponse(Buffer.from(await res.arrayBuffer()));
    } else {
      token = tokenFromResponse(await answerTimestampRequest(deps, der));
    }
    const root = await getActiveRoot(deps.db);
    if (root && !url) {
      const check = verifyTimestampToken(token, signatureValue, root.certificatePem);
      if (!check.ok) throw new Error(`unusable timestamp: ${check.reason}`);
    }
    return token;
  };
}

/**
 * The root's CRL of revoked seal certificates, freshly signed: thisUpdate now, nextUpdate in
 * 7 days; the CRL number is the issue second, so each one numbers higher than the last.
 */
export async function currentCrl(
  deps: Pick<TimeDeps, 'db' | 'masterKey'>,
  now = new Date(),
): Promise<{ pem: string; der: Buffer }> {
  const root = await rootWithKey(deps.db, deps.masterKey);
  const revoked = await listSealRevocations(deps.db);
  const thisUpdate = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const pem = await createCrl(
    root,
    revoked.map((r) => ({
      serialNumber: r.serial,
      revocationDate: new Date(r.revokedAt),
      reason: r.reason === 'keyCompromise' ? x509.X509CrlReason.keyCompromise : x509.X509CrlReason.superseded,
      invalidity: r.compromisedAt ? new Date(r.compromisedAt) : undefined,
    })),
    {
      crlNumber: Math.floor(thisUpdate.getTime() / 1000),
      thisUpdate,
      nextUpdate: new Date(thisUpdate.getTime() + 7 * 86_400_000),
    },
  );
  return { pem, der: Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64') };
}

/** Everything a PAdES B-LT DSS holds for a signature by `signer` with `token`: chain, TSA chain, CRL. */
export async function validationMaterial(
  deps: Pick<TimeDeps, 'db' | 'masterKey'>,
  signer: SigningCredential,
  tsaCertificatesPem: string[],
): Promise<{ certificatesPem: string[]; crlsDer: Buffer[] }> {
  const certificatesPem = [signer.certificatePem, ...signer.chainPem, ...tsaCertificatesPem];
  certificatesPem.forEach((p) => new X509Certificate(p)); // each must parse
  const root = await getActiveRoot(deps.db);
  const crlsDer = root?.encryptedPrivateKey ? [(await currentCrl(deps)).der] : [];
  return { certificatesPem, crlsDer };
}
