import { contexts as credentialsContexts } from '@digitalbazaar/credentials-context';
import { contexts as dataIntegrityContexts } from '@digitalbazaar/data-integrity-context';
import { contexts as multikeyContexts } from '@digitalbazaar/multikey-context';

/**
 * JSON-LD documents for signing and checking credentials, never from the network
 * (docs/trust.md, "Verifiable credentials"): the contexts come from the installed context
 * packages, and certflow's own DID documents and keys from `local` (computed, not fetched).
 * Anything else is refused: a proof must not depend on what a remote server answers today.
 */
export const DID_CONTEXT_V1 = 'https://www.w3.org/ns/did/v1';
export const VC_CONTEXT_V2 = 'https://www.w3.org/ns/credentials/v2';
export const MULTIKEY_CONTEXT_V1 = 'https://w3id.org/security/multikey/v1';

const CONTEXTS = new Map<string, unknown>([...credentialsContexts, ...dataIntegrityContexts, ...multikeyContexts]);

/** The JSON-LD contexts served offline, by URL. */
export function offlineContextUrls(): string[] {
  return [...CONTEXTS.keys()];
}

export class DocumentRefused extends Error {
  constructor(readonly url: string) {
    super(`document loader refuses ${url}: not an installed context nor a certflow document`);
  }
}

export type Loader = (url: string) => Promise<{ contextUrl: null; documentUrl: string; document: unknown }>;

/**
 * A loader over the installed contexts plus `local(url)` (certflow's own DID documents,
 * verification methods, status lists), which answers undefined for what it does not know.
 */
export function offlineDocumentLoader(local?: (url: string) => Promise<unknown> | unknown): Loader {
  return async (url: string) => {
    const context = CONTEXTS.get(url);
    const document = context !== undefined ? context : await local?.(url);
    if (document === undefined) throw new DocumentRefused(url);
    return { contextUrl: null, documentUrl: url, document };
  };
}
