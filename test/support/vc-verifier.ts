import * as vc from '@digitalbazaar/vc';
import { DataIntegrityProof } from '@digitalbazaar/data-integrity';
import { cryptosuite as ecdsaRdfc2019 } from '@digitalbazaar/ecdsa-rdfc-2019-cryptosuite';
import { checkStatus } from '@digitalbazaar/vc-bitstring-status-list';
import { contexts as credentialsContexts } from '@digitalbazaar/credentials-context';
import { contexts as dataIntegrityContexts } from '@digitalbazaar/data-integrity-context';
import { contexts as multikeyContexts } from '@digitalbazaar/multikey-context';

/**
 * A relying party's verifier built from the @digitalbazaar libraries alone (not certflow's
 * services/credentials): contexts from the installed packages, DID documents and status lists
 * fetched over HTTP as a did:web resolver would, from `origin` instead of https://<PUBLIC_URL host>
 * (the test server speaks plain HTTP on a free port).
 */
export function relyingParty(publicUrl: string, origin: string) {
  const contexts = new Map<string, unknown>([...credentialsContexts, ...dataIntegrityContexts, ...multikeyContexts]);
  const host = new URL(publicUrl).host;
  const fetched: string[] = [];
  const toHttp = (url: string) => {
    if (url.startsWith('did:web:')) {
      const [, , h, ...path] = url.split('#')[0]!.split(':');
      if (decodeURIComponent(h!) !== host) throw new Error(`not this server's DID: ${url}`);
      return `${origin}/${path.map(decodeURIComponent).join('/')}/did.json`;
    }
    if (!url.startsWith(`${publicUrl}/`)) throw new Error(`refusing ${url}`);
    return origin + url.slice(publicUrl.length);
  };
  const documentLoader = async (url: string) => {
    const context = contexts.get(url);
    if (context !== undefined) return { contextUrl: null, documentUrl: url, document: context };
    const r = await fetch(toHttp(url));
    if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
    fetched.push(url);
    let document = (await r.json()) as Record<string, unknown>;
    const fragment = url.includes('#') ? url : undefined;
    if (fragment) {
      const methods = (document.verificationMethod ?? []) as Record<string, unknown>[];
      const method = methods.find((m) => m.id === fragment);
      if (!method) throw new Error(`${url} is not in the DID document`);
      document = { '@context': 'https://w3id.org/security/multikey/v1', ...method };
    }
    return { contextUrl: null, documentUrl: url, document };
  };
  const suite = () => new DataIntegrityProof({ cryptosuite: ecdsaRdfc2019 });
  return {
    fetched,
    documentLoader,
    /** verifyCredential with the bitstring status list checker, as the libraries do it. */
    verify: (credential: Record<string, unknown>) =>
      vc.verifyCredential({ credential, suite: suite(), documentLoader, checkStatus }),
    /** The status check alone: per purpose, whether the bit is set. */
    async status(credential: Record<string, unknown>) {
      const r = await checkStatus({ credential, documentLoader, suite: suite() });
      if (!r.verified) throw r.error ?? new Error('status check failed');
      const entries = credential.credentialStatus as { statusPurpose: string }[];
      return Object.fromEntries(entries.map((e, i) => [e.statusPurpose, r.results![i]!.status]));
    },
  };
}
