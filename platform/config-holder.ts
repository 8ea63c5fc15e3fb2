import type { Config, Env } from './config';
import { ConfigError } from './config-error';

/** The holder portal's settings (docs/holders.md): the identity provider and the notification gateway. */

export function holderNotify(e: Env): Config['holder']['notify'] {
  const { HOLDER_NOTIFY_URL: url, HOLDER_NOTIFY_SECRET: secret } = e;
  if (!url && !secret) return undefined;
  if (!url || !secret) {
    const variable = url ? 'HOLDER_NOTIFY_SECRET' : 'HOLDER_NOTIFY_URL';
    throw new ConfigError([{ variable, message: 'set both HOLDER_NOTIFY_URL and HOLDER_NOTIFY_SECRET, or none' }]);
  }
  if (e.NODE_ENV === 'production' && !url.startsWith('https://')) {
    throw new ConfigError([{ variable: 'HOLDER_NOTIFY_URL', message: 'must be https:// in production' }]);
  }
  return { url, secret };
}

export interface HolderOidc {
  issuer: string;
  clientId: string;
  clientSecret: string;
}

/** Which ID-token (or userinfo) claims carry the holder (docs/holders.md, "Claim mapping"). */
export interface HolderClaims {
  /** The resident ID number of the person signing in (for an entity: the person acting for it). */
  personId: string;
  personName: string;
  /** Present only when the person signs in for an entity. */
  entityCode: string;
  entityName: string;
}

export function holderOidc(e: Env): HolderOidc | undefined {
  const { HOLDER_OIDC_ISSUER: issuer, HOLDER_OIDC_CLIENT_ID: clientId, HOLDER_OIDC_CLIENT_SECRET: clientSecret } = e;
  if (!issuer && !clientId && !clientSecret) return undefined;
  const missing = [
    ['HOLDER_OIDC_ISSUER', issuer],
    ['HOLDER_OIDC_CLIENT_ID', clientId],
    ['HOLDER_OIDC_CLIENT_SECRET', clientSecret],
  ].filter(([, v]) => !v);
  if (missing.length) {
    throw new ConfigError(
      missing.map(([variable]) => ({ variable: variable!, message: 'set all three HOLDER_OIDC_* or none' })),
    );
  }
  if (e.NODE_ENV === 'production' && !issuer!.startsWith('https://')) {
    throw new ConfigError([{ variable: 'HOLDER_OIDC_ISSUER', message: 'must be https:// in production' }]);
  }
  return { issuer: issuer!.replace(/\/$/, ''), clientId: clientId!, clientSecret: clientSecret! };
}
