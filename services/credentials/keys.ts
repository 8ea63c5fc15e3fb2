import { createECDH, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import * as EcdsaMultikey from '@digitalbazaar/ecdsa-multikey';
import { keysOf, type DepartmentKeyUse } from '../../platform/keys';
import { DID_CONTEXT_V1, MULTIKEY_CONTEXT_V1 } from './loader';

/**
 * Each department's P-256 keys (docs/trust.md, "Verifiable credentials" and "Offline QR"):
 * derived from the master key (platform/keys.ts departmentKeySeed), one per department and use,
 * so nothing is stored and every process has the same key. The seed is reduced to a scalar in
 * [1, n-1]; the bias of a 256-bit seed modulo n (n ≈ 2^256 − 2^224) is below 2^-32.
 */
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

export interface DepartmentKey {
  department: string;
  use: DepartmentKeyUse;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** Public JWK (kty EC, crv P-256, x, y), as published. */
  publicJwk: { kty: 'EC'; crv: 'P-256'; x: string; y: string };
  /** Private JWK, for the multikey library; never leaves the process. */
  privateJwk: { kty: 'EC'; crv: 'P-256'; x: string; y: string; d: string };
}

const b64url = (b: Buffer) => b.toString('base64url');

export function departmentKey(masterKey: Buffer, department: string, use: DepartmentKeyUse): DepartmentKey {
  const seed = keysOf(masterKey).departmentKeySeed(department, use);
  const scalar = (BigInt(`0x${seed.toString('hex')}`) % (P256_ORDER - 1n)) + 1n;
  const d = Buffer.from(scalar.toString(16).padStart(64, '0'), 'hex');
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(d);
  const point = ecdh.getPublicKey(); // 04 || x || y
  const publicJwk = {
    kty: 'EC',
    crv: 'P-256',
    x: b64url(point.subarray(1, 33)),
    y: b64url(point.subarray(33)),
  } as const;
  const privateJwk = { ...publicJwk, d: b64url(d) };
  return {
    department,
    use,
    privateJwk,
    publicJwk,
    privateKey: createPrivateKey({ key: privateJwk, format: 'jwk' }),
    publicKey: createPublicKey({ key: publicJwk, format: 'jwk' }),
  };
}

/**
 * did:web of a department, under PUBLIC_URL: did:web:<host>[:<path>]:api:v1:trust:departments:<code>,
 * which resolves (did:web method) to https://<host>[/<path>]/api/v1/trust/departments/<code>/did.json.
 */
export function departmentDid(publicUrl: string, department: string): string {
  const url = new URL(publicUrl);
  const segments = [...url.pathname.split('/').filter(Boolean), 'api', 'v1', 'trust', 'departments', department];
  return ['did:web', encodeURIComponent(url.host), ...segments.map(encodeURIComponent)].join(':');
}

/** The https URL a did:web resolves to (the did:web method specification). */
export function didWebUrl(did: string): string {
  const [, , host, ...path] = did.split('#')[0]!.split(':');
  const where = path.length ? path.map(decodeURIComponent).join('/') : '.well-known';
  return `https://${decodeURIComponent(host!)}/${where}/did.json`;
}

/** The verification method that signs a department's credentials and status lists. */
export const CREDENTIAL_KEY_FRAGMENT = 'credential-key-1';

export async function credentialKeyPair(masterKey: Buffer, publicUrl: string, department: string) {
  const key = departmentKey(masterKey, department, 'credential');
  const controller = departmentDid(publicUrl, department);
  const pair = await EcdsaMultikey.from({
    '@context': MULTIKEY_CONTEXT_V1,
    type: 'Multikey',
    id: `${controller}#${CREDENTIAL_KEY_FRAGMENT}`,
    controller,
    ...(await multibaseOf(key)),
  });
  return pair;
}

async function multibaseOf(key: DepartmentKey) {
  // fromJwk would import it for key agreement too; Multikey with both multibase values is plain signing.
  const { fromJwk } = EcdsaMultikey as unknown as {
    fromJwk(o: { jwk: unknown; secretKey: boolean }): Promise<{ export(o: unknown): Promise<Record<string, string>> }>;
  };
  const pair = await fromJwk({ jwk: { ...key.privateJwk, key_ops: ['sign'] }, secretKey: true });
  const exported = await pair.export({ publicKey: true, secretKey: true });
  return { publicKeyMultibase: exported.publicKeyMultibase!, secretKeyMultibase: exported.secretKeyMultibase! };
}

/** The public verification method, as the DID document lists it. */
export async function credentialVerificationMethod(masterKey: Buffer, publicUrl: string, department: string) {
  const pair = await credentialKeyPair(masterKey, publicUrl, department);
  const exported = await pair.export({ publicKey: true, includeContext: true });
  return exported as {
    '@context': string;
    id: string;
    type: 'Multikey';
    controller: string;
    publicKeyMultibase: string;
  };
}

/** The department's DID document (served at didWebUrl of its DID). */
export async function departmentDidDocument(masterKey: Buffer, publicUrl: string, department: string) {
  const { '@context': _context, ...method } = await credentialVerificationMethod(masterKey, publicUrl, department);
  const id = departmentDid(publicUrl, department);
  return {
    '@context': [DID_CONTEXT_V1, MULTIKEY_CONTEXT_V1],
    id,
    verificationMethod: [method],
    assertionMethod: [method.id],
  };
}
