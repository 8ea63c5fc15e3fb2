import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Holder ID numbers are personal data (docs/trust.md): looked up by a keyed hash,
 * stored encrypted, shown in clear only to those allowed. Both keys derive from the
 * master key, each for its own purpose.
 */
export interface HolderCrypto {
  /** Deterministic: the same ID always hashes the same, so it can be indexed. */
  lookupHash(holderId: string): string;
  encrypt(holderId: string): string;
  decrypt(blob: string): string;
}

export function createHolderCrypto(masterKey: Buffer): HolderCrypto {
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), info, 32));
  const hashKey = derive('certflow holder-id lookup v1');
  const encKey = derive('certflow holder-id encryption v1');
  return {
    lookupHash: (id) => createHmac('sha256', hashKey).update(id.trim().toUpperCase(), 'utf8').digest('hex'),
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
      return Buffer.concat([d.update(Buffer.from(data, 'base64')), d.final()]).toString('utf8');
    },
  };
}
