import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { Client } from '@temporalio/client';
import { forEachDatabase } from '../../support/databases';
import { startTestApp, testWarmConverter, type TestApp } from '../../support/app';
import { createApplication, issue, setupSealing, type Issued, type SealingSetup } from '../sealing/helpers';
import { getCertificate } from '../../../db/certificates';
import { getSeal } from '../../../db/trust';
import type { VerificationReport } from '../../../services/verify';
import { run, tempDir, writeFile } from '../trust/tools';
import { outcomes } from './helpers';
import { revocationCheck } from '../../../services/trust/revocation';

/**
 * Trust that outlives keys, over HTTP: the TSA route answers `openssl ts` queries, the root's
 * CRL lists revoked seals for `openssl crl`, and verification keeps a signature made before a
 * seal's compromise (its timestamp proves it) while refusing one made after.
 */
forEachDatabase('time-stamping and seal revocation API', (get) => {
  let s: SealingSetup;
  let app: TestApp;
  let first: Issued;
  let second: Issued;
  let admin: string;
  let dir: string;

  before(async function () {
    this.timeout(90_000);
    const { db } = get();
    dir = tempDir('revocation');
    await testWarmConverter().start();
    s = await setupSealing(db, testWarmConverter());
    first = await issue(s, await createApplication(db, s.deps.masterKey));
    second = await issue(s, await createApplication(db, s.deps.masterKey));
    const config = { ...s.deps.config, verify: { rateLimitPerMinute: 1000 } };
    app = await startTestApp({ db, temporal: {} as Client, deps: s.deps, config });
    admin = await app.login('platform-admin');
  });
  after(() => app?.close());

  const verify = async (number: string) => {
    const r = await app.fetch(`/api/v1/verify/${number}`);
    assert.equal(r.status, 200, await r.clone().text());
    return (await r.json()) as VerificationReport;
  };

  it('POST /tsa answers openssl ts; the token verifies against GET /trust/tsa.pem and the root, not over other data', async () => {
    writeFile(dir, 'data.txt', 'hello certflow');
    writeFile(dir, 'other.txt', 'other');
    const q = run('openssl', ['ts', '-query', '-data', `${dir}/data.txt`, '-sha256', '-out', `${dir}/q.tsq`]);
    assert.equal(q.status, 0, q.output);
    const r = await app.fetch('/api/v1/tsa', {
      method: 'POST',
      headers: { 'content-type': 'application/timestamp-query' },
      body: new Uint8Array(fs.readFileSync(`${dir}/q.tsq`)),
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/timestamp-reply');
    writeFile(dir, 'r.tsr', Buffer.from(await r.arrayBuffer()));
    writeFile(dir, 'tsa.pem', await (await app.fetch('/api/v1/trust/tsa.pem')).text());
    writeFile(dir, 'root.pem', await (await app.fetch('/api/v1/trust/root.pem')).text());
    const args = ['-in', `${dir}/r.tsr`, '-CAfile', `${dir}/root.pem`, '-untrusted', `${dir}/tsa.pem`];
    assert.match(run('openssl', ['ts', '-verify', '-queryfile', `${dir}/q.tsq`, ...args]).output, /Verification: OK/);
    assert.match(
      run('openssl', ['ts', '-verify', '-data', `${dir}/other.txt`, ...args]).output,
      /Verification: FAILED/,
    );
    const bad = await app.fetch('/api/v1/tsa', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'x',
    });
    assert.equal(bad.status, 415);
  });

  it('certificates issued now verify with a passed timestamp and revocation check', async () => {
    const r = await verify(first.number);
    assert.equal(r.verdict, 'valid', JSON.stringify(r.checks));
    assert.equal(outcomes(r).timestamp, 'passed');
    assert.equal(outcomes(r).revocation, 'passed');
  });

  it('only a platform admin revokes; bad input names the field', async () => {
    const { db } = get();
    const cert = (await getCertificate(db, first.number))!;
    const dept = await app.login('market-admin');
    const denied = await app.fetch(`/api/v1/seals/${cert.sealId}/revocation`, {
      token: dept,
      json: { reason: 'superseded' },
    });
    assert.equal(denied.status, 403);
    const missing = await app.fetch(`/api/v1/seals/${cert.sealId}/revocation`, {
      token: admin,
      json: { reason: 'keyCompromise' },
    });
    assert.equal(missing.status, 422, await missing.clone().text());
    assert.match(await missing.text(), /compromisedSince/);
  });

  it('a compromise after the timestamp keeps the signature; one before it fails it, with the reason; the CRL lists it', async () => {
    const { db } = get();
    const cert = (await getCertificate(db, first.number))!;
    const issuedAt = new Date(cert.issuedAt).getTime();
    // Compromised since after both signatures: both stay valid.
    // Now: after both signatures and their timestamps (a TSA time is never later than the moment it signed).
    const since = new Date().toISOString();
    const r = await app.fetch(`/api/v1/seals/${cert.sealId}/revocation`, {
      token: admin,
      json: { reason: 'keyCompromise', compromisedSince: since, comment: 'test' },
    });
    assert.equal(r.status, 201, await r.clone().text());
    assert.equal((await getSeal(db, cert.sealId!))!.active, false, 'a revoked seal signs no more');
    const again = await app.fetch(`/api/v1/seals/${cert.sealId}/revocation`, {
      token: admin,
      json: { reason: 'superseded' },
    });
    assert.equal(again.status, 409);
    const kept = await verify(first.number);
    assert.equal(kept.verdict, 'valid', JSON.stringify(kept.checks));
    assert.match(
      kept.checks.find((c) => c.id === 'revocation')!.reason,
      /timestamp proves the signature was made before/,
    );

    // Move the compromise back before the signatures: they fail, saying why.
    await db('seal_revocations')
      .where({ seal_id: cert.sealId })
      .update({ compromised_at: new Date(issuedAt - 60_000) });
    const lost = await verify(second.number);
    assert.equal(lost.verdict, 'invalid');
    assert.equal(outcomes(lost).revocation, 'failed');
    assert.match(lost.checks.find((c) => c.id === 'revocation')!.reason, /key compromise.*timestamped after/);

    // A signature without a timestamp cannot prove it came before: the signer's claim is not enough.
    const serial = (await getSeal(db, cert.sealId!))!.serial;
    const untimed = await revocationCheck(db, serial, undefined);
    assert.equal(untimed.ok, false);
    assert.match(untimed.reason, /no timestamp proves the signature older/);

    const crl = await app.fetch('/api/v1/trust/crl.pem');
    assert.equal(crl.status, 200);
    writeFile(dir, 'crl.pem', await crl.text());
    const text = run('openssl', ['crl', '-inform', 'PEM', '-noout', '-text', '-in', `${dir}/crl.pem`]).output;
    assert.match(text, new RegExp(`Serial Number: ${(await getSeal(db, cert.sealId!))!.serial}`, 'i'));
    assert.match(text, /Key Compromise/);
    assert.match(text, /Invalidity Date/);
    assert.equal(run('openssl', ['crl', '-in', `${dir}/crl.pem`, '-noout', '-CAfile', `${dir}/root.pem`]).status, 0);
  });
});
