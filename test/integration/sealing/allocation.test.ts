import assert from 'node:assert/strict';
import { forEachDatabase } from '../../support/databases';
import { testConfig } from '../../support/app';
import { sealingActivities, placeholderIssuerCode } from '../../../activities/sealing';
import { LibreofficeConvertConverter } from '../../../services/documents/convert';
import { parseCertificateNumber } from '../../../domain/certificate-number';
import { parseIdentifier } from '../../../domain/identifier';
import { isValidCreditCode } from '../../../domain/check-digits';
import { getDepartment } from '../../../db/org';
import { createApplication, setupSealing, type SealingSetup } from './helpers';

/** Certificate numbers: one per application, never two alike, whatever runs concurrently. */
forEachDatabase('certificate number allocation', (get) => {
  let s: SealingSetup;
  before(async () => {
    // Nothing here converts: a converter that is never started costs nothing.
    s = await setupSealing(get().db, new LibreofficeConvertConverter({ timeoutMs: 10_000 }));
  });

  it('20 concurrent allocations get 20 distinct serials, 1 to 20, each stored on its application', async () => {
    const { db } = get();
    const apps = await Promise.all(
      Array.from({ length: 20 }, () => createApplication(db, s.deps.masterKey, { typeCode: 'FBP' })),
    );
    // Each allocation from its own activity instance, as 20 workers would run them.
    const numbers = await Promise.all(apps.map((id) => sealingActivities(s.deps).allocateCertificateNumber(id)));
    const serials = numbers.map((n) => {
      const p = parseCertificateNumber(n);
      assert.ok(p.ok, n);
      return p.value.serial;
    });
    assert.deepEqual(
      [...serials].sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    for (const [i, id] of apps.entries()) {
      assert.equal((await db('applications').where({ id }).first()).certificate_number, numbers[i]);
    }
    const identifiers = (await db('certificate_allocations').whereIn('application_id', apps).select('identifier')).map(
      (r) => r.identifier,
    );
    assert.equal(new Set(identifiers).size, 20);
    const year = Number(numbers[0]!.split('-')[2]);
    assert.equal(
      (await db('certificate_numbers').where({ type_code: 'FBP', region_code: '330100', year }).first()).last_serial,
      20,
    );
  });

  it('a retried allocation, even a concurrent one, returns the same number', async () => {
    const { db } = get();
    const id = await createApplication(db, s.deps.masterKey);
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => sealingActivities(s.deps).allocateCertificateNumber(id)));
    assert.equal(a, b);
    assert.equal(b, c);
    assert.equal(await s.acts.allocateCertificateNumber(id), a);
    assert.equal((await db('certificate_allocations').where({ application_id: id })).length, 1);
  });

  it('counts each type separately', async () => {
    const { db } = get();
    const before = await db('certificate_numbers').where({ type_code: 'PQ' }).first();
    assert.equal(before, undefined);
    const n = await s.acts.allocateCertificateNumber(
      await createApplication(db, s.deps.masterKey, {
        typeCode: 'PQ',
        holder: { kind: 'person', id: '11010519491231002X', name: '张三' },
      }),
    );
    assert.match(n, /^PQ-330100-\d{4}-0000001-[0-9A-Z]$/);
  });

  it('identifier: the department credit code as issuer code, else a well-formed development placeholder', async () => {
    const { db } = get();
    const market = (await getDepartment(db, 'market'))!;
    const placeholder = placeholderIssuerCode('330100', market.id);
    assert.ok(isValidCreditCode(placeholder), placeholder);
    const first = await s.acts.allocateCertificateNumber(await createApplication(db, s.deps.masterKey));
    const a1 = await db('certificate_allocations').where({ number: first }).first();
    const p1 = parseIdentifier(a1.identifier);
    assert.ok(p1.ok);
    assert.equal(p1.value.issuerCode, placeholder);
    assert.equal(Boolean(a1.issuer_code_placeholder), true);
    assert.equal(p1.value.serial, `${first.split('-')[2]}${first.split('-')[3]}`, 'serial = year + 7-digit serial');

    await db('departments').where({ code: 'market' }).update({ credit_code: '11330100002489248F' });
    try {
      const second = await s.acts.allocateCertificateNumber(await createApplication(db, s.deps.masterKey));
      const p2 = parseIdentifier((await db('certificate_allocations').where({ number: second }).first()).identifier);
      assert.ok(p2.ok);
      assert.equal(p2.value.issuerCode, '11330100002489248F');
      assert.equal(p2.value.definingAuthorityCode, '11330100002489248F');
    } finally {
      await db('departments').where({ code: 'market' }).update({ credit_code: null });
    }
  });

  it('production refuses to issue for a department without a credit code (non-retryable)', async () => {
    const { db } = get();
    const prod = sealingActivities({ ...s.deps, config: { ...testConfig(), env: 'production' } });
    const id = await createApplication(db, s.deps.masterKey);
    await assert.rejects(
      prod.allocateCertificateNumber(id),
      (err: Error & { nonRetryable?: boolean; type?: string }) =>
        err.nonRetryable === true && err.type === 'NoIssuerCode',
    );
    assert.equal((await db('applications').where({ id }).first()).certificate_number, null);
  });
});
