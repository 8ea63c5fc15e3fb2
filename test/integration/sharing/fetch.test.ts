import assert from 'node:assert/strict';
import { json } from '../../support/issuance';
import { sharingHarness, type SharingHarness } from '../../support/sharing';
import { nssDatabase, pdfsig, run, tempDir, writeFile } from '../trust/tools';
import { getActiveRoot } from '../../../db/trust';
import { getCertificate } from '../../../db/certificates';
import { getAnnotatedCopy } from '../../../db/sharing';
import { usageLog } from '../../../services/holder/portal';
import { verifyDocument } from '../../../services/sharing/verify-copy';
import type { VerificationReport } from '../../../services/verify';

/**
 * Fetch (获取) of annotated copies (加注件, docs/sharing.md) over HTTP on real certificates: the
 * copy is signed by the platform's seal (pdfsig, against the platform root), carries its
 * annotation in text (pdftotext), and /verify reports it as a copy of the certificate —
 * expired copies and altered bytes fail while the certificate stays valid.
 */
describe('fetch: annotated copies', function () {
  this.timeout(180_000);
  let h: SharingHarness;
  let number: string;
  let handler: string;
  let dir: string;
  let copy: Buffer;
  let copyId: string;
  const fetchBody = { matter: '食品经营许可核发', reason: '核验申请人营业执照' };

  before(async () => {
    h = await sharingHarness('sqlite');
    number = await h.issue();
    handler = await h.app.login('health-handler');
    dir = tempDir('sharing-fetch');
  });
  after(async () => h?.close());

  const fetchCopy = (init: { token?: string; apiKey?: string; json?: unknown; n?: string }) =>
    h.app.fetch(`/api/v1/certificates/${init.n ?? number}/fetch`, {
      method: 'POST',
      token: init.token,
      apiKey: init.apiKey,
      json: init.json ?? fetchBody,
    });
  const verify = async (pdf: Buffer) =>
    json<VerificationReport>(
      await h.app.fetch('/api/v1/verify', {
        method: 'POST',
        body: pdf,
        headers: { 'content-type': 'application/pdf' },
      }),
      200,
    );
  const status = (r: VerificationReport, id: string) => r.checks.find((c) => c.id === id)?.status;

  it('hands a handler of another department an annotated copy of an unconditionally shared type', async () => {
    await h.setSharing('BL', 'unconditional');
    const r = await fetchCopy({ token: handler });
    assert.equal(r.status, 200, await r.clone().text());
    assert.equal(r.headers.get('content-type'), 'application/pdf');
    copyId = r.headers.get('x-annotated-copy-id')!;
    copy = Buffer.from(await r.arrayBuffer());
    const cert = (await getCertificate(h.t.db, number))!;
    const original = await h.deps.blobs.get(cert.pdfSha256);
    assert.notEqual(copy.length, original.length, 'never the bare original');
    assert.ok(copy.subarray(0, original.length).equals(original), "the issuer's signed PDF, byte for byte, inside");

    const root = (await getActiveRoot(h.t.db))!.certificatePem;
    const sig = pdfsig(dir, copy, nssDatabase(dir, [root]));
    assert.match(sig, /Signature #1:[\s\S]*市场监督管理局[\s\S]*Signature is Valid/);
    assert.match(sig, /Signature #2:[\s\S]*电子证照共享平台[\s\S]*Total document signed[\s\S]*Signature is Valid/);
    assert.match(sig.split('Signature #2:')[1]!, /Certificate is Trusted/);

    const text = run('pdftotext', [writeFile(dir, 'copy.pdf', copy), '-']).stdout;
    for (const line of [
      '电子证照加注件',
      `证照编号：${number}`,
      '用证事项：食品经营许可核发',
      '用证事由：核验申请人营业执照',
      '用证部门：卫生健康委员会',
      '获取依据：无条件共享',
      '有效期至：',
      `加注件编号：${copyId}`,
    ])
      assert.ok(text.includes(line), `pdftotext shows ${line}:\n${text}`);
  });

  it('verifies the copy as an annotated copy of the certificate: its own checks plus the annotation', async () => {
    const r = await verify(copy);
    assert.equal(r.verdict, 'valid', JSON.stringify(r.checks, null, 1));
    assert.equal(r.certificate?.number, number);
    assert.equal(r.annotatedCopy?.id, copyId);
    assert.equal(r.annotatedCopy?.certificateNumber, number);
    assert.equal(r.annotatedCopy?.state, 'valid');
    for (const id of [
      'integrity',
      'pdfSignature',
      'issuer',
      'pdfHash',
      'recordSignature',
      'status',
      'copySignature',
      'copyValidity',
    ])
      assert.equal(status(r, id), 'passed', id);
  });

  it('verifies a copy past its validity as an expired copy, while the certificate stays valid', async () => {
    const row = (await getAnnotatedCopy(h.t.db, copyId))!;
    const later = new Date(Date.parse(row.validUntil) + 1000);
    const r = await verifyDocument({ ...h.deps, now: () => later }, copy);
    assert.equal(r.verdict, 'invalid');
    assert.equal(r.annotatedCopy?.state, 'expired');
    assert.equal(status(r, 'copyValidity'), 'failed');
    assert.match(r.checks.find((c) => c.id === 'copyValidity')!.reason, /expired copy/);
    assert.equal(status(r, 'status'), 'passed', 'the certificate itself is still valid');
    assert.equal(status(r, 'copySignature'), 'passed');
    // The original alone still verifies as valid.
    const original = await h.deps.blobs.get((await getCertificate(h.t.db, number))!.pdfSha256);
    assert.equal((await verifyDocument({ ...h.deps, now: () => later }, original)).verdict, 'valid');
  });

  it('fails integrity when one byte of the annotation, or of the original inside, is altered', async () => {
    const row = (await getAnnotatedCopy(h.t.db, copyId))!;
    const annotation = Buffer.from(copy);
    const inPage = copy.indexOf('stream', row.originalLength) + 20;
    annotation[inPage] = annotation[inPage]! ^ 0x01;
    const a = await verify(annotation);
    assert.equal(a.verdict, 'invalid');
    assert.equal(status(a, 'copySignature'), 'failed');
    assert.equal(status(a, 'integrity'), 'passed', 'the original inside is untouched');

    const inOriginal = Buffer.from(copy);
    const at = Math.floor(row.originalLength / 3);
    inOriginal[at] = inOriginal[at]! ^ 0x01;
    const b = await verify(inOriginal);
    assert.equal(b.verdict, 'invalid');
    assert.equal(status(b, 'copySignature'), 'failed');
    assert.equal(status(b, 'integrity'), 'failed');
  });

  it('audits every fetch with caller and reason, and shows it in the holder usage log', async () => {
    const entry = await h.t.db('audit_log').where({ action: 'certificate.fetch', outcome: 'success' }).first();
    const detail = JSON.parse(entry.detail as string) as Record<string, unknown>;
    assert.deepEqual(
      [entry.actor_name, entry.department, entry.object_id, detail.reason, detail.matter, detail.copyId, detail.basis],
      ['health-handler', 'health', number, fetchBody.reason, fetchBody.matter, copyId, 'unconditional'],
    );
    const cert = (await getCertificate(h.t.db, number))!;
    const holder = {
      kind: 'holder' as const,
      sessionHash: 'x'.repeat(64),
      holderKind: 'entity' as const,
      holderHash: cert.holderIdHash,
      name: cert.holderName,
      agentName: null,
    };
    const log = await usageLog(h.deps, holder, { limit: 50 });
    const seen = log.items.find((u) => u.use === 'fetch');
    assert.ok(seen, JSON.stringify(log.items));
    assert.deepEqual([seen.reason, seen.who.department, seen.who.name], [fetchBody.reason, 'health', 'health-handler']);
  });

  it('lets business systems fetch only with certificates:fetch and a reason', async () => {
    const reader = await h.apiClient('health', ['certificates:read']);
    assert.equal((await fetchCopy({ apiKey: reader.key })).status, 403);
    const fetcher = await h.apiClient('health', ['certificates:fetch']);
    const missing = await fetchCopy({ apiKey: fetcher.key, json: { matter: '食品经营许可核发' } });
    assert.equal(missing.status, 422);
    assert.match(await missing.text(), /reason/);
    const ok = await fetchCopy({ apiKey: fetcher.key });
    assert.equal(ok.status, 200);
    const r = await verify(Buffer.from(await ok.arrayBuffer()));
    assert.equal(r.annotatedCopy?.apiClientId, fetcher.id);
  });

  it('refuses a conditional type without a grant, and a not-shared type always, audited as denied', async () => {
    await h.setSharing('BL', 'conditional');
    const c = await fetchCopy({ token: handler });
    assert.equal(c.status, 403);
    assert.match(await c.text(), /access request/);
    await h.setSharing('BL', 'not-shared');
    const n = await fetchCopy({ token: handler });
    assert.equal(n.status, 403);
    assert.match(await n.text(), /not shared/);
    const denied = await h.t.db('audit_log').where({
      category: 'authorization',
      action: 'certificate.fetch',
      outcome: 'denied',
      actor_name: 'health-handler',
    });
    assert.equal(denied.length, 2);
    await h.setSharing('BL', 'conditional');
  });
});
