import assert from 'node:assert/strict';
import { sign, verify, webcrypto } from 'node:crypto';
import * as vc from '@digitalbazaar/vc';
import { DataIntegrityProof } from '@digitalbazaar/data-integrity';
import { cryptosuite as ecdsaRdfc2019 } from '@digitalbazaar/ecdsa-rdfc-2019-cryptosuite';
import { DocumentRefused, offlineDocumentLoader, offlineContextUrls } from '../../../services/credentials/loader';
import {
  credentialVerificationMethod,
  departmentDid,
  departmentDidDocument,
  departmentKey,
  didWebUrl,
} from '../../../services/credentials/keys';
import { signCredential } from '../../../services/credentials/issue';
import {
  faceDataHash,
  offlineQrKeys,
  signOfflineFacts,
  verifyOfflineToken,
  type OfflineFacts,
} from '../../../services/credentials/offline-qr';
import { testConfig } from '../../support/app';

const MASTER = Buffer.from('certflow credentials unit test master key', 'utf8');
const PUBLIC_URL = 'https://zhengzhao.hangzhou.gov.cn';

describe('credentials: the offline document loader', () => {
  const realFetch = globalThis.fetch;
  const calls: string[] = [];
  before(() => {
    globalThis.fetch = (async (input: string | URL) => {
      calls.push(String(input));
      throw new Error('no network in this test');
    }) as typeof fetch;
  });
  after(() => {
    globalThis.fetch = realFetch;
  });

  it('serves the VC 2.0, Data Integrity and Multikey contexts from the installed packages', async () => {
    const load = offlineDocumentLoader();
    for (const url of [
      'https://www.w3.org/ns/credentials/v2',
      'https://w3id.org/security/data-integrity/v2',
      'https://w3id.org/security/multikey/v1',
    ]) {
      const { document } = await load(url);
      assert.ok(document && typeof document === 'object' && '@context' in document, url);
    }
    assert.ok(offlineContextUrls().length >= 5);
  });

  it('refuses every other URL without touching the network', async () => {
    const load = offlineDocumentLoader((url) => (url === 'did:web:example.org' ? { id: url } : undefined));
    assert.deepEqual((await load('did:web:example.org')).document, { id: 'did:web:example.org' });
    for (const url of [
      'https://www.w3.org/2018/credentials/examples/v1',
      'https://schema.org/',
      'http://www.w3.org/ns/credentials/v2',
      'did:web:attacker.example',
    ]) {
      await assert.rejects(load(url), (err) => err instanceof DocumentRefused && err.url === url);
    }
    assert.deepEqual(calls, []);
  });
});

