import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import type { HolderId } from '../domain/holder';
import { keysOf } from './keys';

/**
 * Holder ID numbers are personal data (docs/trust.md): looked up by a keyed hash, stored encrypted, shown
 * in clear only to those allowed. Each key derives from the master key for its own purpose
 * (platform/keys.ts). IDs come in as HolderId, already in their one spelling
 * (domain/holder.ts), so `…002x` and `…002X` hash and bind alike without normalising here.
 */
export interface HolderCrypto {
  /** Deterministic: the same ID always hashes the same, so it can be indexed. */
  lookupHash(holderId: HolderId): string;
  encrypt(holderId: HolderId): string;
  /** Only HolderIds are ever encrypted, so what comes out is one. */
  decrypt(blob: string): HolderId;
}

export function createHolderCrypto(masterKey: Buffer): HolderCrypto {
  const keys = keysOf(masterKey);
  const hashKey = keys.key('holderIdLookup');
  const encKey = keys.key('holderIdEncryption');
  return {
    lookupHash: (id) => createHmac('sha256', hashKey).update(id, 'utf8').digest('hex'),
    encrypt(id) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', encKey, iv);
      const data = Buffer.concat([c.update(id, 'utf8'), c.final()]);
      return ['h1', iv.toString('base64'), c.getAuthTag().toString('base64'), data.toString('base64')].join(':');
    },
    decrypt(blob) {
      const [v, iv, tag, data] = blob.split(':');
      if (v !== 'h1' || !iv || !tag || !data) throw new Error('not an encrypted holder ID');
      const d = createDecipheriv('aes-256-gcm', encKey, Buffer.from(iv, 'base64'));
      d.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([d.update(Buffer.from(data, 'base64')), d.final()]).toString('utf8') as HolderId;
    },
  };
}

/**
 * Binds the holder's ID to one certificate's record without revealing it (idBinding, see
 * domain/certificate-record.ts): HMAC of number and ID. Comparing a claimed ID against a
 * record (services/compare.ts) recomputes this.
 */
export function holderIdBinding(masterKey: Buffer, number: string, holderId: HolderId): string {
  const key = keysOf(masterKey).key('recordHolderBinding');
  return createHmac('sha256', key).update(`${number}\n${holderId}`, 'utf8').digest('hex');
}
