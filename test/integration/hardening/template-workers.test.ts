import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import PizZip from 'pizzip';
import type { Client } from '@temporalio/client';
import { forEachDatabase, type TestDatabase } from '../../support/databases';
import { startTestApp, testConfig, testDeps, type TestApp } from '../../support/app';
import { seedDemo, seedDemoTypes } from '../../../db/seed-demo';
import { ensureDevelopmentTrust } from '../../../services/trust/seals';
import { TemplateWorkerPool } from '../../../services/documents/template-pool';
import { TEMPLATE_LIMITS, readZipDirectory } from '../../../services/documents/template-check';

const TEMPLATES = path.resolve(__dirname, '../../../templates');
const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
type Problem = { status: number; detail: string; errors?: { field: string; message: string }[] };
const licence = () => fs.readFileSync(path.join(TEMPLATES, 'business-licence.docx'));

/**
 * The licence template with `paragraphs` extra paragraphs of random text, each with a tag:
 * well inside every ZIP limit, but docxtemplater needs seconds to parse it. `{unknownTag}` makes
 * the upload end with a 422 right after the parse, before any conversion.
 */
function largeTemplate(paragraphs: number) {
  const zip = new PizZip(licence());
  const doc = zip.file('word/document.xml')!.asText();
  const body: string[] = ['<w:p><w:r><w:t>{unknownTag}</w:t></w:r></w:p>'];
  for (let i = 0; i < paragraphs; i++)
    body.push(`<w:p><w:r><w:t>${crypto.randomBytes(24).toString('hex')} {entityName}</w:t></w:r></w:p>`);
  zip.file('word/document.xml', doc.replace('<w:body>', `<w:body>${body.join('')}`));
  const out = zip.generate({ type: 'nodebuffer', compression: 'DEFLATE' }) as Buffer;
  const entries = readZipDirectory(out);
  assert.ok(
    entries.every((e) => e.uncompressedSize < TEMPLATE_LIMITS.maxEntryBytes / 4),
    'well inside the limits',
  );
  return out;
}

/** Template parsing off the event loop (services/documents/template-pool.ts, docs/security.md). */
forEachDatabase(
  'hardening: template parsing in worker threads',
  (get) => {
    let tdb: TestDatabase;
    let app: TestApp;
    let admin: string;
    const big = largeTemplate(20_000);

    before(async () => {
      tdb = get();
      const deps = testDeps(tdb.db);
      await seedDemo(tdb.db, 'certflow-demo');
      await ensureDevelopmentTrust(deps);
      await seedDemoTypes(tdb.db, deps.blobs);
      // A generous limit: this app's uploads must finish however loaded the machine is.
      const config = { ...testConfig(), templates: { workers: 1, timeoutMs: 300_000 } };
      app = await startTestApp({ db: tdb.db, temporal: {} as Client, deps: { ...deps, config }, config });
      admin = await app.login('market-admin');
    });
    after(async () => {
      await app?.close();
    });

    const upload = (a: TestApp, token: string, body: Buffer) =>
      a.fetch('/api/v1/certificate-types/BL/template', {
        method: 'POST',
        token,
        body,
        headers: { 'content-type': DOCX },
      });

    it('answers /healthz promptly while a large template is parsed', async () => {
      let done = false;
      const latencies: number[] = [];
      const probe = (async () => {
        while (!done) {
          const t0 = performance.now();
          const r = await fetch(`${app.url}/healthz`);
          await r.arrayBuffer();
          latencies.push(performance.now() - t0);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();
      const t0 = performance.now();
      const r = await upload(app, admin, big);
      const took = performance.now() - t0;
      done = true;
      await probe;
      // It was parsed: the unknown tag is named, the template was not stored.
      assert.equal(r.status, 422, await r.clone().text());
      assert.ok(
        ((await r.json()) as Problem).errors!.some((e) => e.field.includes('unknownTag')),
        'the unknown tag is named',
      );
      // Relative, not absolute: on the event loop the parse took a whole upload's time between two probes.
      const worst = Math.max(...latencies);
      assert.ok(took > 1000, `the parse took ${Math.round(took)} ms: not large enough to show anything`);
      assert.ok(latencies.length >= 5, `${latencies.length} health probes during ${Math.round(took)} ms`);
      assert.ok(worst < took / 4, `worst /healthz ${Math.round(worst)} ms during an upload of ${Math.round(took)} ms`);
    });

    it('refuses with 422 a template that takes longer than the limit, and replaces the worker', async () => {
      const pool = new TemplateWorkerPool({ workers: 1, timeoutMs: 1000 });
      try {
        const config = { ...testConfig(), templates: { workers: 1, timeoutMs: 1000 } };
        const strict = await startTestApp({
          db: tdb.db,
          temporal: {} as Client,
          deps: { ...testDeps(tdb.db), config },
          templates: pool,
          config,
        });
        try {
          // The worker is warm (a small template read): what follows is the big one's parse alone.
          await pool.tags(licence());
          const [before] = pool.threadIds();
          const r = await upload(strict, await strict.login('market-admin'), largeTemplate(30_000));
          assert.equal(r.status, 422, await r.clone().text());
          const body = (await r.json()) as Problem;
          assert.match(body.detail, /took longer than 1000 ms/);
          assert.deepEqual(
            body.errors!.map((e) => e.field),
            ['(template)'],
          );
          assert.equal(pool.replacements, 1);
          // A fresh worker serves the next template.
          assert.deepEqual((await pool.tags(licence())).images, ['qrCode', 'seal']);
          const [after] = pool.threadIds();
          assert.notEqual(after, before, 'a new worker thread');
        } finally {
          await strict.close();
        }
      } finally {
        await pool.close();
      }
    });
  },
  { timeoutMs: 300_000 },
);
