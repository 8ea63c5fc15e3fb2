import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { KEY_INFO, keysOf, privateKeyEncryptionKey, type KeyPurpose } from '../../platform/keys';
import { createHolderCrypto, holderIdBinding } from '../../platform/holder-crypto';
import { callbackSigningKey } from '../../services/outbound';
import { decryptPrivateKey, encryptPrivateKey } from '../../services/trust/pki';
import { holderIdOf } from '../../domain/holder';

/**
 * The vectors below were computed with the code as it was before platform/keys.ts existed
 * (HKDF calls in platform/holder-crypto.ts, activities/sealing.ts, services/outbound.ts and
 * scrypt in services/trust/pki.ts). Derived keys protect stored data: if one of these
 * changes, existing lookup hashes, encrypted IDs, record bindings, callback keys and seal
 * keys stop matching.
 */
const MASTER = Buffer.from('certflow keys test vector master key', 'utf8');
const PERSON = holderIdOf('person', '11010519491231002X');
const ENTITY = holderIdOf('entity', '91350100M000100Y43');

const PINNED: Record<KeyPurpose, string> = {
  holderIdLookup: '6c9160c092e29e444f23e5e8f53d84d27e505397efb6bbc2c9f0939b5f51a0e9',
  holderIdEncryption: '455f27416a27f26bdb93764fff9127d8a5299e95e87316f85173122eb27a03ad',
  recordHolderBinding: '77231a23014d4ec94539a9d4a5f738cf21449a4ae0f6c701b747aca182e123df',
  // Pinned when they were introduced: anchors already written and backups already taken depend on them.
  auditAnchor: '683c6984830799412e76e164d01cdee0748e2e6c09a744b65f114169f1539939',
  masterKeyFingerprint: '83a940909f8613b120049cb264eb83d6217cf1a7265fe297547da467bc957ab5',
  showCode: '62f865a0c05e5fa5d31eebe4c809e93ae64f5d891c4bc87c9fb6a2f2617dc596',
  faceIdEncryption: 'c3bc4c5df789a867b62d82851ec8873b45e8789ce002824c89429265bdc7eda0',
};
const CALLBACK_API_CLIENT = 'b7532aba827e170ef88c66cd64cc019c8ff136ee05306a7093f9126c87462423';
const CALLBACK_DEPARTMENT = '11a9b17e3cd9b12d8b18b386b51a5f652af47b663485bde608c43109b73067b9';
// Pinned when introduced (issue #17): issued credentials and printed QR codes are signed with keys from these.
const DEPARTMENT_CREDENTIAL_SEED = '7147fc033f0cd84c239db04dcd937ea9f4fdfd652856106515b6b1cd5d63b4c5';
const DEPARTMENT_QR_SEED = '6ae9c220cdc655ec3c5523c455bff8a4b930d14770faef45bb7ecb14a1905f2b';
const PRIVATE_KEY_BLOB =
  'v1:Vxq+eMq008uw0szdxQO8wA==:T1YTsM5LJrks/XCP:9uBp6nWPQwl2uY9/0DffJw==:' +
  'wXmjvK4pajHtIqdWyCpV+DTTPr5EqLr/2hVEsX/fSaMsyS3irHQrIlNM8FUyKfFLyMBLzaRYVzRAUyU=';
const PRIVATE_KEY_PEM = '-----BEGIN PRIVATE KEY-----\nTEST\n-----END PRIVATE KEY-----\n';
const PRIVATE_KEY_KEY = 'adf4e2561f62423909c8e2086e5178dbd1e53b4ab718390fd0f5a2bd78d28169';

