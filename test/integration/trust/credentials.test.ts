import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { forEachDatabase } from '../../support/databases';
import { startTestApp, testWarmConverter, type TestApp } from '../../support/app';
import { relyingParty } from '../../support/vc-verifier';
import { createApplication, issue, setupSealing, type Issued, type SealingSetup } from '../sealing/helpers';
import { lifecycleSteps } from '../../../services/lifecycle';
import { setCredentialStatus, STATUS_LIST_MIN_LENGTH } from '../../../services/credentials/issue';
import { createHolderSession } from '../../../db/holders';
import { getStatusEntry } from '../../../db/credentials';
import { createHolderCrypto } from '../../../platform/holder-crypto';
import { sha256Hex } from '../../../platform/secrets';
import { holderIdOf } from '../../../domain/holder';
import { formatCertificateNumber } from '../../../domain/certificate-number';

type Credential = Record<string, unknown> & {
  credentialSubject: Record<string, unknown> & { faceData: Record<string, unknown> };
  credentialStatus: { statusPurpose: string; statusListIndex: string; statusListCredential: string }[];
};

const PERSON = { kind: 'person' as const, id: '11010519491231002X', name: '张三丰' };

/**
 * W3C Verifiable Credentials over HTTP (docs/trust.md, "Verifiable credentials"), judged by the
 * @digitalbazaar verifier and its Bitstring Status List checker: a fresh credential verifies, a
 * revoked or suspended one is reported by its list, a changed subject field breaks the proof.
 */
