import { hkdfSync, scrypt } from 'node:crypto';

/**
 * Every key derived from the master key, in one place, each for one named purpose: one
 * key's use says nothing about another's, and nothing derived needs storing. Rotating
 * the master key changes them all.
 *
 * The HKDF info strings are part of the stored data's format: holder lookup hashes and
 * encrypted holder IDs in the database, idBinding in signed certificate records, callback
 * keys business systems have fetched. Changing one orphans that data, so a new scheme gets
 * a new info string (a new version) beside the old, never an edit. test/unit/keys.test.ts
 * pins one vector per purpose.
 */

/** HKDF-SHA256 info per purpose (no salt: the master key is already uniformly secret). */
export const KEY_INFO = {
  /** HMAC key of the holder-ID lookup hash (platform/holder-crypto.ts). */
  holderIdLookup: 'certflow holder-id lookup v1',
  /** AES-256-GCM key of holder IDs at rest (platform/holder-crypto.ts). */
  holderIdEncryption: 'certflow holder-id encryption v1',
  /** HMAC key binding a holder ID to a signed record (domain/certificate-record.ts idBinding). */
  recordHolderBinding: 'certflow record holder binding v1',
  /** HMAC key of the signed audit-chain checkpoints under DATA_DIR/audit-anchors (db/audit-anchors.ts). */
  auditAnchor: 'certflow audit anchor v1',
  /**
   * The master key's fingerprint in backups (services/backup.ts): this sub-key itself, hex, so a
   * restore can tell whether it holds the same master key without the key ever being written.
   */
  masterKeyFingerprint: 'certflow master key fingerprint v1',
  /** HMAC key of show-codes at rest (services/holder/show-codes.ts): a stolen table yields no usable code. */
  showCode: 'certflow holder show-code v1',
  /** AES-256-GCM key of idNumber face values at rest (platform/face-crypto.ts). */
  faceIdEncryption: 'certflow face id-number encryption v1',
} as const;

export type KeyPurpose = keyof typeof KEY_INFO;

/** Who a callback is signed for: an API client, or a department for applications its staff entered. */
export type CallbackOwner = { kind: 'api-client'; id: string } | { kind: 'department'; code: string };

/** Info of the callback HMAC key of one owner; the owner is part of it, one key per receiver. */
export function callbackKeyInfo(owner: CallbackOwner): string {
  const who = owner.kind === 'api-client' ? `api-client:${owner.id}` : `department:${owner.code}`;
  return `certflow callback hmac v1\n${who}`;
}

/** What a department's P-256 key signs: W3C credentials and status lists, or the printed QR code. */
export type DepartmentKeyUse = 'credential' | 'qr';

/**
 * Info of the seed of a department's P-256 signing key for one use (services/credentials/keys.ts):
 * one key per department and use, so a QR signature can never pass for a credential proof.
 */
export function departmentKeyInfo(code: string, use: DepartmentKeyUse): string {
  return `certflow department p-256 ${use} v1\ndepartment:${code}`;
}

/** The one HKDF derivation: 32 bytes for `info`. */
function derive(masterKey: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), info, 32));
}

export interface MasterKeys {
  /** The sub-key for a fixed purpose; derived on first use, then kept. */
  key(purpose: KeyPurpose): Buffer;
  /** The HMAC key callbacks to this owner are signed with (services/outbound.ts). */
  callbackKey(owner: CallbackOwner): Buffer;
  /** The 32-byte seed of a department's P-256 key for `use` (docs/trust.md, "Verifiable credentials"). */
  departmentKeySeed(code: string, use: DepartmentKeyUse): Buffer;
}

// Keyed by the master key's Buffer: a process loads it once (platform/master-key.ts) and
// passes that Buffer everywhere, so each key is derived once per process; a dropped Buffer
// takes its keys with it.
const derived = new WeakMap<Buffer, Map<string, Buffer>>();

/** The sub-keys of this master key, derived once per master key and purpose. */
export function keysOf(masterKey: Buffer): MasterKeys {
  let cache = derived.get(masterKey);
  if (!cache) derived.set(masterKey, (cache = new Map()));
  const get = (info: string) => {
    let k = cache.get(info);
    if (!k) cache.set(info, (k = derive(masterKey, info)));
    // A copy: a caller that zeroes or writes into its key must not change everybody's.
    return Buffer.from(k);
  };
  return {
    key: (purpose) => get(KEY_INFO[purpose]),
    callbackKey: (owner) => get(callbackKeyInfo(owner)),
    departmentKeySeed: (code, use) => get(departmentKeyInfo(code, use)),
  };
}

/** Names the master key without revealing it (HKDF is one-way): backups and restores compare these. */
export function masterKeyFingerprint(masterKey: Buffer): string {
  return keysOf(masterKey).key('masterKeyFingerprint').toString('hex');
}

/**
 * The key a seal's private key is encrypted with at rest (services/trust/pki.ts, scheme v1):
 * scrypt of the master key with the record's own random salt (N=2^14, r=8, p=1). Unlike the
 * HKDF keys it differs per record, so it is derived per use, not cached; scrypt's cost is
 * what a stolen database costs an attacker guessing a weak master key.
 */
export const PRIVATE_KEY_V1 = { N: 1 << 14, r: 8, p: 1 } as const;

export function privateKeyEncryptionKey(masterKey: Buffer, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(masterKey, salt, 32, PRIVATE_KEY_V1, (err, key) => (err ? reject(err) : resolve(key))),
  );
}
