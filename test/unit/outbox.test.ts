import assert from 'node:assert/strict';
import { dedupeKey, ownerName, parseOwner } from '../../services/outbox';

describe('outbox message keys', () => {
  it('names a callback key owner the way GET /callbacks/signing-key does, and reads it back', () => {
    assert.equal(ownerName({ kind: 'api-client', id: 'c-1:x' }), 'api-client:c-1:x');
    assert.deepEqual(parseOwner('api-client:c-1:x'), { kind: 'api-client', id: 'c-1:x' });
    assert.deepEqual(parseOwner(ownerName({ kind: 'department', code: 'market' })), {
      kind: 'department',
      code: 'market',
    });
    assert.equal(ownerName({ kind: 'holder-gateway' }), 'gateway:holder-notify');
    assert.deepEqual(parseOwner('gateway:holder-notify'), { kind: 'holder-gateway' });
    for (const bad of ['market', 'gateway:other', 'department:', 'user:market-admin', ':x']) {
      assert.throws(() => parseOwner(bad), /unknown callback key owner/, bad);
    }
  });

  it('keys a message by event and subject', () => {
    assert.equal(
      dedupeKey('certificate.revoked', 'BL-330100-2026-0000042-B'),
      'certificate.revoked:BL-330100-2026-0000042-B',
    );
  });
});