forEachDatabase('W3C verifiable credentials', (get) => {
  let s: SealingSetup;
  let app: TestApp;
  let entity: Issued;
  let person: Issued;
  let personApp: string;
  let reader: string;
  let rp: ReturnType<typeof relyingParty>;

  before(async function () {
    this.timeout(120_000);
    const { db } = get();
    await testWarmConverter().start();
    s = await setupSealing(db, testWarmConverter());
    entity = await issue(s, await createApplication(db, s.deps.masterKey));
    personApp = await createApplication(db, s.deps.masterKey, { typeCode: 'PQ', holder: PERSON });
    person = await issue(s, personApp);
    app = await startTestApp({ db, temporal: {} as Client, deps: s.deps });
    reader = await app.login('market-reviewer');
    rp = relyingParty(s.deps.config.http.publicUrl, app.url);
  });
  after(() => app?.close());

  const credentialOf = async (number: string, token = reader) => {
    const r = await app.fetch(`/api/v1/certificates/${number}/credential`, { token });
    assert.equal(r.status, 200, await r.clone().text());
    return (await r.json()) as Credential;
  };

  it('a fresh credential verifies with @digitalbazaar/vc (ecdsa-rdfc-2019) and its status lists say neither revoked nor suspended', async function () {
    this.timeout(60_000);
    const vc = await credentialOf(entity.number);
    const result = await rp.verify(vc);
    assert.equal(result.verified, true, String(result.error ?? JSON.stringify(result)));
    assert.deepEqual(await rp.status(vc), { revocation: false, suspension: false });
    assert.equal((vc.proof as Record<string, unknown>).cryptosuite, 'ecdsa-rdfc-2019');
    assert.match(String((vc.issuer as { id: string }).id), /^did:web:.*:api:v1:trust:departments:market$/);
    assert.equal(vc.credentialSubject.unifiedSocialCreditCode, '91350100M000100Y43');
    assert.equal(vc.credentialSubject.faceData.registeredCapital, '人民币伍佰万元整');
    const certificate = vc.credentialSubject.certificate as Record<string, unknown>;
    assert.equal(certificate.number, entity.number);
    assert.equal(certificate.pdfSha256, entity.signedPdfSha);
    // The verifier fetched the DID document and both lists from certflow, nothing else.
    assert.ok(rp.fetched.some((u) => u.startsWith('did:web:')));
    assert.ok(rp.fetched.some((u) => u.endsWith('/market/revocation')));
  });

  it("a person's credential carries the masked ID and the per-certificate binding, never the number", async function () {
    this.timeout(60_000);
    const vc = await credentialOf(person.number);
    assert.equal((await rp.verify(vc)).verified, true);
    const subject = vc.credentialSubject;
    assert.equal(subject.holderKind, 'person');
    assert.equal(subject.name, PERSON.name);
    assert.equal(subject.idNumberMasked, '110105********002X');
    assert.match(String(subject.idBinding), /^[0-9a-f]{64}$/);
    assert.ok(!JSON.stringify(vc).includes(PERSON.id), 'the full ID appears nowhere');
  });

  it('tampering with one subject field fails the proof', async function () {
    this.timeout(60_000);
    const vc = await credentialOf(entity.number);
    const faceChanged = structuredClone(vc);
    faceChanged.credentialSubject.faceData.registeredCapital = '人民币伍仟万元整';
    const r1 = await rp.verify(faceChanged);
    assert.equal(r1.verified, false);
    const nameChanged = structuredClone(vc);
    nameChanged.credentialSubject.name = '杭州东湖数字科技有限公司';
    assert.equal((await rp.verify(nameChanged)).verified, false);
    assert.equal((await rp.verify(vc)).verified, true, 'the untouched copy still verifies');
  });

  it('positions are taken once per certificate, distinct, and kept', async () => {
    const a = await credentialOf(entity.number);
    const b = await credentialOf(person.number);
    const index = (vc: Credential) => vc.credentialStatus.map((e) => e.statusListIndex);
    assert.deepEqual(index(await credentialOf(entity.number)), index(a));
    assert.notEqual(index(a)[0], index(b)[0]);
    const list = (await (
      await app.fetch(a.credentialStatus[0]!.statusListCredential.replace(/^.*\/api\//, '/api/'))
    ).json()) as Credential;
    assert.equal(list.credentialSubject.type, 'BitstringStatusList');
    // 16 KiB of bits, GZIP'd and multibase-encoded: at least the minimum list length.
    assert.ok(STATUS_LIST_MIN_LENGTH >= 131_072);
  });

  it('after revocation the status list check reports the credential revoked; the proof itself still holds', async function () {
    this.timeout(60_000);
    const { db } = get();
    const issued = await issue(s, await createApplication(db, s.deps.masterKey));
    const before = await credentialOf(issued.number);
    assert.deepEqual(await rp.status(before), { revocation: false, suspension: false });
    const steps = lifecycleSteps(s.deps);
    const actor = { type: 'user' as const, id: '1', name: 'market-admin' };
    await steps.revokeCertificate({ number: issued.number, status: 'revoked', reason: '吊销', actor });
    const after = await rp.status(before);
    assert.deepEqual(after, { revocation: true, suspension: false }, 'the copy taken before revocation is revoked');
    const result = await rp.verify(before);
    assert.equal(result.verified, true, 'the libraries verify the proof; the status result carries the bit');
    // Others on the list are untouched.
    assert.deepEqual(await rp.status(await credentialOf(entity.number)), { revocation: false, suspension: false });
    // A credential exported after revocation carries the same position, already set.
    assert.deepEqual(await rp.status(await credentialOf(issued.number)), { revocation: true, suspension: false });
  });

  it('setCredentialStatus sets and clears suspension (the hook for suspending certificates)', async function () {
    this.timeout(60_000);
    const vc = await credentialOf(person.number);
    assert.deepEqual(await setCredentialStatus(s.deps, person.number, 'suspension', true), {
      index: Number(vc.credentialStatus[1]!.statusListIndex),
      changed: true,
    });
    assert.deepEqual(await rp.status(vc), { revocation: false, suspension: true });
    assert.equal((await setCredentialStatus(s.deps, person.number, 'suspension', true))?.changed, false);
    await setCredentialStatus(s.deps, person.number, 'suspension', false);
    assert.deepEqual(await rp.status(vc), { revocation: false, suspension: false });
    assert.equal(await setCredentialStatus(s.deps, 'BL-330100-2026-9999999-0', 'suspension', true), undefined);
  });

  it('a certificate never exported gets its position when its status changes', async () => {
    const { db } = get();
    const issued = await issue(s, await createApplication(db, s.deps.masterKey));
    assert.equal(await getStatusEntry(db, issued.number), undefined);
    await setCredentialStatus(s.deps, issued.number, 'suspension', true);
    const vc = await credentialOf(issued.number);
    assert.deepEqual(await rp.status(vc), { revocation: false, suspension: true });
  });

  it('is read like the certificate: 401 anonymous, 403 (audited) outside the department, reason required from business systems; audited', async () => {
    const { db } = get();
    const path = `/api/v1/certificates/${entity.number}/credential`;
    assert.equal((await app.fetch(path)).status, 401);
    const outsider = await app.login('health-reviewer');
    const denied = await app.fetch(path, { token: outsider });
    assert.equal(denied.status, 403);
    const admin = await app.login('market-admin');
    const created = await app.fetch('/api/v1/api-clients', {
      token: admin,
      json: { name: '市场业务系统 vc', department: 'market', scopes: ['certificates:read'] },
    });
    assert.equal(created.status, 201, await created.clone().text());
    const apiKey = ((await created.json()) as { apiKey: string }).apiKey;
    const noReason = await app.fetch(path, { apiKey });
    assert.equal(noReason.status, 422);
    assert.match(await noReason.text(), /reason/);
    assert.equal((await app.fetch(`${path}?reason=${encodeURIComponent('核验')}`, { apiKey })).status, 200);
    const entries = await db('audit_log').where({ action: 'certificate.credential', object_id: entity.number });
    assert.ok(entries.some((e: { outcome: string }) => e.outcome === 'success'));
    const unknown = formatCertificateNumber({ typeCode: 'BL', region: '330100', year: 2026, serial: 9_999_999 });
    assert.equal((await app.fetch(`/api/v1/certificates/${unknown}/credential`, { token: reader })).status, 404);
  });

  it('the holder gets their own credential from the portal, and nobody else’s', async function () {
    this.timeout(60_000);
    const { db } = get();
    const token = randomBytes(32).toString('base64url');
    const holders = createHolderCrypto(s.deps.masterKey);
    const id = holderIdOf('person', PERSON.id);
    await createHolderSession(db, {
      tokenHash: sha256Hex(token),
      holderKind: 'person',
      holderHash: holders.lookupHash(id),
      holderIdEncrypted: holders.encrypt(id),
      holderName: PERSON.name,
      agentName: null,
      agentHash: null,
      issuer: 'test',
      subject: 'test-subject',
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    const cookie = { headers: { cookie: `certflow_holder=${token}` } };
    const own = await app.fetch(`/api/v1/holder/certificates/${person.number}/credential`, cookie);
    assert.equal(own.status, 200, await own.clone().text());
    assert.equal((await rp.verify((await own.json()) as Credential)).verified, true);
    assert.equal((await app.fetch(`/api/v1/holder/certificates/${entity.number}/credential`, cookie)).status, 404);
    const audited = await db('audit_log').where({ action: 'holder.certificate.credential', object_id: person.number });
    assert.equal(audited.length, 1);
  });

  it('public trust documents: DID document and status lists; unknown department 404, unknown purpose 400', async () => {
    const did = await app.fetch('/api/v1/trust/departments/market/did.json');
    assert.equal(did.status, 200);
    assert.match(did.headers.get('content-type') ?? '', /application\/did\+json/);
    const doc = (await did.json()) as { id: string; assertionMethod: string[] };
    assert.deepEqual(doc.assertionMethod, [`${doc.id}#credential-key-1`]);
    assert.equal((await app.fetch('/api/v1/trust/departments/nowhere/did.json')).status, 404);
    assert.equal((await app.fetch('/api/v1/trust/status-lists/nowhere/revocation')).status, 404);
    const bad = await app.fetch('/api/v1/trust/status-lists/market/expiry');
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /purpose/);
  });
});