describe('credentials: department keys and did:web', () => {
  it('derives one stable P-256 key per department and use; the public key matches', () => {
    const a = departmentKey(MASTER, 'market', 'credential');
    assert.deepEqual(departmentKey(MASTER, 'market', 'credential').publicJwk, a.publicJwk);
    assert.notDeepEqual(departmentKey(MASTER, 'market', 'qr').publicJwk, a.publicJwk);
    assert.notDeepEqual(departmentKey(MASTER, 'health', 'credential').publicJwk, a.publicJwk);
    const sig = sign('sha256', Buffer.from('x'), a.privateKey);
    assert.ok(verify('sha256', Buffer.from('x'), a.publicKey, sig));
    assert.equal(a.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  });

  it('names a department did:web under PUBLIC_URL, resolving to the route that serves it', () => {
    const did = departmentDid(PUBLIC_URL, 'market');
    assert.equal(did, 'did:web:zhengzhao.hangzhou.gov.cn:api:v1:trust:departments:market');
    assert.equal(didWebUrl(did), `${PUBLIC_URL}/api/v1/trust/departments/market/did.json`);
    const withPort = departmentDid('https://gov.example:8443/certflow', 'health');
    assert.equal(withPort, 'did:web:gov.example%3A8443:certflow:api:v1:trust:departments:health');
    assert.equal(didWebUrl(withPort), 'https://gov.example:8443/certflow/api/v1/trust/departments/health/did.json');
  });

  it('signs a credential that @digitalbazaar/vc verifies offline against the DID document, and not once changed', async function () {
    this.timeout(30_000);
    const config = { ...testConfig(), http: { ...testConfig().http, publicUrl: PUBLIC_URL } };
    const did = departmentDid(PUBLIC_URL, 'market');
    const didDocument = await departmentDidDocument(MASTER, PUBLIC_URL, 'market');
    const method = await credentialVerificationMethod(MASTER, PUBLIC_URL, 'market');
    const loader = offlineDocumentLoader((url) => (url === did ? didDocument : url === method.id ? method : undefined));
    const signed = await signCredential({ masterKey: MASTER, config }, 'market', {
      '@context': ['https://www.w3.org/ns/credentials/v2'],
      type: ['VerifiableCredential'],
      issuer: did,
      credentialSubject: { id: 'urn:example:subject', name: '杭州西湖数字科技有限公司' },
    });
    const suite = new DataIntegrityProof({ cryptosuite: ecdsaRdfc2019 });
    const ok = await vc.verifyCredential({ credential: signed, suite, documentLoader: loader });
    assert.equal(ok.verified, true, String(ok.error));
    const changed = structuredClone(signed) as { credentialSubject: { name: string } };
    changed.credentialSubject.name = '杭州东湖数字科技有限公司';
    const bad = await vc.verifyCredential({ credential: changed, suite, documentLoader: loader });
    assert.equal(bad.verified, false);
  });
});

describe('offline QR signature', () => {
  const facts: OfflineFacts = {
    number: 'BL-330106-2026-0000042-B',
    holderName: '张*丰',
    validFrom: '2026-12-01',
    validUntil: '2029-11-30',
    department: 'market',
    faceHash: faceDataHash({ registeredCapital: '人民币伍佰万元整', establishedOn: '2019-06-18' }),
  };
  const keyOf = (code: string) => departmentKey(MASTER, code, 'qr').publicKey;

  it('signs the facts and verifies them with the department key', () => {
    const token = signOfflineFacts(MASTER, facts);
    assert.match(token, /^cf1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{86}$/);
    assert.ok(token.length < 260, `short enough for a small QR code: ${token.length}`);
    assert.deepEqual(verifyOfflineToken(token, keyOf), { ok: true, facts });
  });

  it('hashes face data canonically: key order does not matter, a value does', () => {
    assert.equal(faceDataHash({ a: 1, b: '二' }), faceDataHash({ b: '二', a: 1 }));
    assert.notEqual(faceDataHash({ a: 1, b: '二' }), faceDataHash({ a: 2, b: '二' }));
  });

  it('refuses a changed fact, a changed signature, another department and garbage', () => {
    const token = signOfflineFacts(MASTER, facts);
    const [prefix, payload, sig] = token.split('.') as [string, string, string];
    const forged = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown[];
    forged[4] = '2039-11-30';
    const changed = `${prefix}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${sig}`;
    assert.deepEqual(verifyOfflineToken(changed, keyOf), { ok: false, reason: 'signature does not match' });
    const flipped = `${prefix}.${payload}.${sig.startsWith('A') ? 'B' : 'A'}${sig.slice(1)}`;
    assert.equal(verifyOfflineToken(flipped, keyOf).ok, false);
    const health = signOfflineFacts(MASTER, { ...facts, department: 'health' });
    assert.equal(verifyOfflineToken(health, () => keyOf('market')).ok, false, "market's key does not verify health's");
    assert.equal(verifyOfflineToken('cf1.e30', keyOf).ok, false);
    assert.equal(verifyOfflineToken('cf1.!!!.x', keyOf).ok, false);
  });

  it('verifies with WebCrypto against the published JWK, as the verify page does', async () => {
    const token = signOfflineFacts(MASTER, facts);
    const [jwk] = offlineQrKeys(MASTER, [{ code: 'market', name: '市场监督管理局' }]);
    const { kty, crv, x, y } = jwk!;
    const key = await webcrypto.subtle.importKey(
      'jwk',
      { kty, crv, x, y },
      { name: 'ECDSA', namedCurve: 'P-256' },
      false,
      ['verify'],
    );
    const [prefix, payload, sig] = token.split('.') as [string, string, string];
    const algorithm = { name: 'ECDSA', hash: 'SHA-256' };
    const data = new TextEncoder().encode(`${prefix}.${payload}`);
    assert.equal(await webcrypto.subtle.verify(algorithm, key, Buffer.from(sig, 'base64url'), data), true);
    assert.equal(await webcrypto.subtle.verify(algorithm, key, Buffer.from(sig, 'base64url'), data.slice(1)), false);
  });
});
