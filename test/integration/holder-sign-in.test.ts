import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { startTestApp, testConfig, type TestApp } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/databases';

/**
 * The relying party's checks on the ID token (services/holder/sign-in.ts): a provider that
 * misbehaves in one way at a time — wrong signing key, audience, issuer, nonce, or an expired
 * token — must never produce a holder session. The provider here is a stub that answers
 * discovery, JWKS and the token endpoint; only its ID tokens vary.
 */
type Mode = 'good' | 'wrong-key' | 'wrong-aud' | 'wrong-iss' | 'wrong-nonce' | 'expired' | 'bad-id';

function jwt(key: KeyObject, claims: Record<string, unknown>): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${b64({ alg: 'RS256', typ: 'JWT', kid: 'k1' })}.${b64(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

describe('holder sign-in: ID token checks', function () {
  this.timeout(60_000);
  let t: TestDatabase;
  let app: TestApp;
  let idp: http.Server;
  let mode: Mode = 'good';
  let nonce = '';
  const good = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const evil = generateKeyPairSync('rsa', { modulusLength: 2048 });

  before(async () => {
    idp = http.createServer((req, res) => {
      const issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
      const send = (body: unknown) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(body));
      };
      if (req.url === '/.well-known/openid-configuration') {
        return send({
          issuer,
          authorization_endpoint: `${issuer}/auth`,
          token_endpoint: `${issuer}/token`,
          jwks_uri: `${issuer}/jwks`,
          response_types_supported: ['code'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256'],
        });
      }
      if (req.url === '/jwks') {
        return send({ keys: [{ ...good.publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig', alg: 'RS256' }] });
      }
      if (req.url === '/token') {
        const now = Math.floor(Date.now() / 1000);
        const claims = {
          iss: mode === 'wrong-iss' ? 'http://evil.example' : issuer,
          aud: mode === 'wrong-aud' ? 'someone-else' : 'portal',
          sub: 'u1',
          iat: now,
          exp: mode === 'expired' ? now - 600 : now + 300,
          nonce: mode === 'wrong-nonce' ? 'not-the-nonce' : nonce,
          name: '王小明',
          certflow_resident_id: mode === 'bad-id' ? '330106198506121230' : '330106198506121237',
        };
        return send({
          access_token: 'at',
          token_type: 'Bearer',
          expires_in: 300,
          id_token: jwt(mode === 'wrong-key' ? evil.privateKey : good.privateKey, claims),
        });
      }
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((r) => idp.listen(0, '127.0.0.1', () => r()));
    const issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
    t = await createTestDatabase('sqlite');
    const base = testConfig();
    const config = {
      ...base,
      holder: { ...base.holder, oidc: { issuer, clientId: 'portal', clientSecret: 'portal-secret' } },
    };
    app = await startTestApp({ db: t.db, temporal: undefined as unknown as Client, config });
  });
  after(async () => {
    await app?.close();
    idp?.close();
    await t?.drop();
  });

  async function attempt(m: Mode): Promise<Response> {
    mode = m;
    const start = await app.fetch('/holder/login', { redirect: 'manual' });
    assert.equal(start.status, 302);
    const auth = new URL(start.headers.get('location')!);
    assert.equal(auth.searchParams.get('code_challenge_method'), 'S256');
    nonce = auth.searchParams.get('nonce')!;
    const state = auth.searchParams.get('state')!;
    const cookie = start.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    return app.fetch(`/holder/callback?code=c1&state=${state}`, { headers: { cookie }, redirect: 'manual' });
  }

  it('signs in with a well-formed token (the stub is a fair provider)', async () => {
    const r = await attempt('good');
    assert.equal(r.status, 302, await r.text());
    assert.ok(
      r.headers.getSetCookie().some((c) => /^certflow_holder=[^;]+;.*httponly/i.test(c) && /samesite=lax/i.test(c)),
    );
  });

  for (const m of ['wrong-key', 'wrong-aud', 'wrong-iss', 'wrong-nonce', 'expired'] as const) {
    it(`refuses an ID token with ${m}`, async () => {
      const r = await attempt(m);
      assert.equal(r.status, 403, await r.clone().text());
      assert.ok(!r.headers.getSetCookie().some((c) => /^certflow_holder=[^;]+/.test(c)));
    });
  }

  it('refuses a resident ID whose check digit is wrong, naming the claim', async () => {
    const r = await attempt('bad-id');
    assert.equal(r.status, 403);
    assert.match(((await r.json()) as { detail: string }).detail, /certflow_resident_id/);
  });
});