describe('master key sub-keys (platform/keys)', () => {
  const keys = keysOf(MASTER);

  it('derives each fixed purpose as it always has', () => {
    for (const purpose of Object.keys(KEY_INFO) as KeyPurpose[]) {
      assert.equal(keys.key(purpose).toString('hex'), PINNED[purpose], purpose);
    }
  });

  it('derives a callback key per owner as it always has', () => {
    assert.equal(keys.callbackKey({ kind: 'api-client', id: 'ac-1' }).toString('hex'), CALLBACK_API_CLIENT);
    assert.equal(keys.callbackKey({ kind: 'department', code: 'market' }).toString('hex'), CALLBACK_DEPARTMENT);
    assert.equal(callbackSigningKey(MASTER, { kind: 'api-client', id: 'ac-1' }).toString('hex'), CALLBACK_API_CLIENT);
  });

  it("derives each department's P-256 key seeds as it always has, one per use", () => {
    assert.equal(keys.departmentKeySeed('market', 'credential').toString('hex'), DEPARTMENT_CREDENTIAL_SEED);
    assert.equal(keys.departmentKeySeed('market', 'qr').toString('hex'), DEPARTMENT_QR_SEED);
    assert.notEqual(keys.departmentKeySeed('health', 'credential').toString('hex'), DEPARTMENT_CREDENTIAL_SEED);
  });

  it('derives the seal private-key encryption key as it always has, and opens a key stored before', async () => {
    const salt = Buffer.from(PRIVATE_KEY_BLOB.split(':')[1]!, 'base64');
    assert.equal((await privateKeyEncryptionKey(MASTER, salt)).toString('hex'), PRIVATE_KEY_KEY);
    assert.equal(await decryptPrivateKey(PRIVATE_KEY_BLOB, MASTER), PRIVATE_KEY_PEM);
    const again = await encryptPrivateKey(PRIVATE_KEY_PEM, MASTER);
    assert.notEqual(again, PRIVATE_KEY_BLOB, 'a fresh salt and IV each time');
    assert.equal(await decryptPrivateKey(again, MASTER), PRIVATE_KEY_PEM);
  });

  it('gives every purpose and owner a distinct key', () => {
    const all = [
      ...(Object.keys(KEY_INFO) as KeyPurpose[]).map((p) => keys.key(p)),
      keys.callbackKey({ kind: 'api-client', id: 'ac-1' }),
      keys.callbackKey({ kind: 'api-client', id: 'ac-2' }),
      keys.callbackKey({ kind: 'department', code: 'market' }),
      // An API client named like a department is still another owner.
      keys.callbackKey({ kind: 'api-client', id: 'market' }),
      keys.departmentKeySeed('market', 'credential'),
      keys.departmentKeySeed('market', 'qr'),
    ].map((k) => k.toString('hex'));
    assert.equal(new Set(all).size, all.length);
    assert.ok(
      all.every((k) => k.length === 64),
      '32-byte keys',
    );
  });

  it('depends on the master key', () => {
    const other = keysOf(Buffer.from('another master key, also long enough', 'utf8'));
    for (const purpose of Object.keys(KEY_INFO) as KeyPurpose[]) {
      assert.notEqual(other.key(purpose).toString('hex'), PINNED[purpose], purpose);
    }
  });

  it('is stable: the same key on every call and for an equal master key in another Buffer', () => {
    assert.deepEqual(keys.key('holderIdLookup'), keysOf(MASTER).key('holderIdLookup'));
    assert.deepEqual(keysOf(Buffer.from(MASTER)).key('holderIdLookup').toString('hex'), PINNED.holderIdLookup);
  });

  it('hands out copies: a caller that wipes its key does not wipe the cached one', () => {
    keys.key('recordHolderBinding').fill(0);
    assert.equal(keys.key('recordHolderBinding').toString('hex'), PINNED.recordHolderBinding);
  });
});

describe('holder crypto over the derived keys', () => {
  const holders = createHolderCrypto(MASTER);

  it('hashes holder IDs for lookup as it always has', () => {
    assert.equal(holders.lookupHash(PERSON), '06fc55879b68238cb6ab13039fc590d97c0c463e1c17157cd0ebd5814fec41f9');
    assert.equal(holders.lookupHash(ENTITY), '33497fadb70adcc85efa28a1d58a8b7a4d41182fb4a4d760c30010479759249a');
    const expected = createHmac('sha256', Buffer.from(PINNED.holderIdLookup, 'hex')).update(PERSON).digest('hex');
    assert.equal(holders.lookupHash(PERSON), expected);
  });

  it('decrypts a holder ID encrypted before, and round-trips a new one', () => {
    assert.equal(holders.decrypt('h1:gepmuH1+mYq09NLH:be8YezVnZZEpEUwHHxRhNg==:z5MDVKHsuf09ZSgi7qeU78k5'), PERSON);
    const blob = holders.encrypt(ENTITY);
    assert.notEqual(holders.encrypt(ENTITY), blob, 'a fresh IV each time');
    assert.equal(holders.decrypt(blob), ENTITY);
    assert.throws(() => createHolderCrypto(Buffer.from('another master key, also long enough')).decrypt(blob));
  });

  it('binds a holder ID to a record as it always has, one binding per certificate', () => {
    const binding = holderIdBinding(MASTER, 'BL-3301-2024-000001', PERSON);
    assert.equal(binding, '951dcc948520eb1991752881463cda91f366b1214f8548d98acdbe912a57f44f');
    assert.notEqual(holderIdBinding(MASTER, 'BL-3301-2024-000002', PERSON), binding);
    assert.notEqual(binding, holders.lookupHash(PERSON), 'not the lookup hash: records cannot be linked');
    // Parsed once at the edge: the lower-case spelling binds the same.
    assert.equal(holderIdBinding(MASTER, 'BL-3301-2024-000001', holderIdOf('person', '11010519491231002x')), binding);
  });
});
