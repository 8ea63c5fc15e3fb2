import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { FaceField } from '../domain/face-fields';
import { maskHolderId } from '../domain/holder';
import { keysOf } from './keys';

/**
 * Resident ID numbers in face data (fields of type idNumber, e.g. a legal representative's)
 * are personal data like the holder's own ID (platform/holder-crypto.ts): stored encrypted
 * wherever face data is stored (application revisions, certificates, the certificate cache),
 * shown masked unless a reason to reveal them is given and audited, decrypted only to print
 * the face and to compare (docs/security.md, "Personal data and compare").
 *
 * A stored value is `f1:<iv>:<tag>:<data>` (AES-256-GCM, base64, key faceIdEncryption of
 * platform/keys.ts). A value without the prefix was written before migration 010 (or by a test
 * fixture straight into the table) and is read as it is; sealing writes it encrypted.
 */

const PREFIX = 'f1:';

/** The keys of a type's idNumber fields. */
export function idNumberFields(fields: readonly FaceField[]): Set<string> {
  return new Set(fields.filter((f) => f.type === 'idNumber').map((f) => f.key));
}

export const isEncryptedFaceValue = (v: unknown): v is string => typeof v === 'string' && v.startsWith(PREFIX);

export interface FaceCrypto {
  /** idNumber values encrypted (those already encrypted are kept); other fields as they are. */
  seal(fields: readonly FaceField[], data: Record<string, unknown>): Record<string, unknown>;
  /** idNumber values in clear: to print the face, build the signed record, compare, reveal. */
  open(fields: readonly FaceField[], data: Record<string, unknown>): Record<string, unknown>;
  /** idNumber values masked (`330106********123X`): what every response shows by default. */
  masked(fields: readonly FaceField[], data: Record<string, unknown>): Record<string, unknown>;
  encrypt(value: string): string;
  decrypt(value: string): string;
}

export function createFaceCrypto(masterKey: Buffer): FaceCrypto {
  const key = keysOf(masterKey).key('faceIdEncryption');
  const encrypt = (value: string) => {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', key, iv);
    const data = Buffer.concat([c.update(value, 'utf8'), c.final()]);
    return PREFIX + [iv, c.getAuthTag(), data].map((b) => b.toString('base64')).join(':');
  };
  const decrypt = (value: string) => {
    if (!isEncryptedFaceValue(value)) return value;
    const [iv, tag, data] = value.slice(PREFIX.length).split(':');
    if (!iv || !tag || !data) throw new Error('not an encrypted face value');
    const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
    d.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([d.update(Buffer.from(data, 'base64')), d.final()]).toString('utf8');
  };
  const map = (fields: readonly FaceField[], data: Record<string, unknown>, f: (v: string) => string) => {
    const ids = idNumberFields(fields);
    return Object.fromEntries(
      Object.entries(data).map(([k, v]) => [k, ids.has(k) && typeof v === 'string' ? f(v) : v]),
    );
  };
  return {
    seal: (fields, data) => map(fields, data, (v) => (isEncryptedFaceValue(v) ? v : encrypt(v))),
    open: (fields, data) => map(fields, data, decrypt),
    masked: (fields, data) => map(fields, data, (v) => maskHolderId(decrypt(v))),
    encrypt,
    decrypt,
  };
}
