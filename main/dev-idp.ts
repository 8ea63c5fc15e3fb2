import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { Context, Middleware, Next } from 'koa';
import Provider from 'oidc-provider';
import type { Config, HolderClaims, HolderOidc } from '../platform/config';
import type { Logger } from '../platform/logger';
import { DEMO_HOLDERS, DEMO_HOLDER_FACE_DATA, DEMO_TYPES } from '../db/seed-demo';
import { redirectUri, SCOPE } from '../services/holder/sign-in';
import { submissionType, submitApplication, type IssuanceDeps } from '../services/issuance/submit';

/**
 * The development identity provider of the embedded default (docs/holders.md): `certflow start`
 * mounts an oidc-provider under /dev-idp when no HOLDER_OIDC_ISSUER is set, never with
 * NODE_ENV=production. It knows only the demo holders (db/seed-demo.ts DEMO_HOLDERS) and signs
 * them in with one click: it stands in for the government's identity provider, so the portal's
 * relying-party code (services/holder/sign-in.ts) runs exactly as it would in production.
 */

export const DEV_IDP_PATH = '/dev-idp';
const CLIENT_ID = 'certflow-dev-portal';

type DemoAccount = { account: string; label: string; claims: (map: HolderClaims) => Record<string, string> };

const ACCOUNTS: DemoAccount[] = [
  {
    account: DEMO_HOLDERS.person.account,
    label: `${DEMO_HOLDERS.person.name}（个人）`,
    claims: (m) => ({ [m.personId]: DEMO_HOLDERS.person.id, [m.personName]: DEMO_HOLDERS.person.name }),
  },
  {
    account: DEMO_HOLDERS.company.account,
    label: `${DEMO_HOLDERS.company.name}（经办人 ${DEMO_HOLDERS.company.agent.name}）`,
    claims: (m) => ({
      [m.personId]: DEMO_HOLDERS.company.agent.id,
      [m.personName]: DEMO_HOLDERS.company.agent.name,
      [m.entityCode]: DEMO_HOLDERS.company.id,
      [m.entityName]: DEMO_HOLDERS.company.name,
    }),
  },
];

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export interface DevIdp {
  settings: HolderOidc;
  middleware: Middleware;
}

export function createDevIdp(config: Config, logger: Logger): DevIdp {
  const issuer = `${config.http.publicUrl}${DEV_IDP_PATH}`;
  const clientSecret = randomBytes(24).toString('base64url');
  const map = config.holder.claims;
  const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: clientSecret,
        redirect_uris: [redirectUri(config.http.publicUrl)],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    jwks: { keys: [{ ...jwk, use: 'sig', kid: 'dev-idp' }] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    pkce: { required: () => true },
    ttl: { AuthorizationCode: 60, Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600 },
    scopes: SCOPE.split(' '),
    claims: {
      openid: ['sub'],
      profile: [map.personName],
      certflow_holder: [map.personId, map.entityCode, map.entityName],
    },
    // The holder claims go into the ID token itself, as government providers commonly do.
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    interactions: {
      url: (_ctx: unknown, interaction: { uid: string }) => `${DEV_IDP_PATH}/interaction/${interaction.uid}`,
    },
    async findAccount(_ctx: unknown, sub: string) {
      const a = ACCOUNTS.find((x) => x.account === sub);
      return a ? { accountId: sub, claims: async () => ({ sub, ...a.claims(map) }) } : undefined;
    },
    // The portal is first-party: no consent screen; the grant covers what it asks for.
    async loadExistingGrant(ctx: {
      oidc: { client: { clientId: string }; session: { accountId: string }; provider: Provider };
    }) {
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope(SCOPE);
      grant.addOIDCClaims([map.personId, map.personName, map.entityCode, map.entityName]);
      await grant.save();
      return grant;
    },
  });
  provider.on('server_error', (_ctx: unknown, err: Error) => logger.error({ err }, 'dev identity provider error'));
  const handle = provider.callback();

  async function interaction(ctx: Context, uid: string, action: string | undefined) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== uid) ctx.throw(400, 'interaction mismatch');
    if (action === 'login' && ctx.method === 'POST') {
      const body = new URLSearchParams(await readBody(ctx));
      const account = ACCOUNTS.find((a) => a.account === body.get('account'));
      if (!account) ctx.throw(400, 'unknown demo holder');
      ctx.respond = false;
      await provider.interactionFinished(
        ctx.req,
        ctx.res,
        { login: { accountId: account.account } },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
    ctx.body = loginPage(uid);
  }

  const middleware: Middleware = async (ctx: Context, next: Next) => {
    if (ctx.path !== DEV_IDP_PATH && !ctx.path.startsWith(`${DEV_IDP_PATH}/`)) return next();
    const m = /^\/dev-idp\/interaction\/([\w-]+)(?:\/(login))?$/.exec(ctx.path);
    if (m) return interaction(ctx, m[1]!, m[2]);
    // Mounted as Express mounts it: the provider finds its mount path from originalUrl.
    ctx.respond = false;
    const req = ctx.req as typeof ctx.req & { originalUrl?: string };
    req.originalUrl = req.url;
    req.url = req.url!.slice(DEV_IDP_PATH.length) || '/';
    await handle(ctx.req, ctx.res);
  };

  return { settings: { issuer, clientId: CLIENT_ID, clientSecret }, middleware };
}

async function readBody(ctx: Context): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 10_000) ctx.throw(413, 'too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function loginPage(uid: string): string {
  const buttons = ACCOUNTS.map(
    (a) =>
      `<form method="post" action="${DEV_IDP_PATH}/interaction/${escapeHtml(uid)}/login">` +
      `<input type="hidden" name="account" value="${escapeHtml(a.account)}">` +
      `<button type="submit" data-account="${escapeHtml(a.account)}">${escapeHtml(a.label)}</button></form>`,
  ).join('\n');
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>开发用身份认证 · Development identity provider</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem}
button{display:block;width:100%;padding:.9rem;margin:.6rem 0;font-size:1rem;border-radius:.5rem;border:1px solid #245;
background:#f4f8fc;cursor:pointer}p{color:#555}</style></head>
<body><main><h1>开发用身份认证</h1>
<p>仅供开发演示：选择一个演示持证主体登录。生产环境请接入真实的身份认证平台（见 docs/holders.md）。</p>
<p lang="en">Development only: choose a demo holder to sign in as.</p>
${buttons}
</main></body></html>`;
}

/**
 * Issues the demo holders' certificates through the normal pipeline (auto-seal mode, the way an
 * approval system that decided already submits): idempotent by external reference, so a restart
 * finds the applications it made before and submits nothing twice.
 */
export async function issueDemoHolderCertificates(deps: IssuanceDeps, logger: Logger): Promise<void> {
  const submitter = { type: 'system' as const, id: 'demo-holders', name: 'demo-holders' };
  for (const t of DEMO_TYPES) {
    const holder = t.definition.holderKind === 'entity' ? DEMO_HOLDERS.company : DEMO_HOLDERS.person;
    const faceData = DEMO_HOLDER_FACE_DATA[t.code];
    if (!faceData) continue;
    const type = await submissionType(deps, t.code);
    const { created } = await submitApplication(
      deps,
      type,
      {
        submitter,
        typeCode: t.code,
        holder: { kind: holder.kind, id: holder.id, name: holder.name },
        faceData,
        externalRef: `demo-holder-${t.code}`,
        mode: 'auto-seal',
        idempotencyKey: '',
      },
      async () => undefined,
    );
    if (created) logger.info({ type: t.code, holder: holder.account }, 'demo holder certificate submitted');
  }
}
