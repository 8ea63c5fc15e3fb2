import { createHash, randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import type { HolderClaims, HolderOidc } from '../../platform/config';
import { createHolderCrypto } from '../../platform/holder-crypto';
import { sha256Hex } from '../../platform/secrets';
import { HOLDER_ID_NAMES, parseHolderId, type HolderId, type HolderKind } from '../../domain/holder';
import {
  createHolderSession,
  endHolderSession,
  findHolderSession,
  savePendingLogin,
  takePendingLogin,
} from '../../db/holders';
import type { HolderSession } from '../../db/holders';
import { saveHolderContact } from '../../db/holder-requests';
import type { ServiceDeps } from '../deps';
import { ServiceError, forbiddenError, invalidError } from '../errors';

/**
 * Holder sign-in (docs/holders.md): certflow is an OpenID Connect relying party. The
 * authorization-code flow with PKCE, state and nonce; openid-client checks the ID token's
 * issuer, audience, signature, nonce and expiry. The holder's ID comes from configured claims
 * (HOLDER_CLAIM_*), is parsed into a HolderId (check digits included) and kept only as the
 * lookup hash and ciphertext, like the certificates' (platform/holder-crypto.ts).
 */

export type SignInDeps = Pick<ServiceDeps, 'db' | 'masterKey' | 'config' | 'logger'>;

/** How long the provider may take to send the holder back. */
const LOGIN_TTL_S = 600;
export const SCOPE = 'openid profile certflow_holder';

export function redirectUri(publicUrl: string): string {
  return `${publicUrl}/holder/callback`;
}

/** The provider's metadata, discovered once per process (and again after a failure). */
const discovered = new Map<string, Promise<oidc.Configuration>>();

function providerConfig(settings: HolderOidc): Promise<oidc.Configuration> {
  const key = `${settings.issuer}\n${settings.clientId}`;
  let p = discovered.get(key);
  if (!p) {
    // Plain http only where config allows it at all: outside production (platform/config.ts).
    const insecure = settings.issuer.startsWith('http://') ? [oidc.allowInsecureRequests] : [];
    // openid-client trusts an ID token from the token endpoint on TLS alone (OIDC Core 3.1.3.7) unless
    // told otherwise: verify its signature against the provider's JWKS too (test/integration/holder-sign-in.test.ts).
    const execute = [...insecure, oidc.enableNonRepudiationChecks];
    p = oidc.discovery(new URL(settings.issuer), settings.clientId, settings.clientSecret, undefined, { execute });
    p.catch(() => discovered.delete(key));
    discovered.set(key, p);
  }
  return p;
}

function settingsOf(deps: SignInDeps): HolderOidc {
  const s = deps.config.holder.oidc;
  if (!s)
    throw new ServiceError('unavailable', 'Holder sign-in is not configured (HOLDER_OIDC_ISSUER, docs/holders.md)');
  return s;
}

/** The state's hash keys the pending sign-in; the state itself travels only in the URL and a cookie. */
export const stateHash = (state: string) => createHash('sha256').update(state).digest('hex');

/** Starts a sign-in: where to send the browser, and the state to pin in its cookie. */
export async function beginSignIn(deps: SignInDeps, returnTo: string | null): Promise<{ url: string; state: string }> {
  const settings = settingsOf(deps);
  let config: oidc.Configuration;
  try {
    config = await providerConfig(settings);
  } catch (err) {
    deps.logger.warn({ err: (err as Error).message }, 'holder identity provider discovery failed');
    throw new ServiceError('bad-gateway', 'The identity provider did not answer; try again later');
  }
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  await savePendingLogin(deps.db, stateHash(state), { codeVerifier, nonce, returnTo }, LOGIN_TTL_S);
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri(deps.config.http.publicUrl),
    scope: SCOPE,
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  return { url: url.href, state };
}

export interface SignedIn {
  token: string;
  session: HolderSession;
  returnTo: string | null;
}

/**
 * Finishes a sign-in from the provider's redirect. `browserState` is the state from the cookie
 * set by beginSignIn: a redirect that arrives in another browser (login CSRF) is refused.
 */
export async function completeSignIn(
  deps: SignInDeps,
  query: URLSearchParams,
  browserState: string | undefined,
): Promise<SignedIn> {
  const settings = settingsOf(deps);
  const state = query.get('state');
  if (query.get('error')) {
    throw forbiddenError(`The identity provider refused: ${query.get('error_description') ?? query.get('error')}`);
  }
  if (!state || !browserState || state !== browserState) {
    throw invalidError('This sign-in was not started in this browser; start again', [
      { field: 'state', message: 'does not match' },
    ]);
  }
  const pending = await takePendingLogin(deps.db, stateHash(state));
  if (!pending)
    throw invalidError('This sign-in expired or was used already; start again', [
      { field: 'state', message: 'unknown or used' },
    ]);
  const config = await providerConfig(settings);
  let claims: Record<string, unknown>;
  let subject: string;
  try {
    const currentUrl = new URL(`${redirectUri(deps.config.http.publicUrl)}?${query.toString()}`);
    const tokens = await oidc.authorizationCodeGrant(config, currentUrl, {
      pkceCodeVerifier: pending.codeVerifier,
      expectedState: state,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
    });
    const idClaims = tokens.claims()!;
    subject = idClaims.sub;
    claims = { ...idClaims };
    // Some providers put profile claims only in userinfo (OIDC Core 5.4): ask there when the ID token lacks them.
    if (!hasHolderClaims(claims, deps.config.holder.claims)) {
      const info = await oidc.fetchUserInfo(config, tokens.access_token, subject);
      claims = { ...info, ...claims };
    }
  } catch (err) {
    deps.logger.warn({ err: (err as Error).message }, 'holder sign-in refused');
    throw new ServiceError('forbidden', `The sign-in could not be verified: ${(err as Error).message}`, {
      title: 'Sign-in refused',
    });
  }
  const who = holderFromClaims(claims, deps.config.holder.claims);
  const holders = createHolderCrypto(deps.masterKey);
  const token = randomBytes(32).toString('base64url');
  const session: HolderSession = {
    tokenHash: sha256Hex(token),
    holderKind: who.kind,
    holderHash: holders.lookupHash(who.id),
    holderIdEncrypted: holders.encrypt(who.id),
    holderName: who.name,
    agentName: who.agent?.name ?? null,
    agentHash: who.agent?.id ? holders.lookupHash(who.agent.id) : null,
    issuer: settings.issuer,
    subject,
    expiresAt: new Date(Date.now() + deps.config.holder.sessionTtlMinutes * 60_000).toISOString(),
  };
  await createHolderSession(deps.db, session);
  // The subject (never the ID) is how the notification gateway is told whom to reach (docs/holders.md).
  const { holderKind, holderHash } = session;
  await saveHolderContact(deps.db, { holderHash, holderKind, issuer: session.issuer, subject });
  return { token, session, returnTo: pending.returnTo };
}

function hasHolderClaims(claims: Record<string, unknown>, map: HolderClaims): boolean {
  return (
    typeof claims[map.personName] === 'string' &&
    (claims[map.personId] !== undefined || claims[map.entityCode] !== undefined)
  );
}

export interface ClaimedHolder {
  kind: HolderKind;
  id: HolderId;
  name: string;
  agent: { id: HolderId | null; name: string } | null;
}

/**
 * The claim mapping (docs/holders.md): an entity when the entity-code claim is present, signed
 * in by the person in the person claims; otherwise a person. IDs must pass their check digits.
 */
export function holderFromClaims(claims: Record<string, unknown>, map: HolderClaims): ClaimedHolder {
  const text = (claim: string) => {
    const v = claims[claim];
    return typeof v === 'string' && v.trim() ? v.trim().slice(0, 200) : undefined;
  };
  const refuse = (claim: string, message: string) =>
    new ServiceError('forbidden', `The identity provider's claim ${claim} ${message}`, { title: 'Sign-in refused' });
  const personName = text(map.personName);
  const rawPersonId = text(map.personId);
  const personId = rawPersonId === undefined ? undefined : parseHolderId('person', rawPersonId);
  if (personId && !personId.ok) throw refuse(map.personId, `is not a valid ${personId.reason}`);
  const entityCode = text(map.entityCode);
  if (entityCode !== undefined) {
    const code = parseHolderId('entity', entityCode);
    if (!code.ok) throw refuse(map.entityCode, `is not valid: ${code.reason}`);
    const entityName = text(map.entityName);
    if (!entityName) throw refuse(map.entityName, 'is missing: the entity needs its name');
    if (!personName) throw refuse(map.personName, 'is missing: who is acting for the entity?');
    return {
      kind: 'entity',
      id: code.value,
      name: entityName,
      agent: { id: personId?.ok ? personId.value : null, name: personName },
    };
  }
  if (!personId)
    throw refuse(map.personId, `is missing: no ${HOLDER_ID_NAMES.person} and no ${HOLDER_ID_NAMES.entity}`);
  if (!personName) throw refuse(map.personName, 'is missing');
  if (!personId.ok) throw refuse(map.personId, 'is not valid');
  return { kind: 'person', id: personId.value, name: personName, agent: null };
}

export async function holderSessionOf(
  deps: Pick<ServiceDeps, 'db'>,
  token: string,
): Promise<HolderSession | undefined> {
  return findHolderSession(deps.db, sha256Hex(token));
}

export async function signOut(deps: Pick<ServiceDeps, 'db'>, tokenHash: string): Promise<void> {
  await endHolderSession(deps.db, tokenHash);
}
