import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { forEachDatabase, type TestDatabase } from '../../support/databases';
import { startTestApp, testDeps, type TestApp } from '../../support/app';
import { descendants } from '../../support/processes';
import { edit, licence, withExternalImage } from '../../support/docx';
import { seedDemo, seedDemoTypes, DEMO_TYPES } from '../../../db/seed-demo';
import { addTypeVersion, getTypeVersion } from '../../../db/certificate-types';
import { ensureDevelopmentTrust } from '../../../services/trust/seals';
import type { ConversionError } from '../../../services/documents/convert';
import type { ActivityDeps } from '../../../activities';
import type { Client } from '@temporalio/client';

const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
type Problem = { status: number; detail: string; errors?: { field: string; message: string }[] };
forEachDatabase(
  'hardening: templates, previews and the converter',
  (get) => {
    let tdb: TestDatabase;
    let deps: ActivityDeps;
    let app: TestApp;
    let admin: string;
    let hits: string[];
    let server: http.Server;
    let base: string;

    before(async () => {
      tdb = get();
      deps = testDeps(tdb.db);
      await seedDemo(tdb.db, 'certflow-demo');
      await ensureDevelopmentTrust(deps);
      await seedDemoTypes(tdb.db, deps.blobs);
      app = await startTestApp({ db: tdb.db, temporal: {} as Client, deps });
      admin = await app.login('market-admin');
      hits = [];
      server = http.createServer((req, res) => {
        hits.push(`${req.method} ${req.url}`);
        res.writeHead(404).end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(async () => {
      await app?.close();
      server?.close();
    });

    const upload = (body: Buffer) =>
      app.fetch('/api/v1/certificate-types/BL/template', {
        method: 'POST',
        token: admin,
        body,
        headers: { 'content-type': DOCX },
      });

    it('refuses a template with an externally linked image or a loading field, naming the part', async () => {
      const linked = await upload(withExternalImage(`${base}/seal.png`));
      assert.equal(linked.status, 422);
      const body = (await linked.json()) as Problem;
      assert.deepEqual(
        body.errors!.map((e) => e.field),
        ['word/_rels/document.xml.rels'],
      );
      assert.match(body.errors![0]!.message, /external image/);

      const field = edit(licence(), {
        'word/document.xml': (x) =>
          x.replace(
            '<w:body>',
            `<w:body><w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> INCLUDEPICTURE "${base}/x.png" \\d </w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>`,
          ),
      });
      const refused = await upload(field);
      assert.equal(refused.status, 422);
      assert.deepEqual(
        ((await refused.json()) as Problem).errors!.map((e) => e.field),
        ['word/document.xml'],
      );

      // A hyperlink is external too, but only printed: it stays allowed.
      const link = edit(licence(), {
        'word/_rels/document.xml.rels': (x) =>
          x.replace(
            '</Relationships>',
            '<Relationship Id="rId98" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target="https://example.gov.cn/" TargetMode="External"/></Relationships>',
          ),
      });
      assert.equal((await upload(link)).status, 200);
      assert.deepEqual(hits, [], 'nothing was fetched');
    });

    it('never lets LibreOffice fetch: a linked template stored before the check previews as 422, zero requests', async () => {
      const v = (await getTypeVersion(
        tdb.db,
        'BL',
        (await tdb.db('certificate_types').where({ code: 'BL' }).first()).latest_version,
      ))!;
      const { code: _c, department: _d, version, templateSha256: _t, ...definition } = v;
      const saved = await addTypeVersion(tdb.db, 'BL', {
        expectedVersion: version,
        definition,
        templateSha256: await deps.blobs.put(withExternalImage(`${base}/stored.png`)),
        createdBy: 'test',
      });
      const r = await app.fetch(`/api/v1/certificate-types/BL/preview?version=${saved}`, { token: admin, json: {} });
      assert.equal(r.status, 422);
      assert.match(((await r.json()) as Problem).detail, /external/);
      await assert.rejects(
        deps.converter.convert(withExternalImage(`${base}/direct.png`)),
        (e: ConversionError) => e.code === 'unsafe',
      );
      assert.deepEqual(hits, [], 'nothing was fetched');
    });

    it('refuses zip bombs and too many entries from the ZIP directory, naming the limit (413)', async () => {
      const bomb = edit(licence(), {}, { 'word/media/bomb.bin': Buffer.alloc(20 * 1024 * 1024) });
      assert.ok(bomb.length < 200_000);
      const r = await upload(bomb);
      assert.equal(r.status, 413);
      assert.deepEqual(
        ((await r.json()) as Problem).errors!.map((e) => e.field),
        ['maxRatio'],
      );

      const many: Record<string, string> = {};
      for (let i = 0; i < 1500; i++) many[`customXml/item${i}.xml`] = '<x/>';
      const crowded = await upload(edit(licence(), {}, many));
      assert.equal(crowded.status, 413);
      assert.deepEqual(
        ((await crowded.json()) as Problem).errors!.map((e) => e.field),
        ['maxEntries'],
      );
    });

    it('refuses at upload a template that cannot seal: a dotted tag, a DOCX LibreOffice cannot open', async () => {
      const dotted = await upload(
        edit(licence(), { 'word/document.xml': (x) => x.replace('{address}', '{address}{x.y}') }),
      );
      assert.equal(dotted.status, 422);
      assert.match(JSON.stringify(await dotted.json()), /x\.y/);

      // document.xml without its namespace declarations: docxtemplater reads it, LibreOffice does not.
      const broken = edit(licence(), { 'word/document.xml': (x) => x.replace(/ xmlns:w="[^"]*"/, '') });
      const r = await upload(broken);
      assert.equal(r.status, 422, await r.clone().text());
      assert.equal((await upload(licence())).status, 200, 'the shipped template still uploads');
    });

    it('eight parallel previews by one user run on a bounded converter: at most 2 soffice, the rest 429', async () => {
      // soffice instances by their profile: on a fresh profile soffice.bin restarts itself once, and
      // for a moment the old and the new process are both there — one conversion all the same.
      const soffice = () => {
        const profiles = new Map<number, string>();
        for (const pid of descendants(process.pid)) {
          try {
            const state = fs.readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]?.[0];
            if (state === 'Z' || fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'soffice.bin') continue;
            const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1');
            profiles.set(pid, /-env:UserInstallation=([^\0]+)/.exec(cmdline)?.[1] ?? String(pid));
          } catch {
            // gone meanwhile
          }
        }
        return profiles;
      };
      // The earlier tests' conversions may still be exiting; warm converters that stay (the run's
      // shared pool) are not the previews' doing, so only soffice started from here on count.
      for (let i = 0; i < 30 && soffice().size; i++) await new Promise((r) => setTimeout(r, 100));
      const before = new Set(soffice().values());
      let most = 0;
      const sampler = setInterval(() => {
        const started = new Set([...soffice().values()].filter((profile) => !before.has(profile)));
        most = Math.max(most, started.size);
      }, 50);
      const answers = await Promise.all(
        Array.from({ length: 8 }, () =>
          app.fetch('/api/v1/certificate-types/BL/preview?version=1', { token: admin, json: {} }),
        ),
      );
      clearInterval(sampler);
      const statuses = answers.map((a) => a.status).sort();
      assert.deepEqual(statuses, [200, 200, 429, 429, 429, 429, 429, 429]);
      const limited = answers.find((a) => a.status === 429)!;
      assert.ok(Number(limited.headers.get('retry-after')) > 0);
      assert.ok(most <= 2, `at most 2 soffice at once, saw ${most}`);
    });

    it('refuses a catastrophic face-field pattern at save, naming the field; the demo definitions still save', async () => {
      const definition = structuredClone(DEMO_TYPES[0]!.definition);
      const at = definition.faceFields.findIndex((f) => f.type === 'text');
      (definition.faceFields[at] as { pattern?: string }).pattern = '(a+)+b';
      const r = await app.fetch('/api/v1/certificate-types/BL', { method: 'PUT', token: admin, json: definition });
      assert.equal(r.status, 422);
      assert.deepEqual(
        ((await r.json()) as Problem).errors!.map((e) => e.field),
        [`faceFields.${at}.pattern`],
      );
      for (const t of DEMO_TYPES.filter((d) => d.department === 'market')) {
        const ok = await app.fetch(`/api/v1/certificate-types/${t.code}`, {
          method: 'PUT',
          token: admin,
          json: t.definition,
        });
        assert.equal(ok.status, 200, t.code);
      }
    });
  },
  { timeoutMs: 180_000 },
);
