import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import PizZip from 'pizzip';
import {
  type ConversionError,
  convertWithLibreofficeConvert,
  LibreofficeConvertConverter,
  processesMentioning,
  WarmConverter,
  type PdfConverter,
} from '../../../services/documents/convert';
import { makeQrPng, renderCertificateDocx } from '../../../services/documents/render';
import { SAMPLE_DATA } from '../../../scripts/make-templates';

// Real LibreOffice, real poppler tools. One warm pool serves every warm test; the stock
// converter starts a soffice per document (≈2 s each), so it converts just the two samples.

const TEMPLATES = path.resolve(__dirname, '../../../templates');
let scratch: string;

/** Running, not just a zombie waiting for its parent to reap it. */
function running(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

function withPdfFile<T>(pdf: Buffer, fn: (file: string) => T): T {
  const file = path.join(scratch, `doc-${process.hrtime.bigint()}.pdf`);
  fs.writeFileSync(file, pdf);
  try {
    return fn(file);
  } finally {
    fs.rmSync(file, { force: true });
  }
}
const poppler = (tool: string, args: string[]) => execFileSync(tool, args, { encoding: 'utf8' });
const pdfText = (pdf: Buffer) => withPdfFile(pdf, (f) => poppler('pdftotext', ['-layout', f, '-']));
const pdfInfo = (pdf: Buffer) => withPdfFile(pdf, (f) => poppler('pdfinfo', [f]));

/** `pdffonts` rows: name, embedded. */
function pdfFonts(pdf: Buffer) {
  return withPdfFile(pdf, (f) => poppler('pdffonts', [f]))
    .split('\n')
    .slice(2)
    .filter(Boolean)
    .map((line) => {
      const cols = line.trim().split(/\s+/);
      return { name: cols[0]!, embedded: cols[cols.length - 5] === 'yes' };
    });
}

/** `pdfimages -list` rows: type (image/smask), size and encoding. */
function pdfImages(pdf: Buffer) {
  return withPdfFile(pdf, (f) => poppler('pdfimages', ['-list', f]))
    .split('\n')
    .slice(2)
    .filter(Boolean)
    .map((line) => {
      const [, , type, width, height, , , , enc] = line.trim().split(/\s+/);
      return { type: type!, width: Number(width), height: Number(height), enc: enc! };
    });
}

/** A stand-in soffice that never finishes and ignores SIGTERM, as a wedged one does. */
function hangingSoffice(name: string) {
  const pidFile = path.join(scratch, `${name}.pid`);
  const script = path.join(scratch, name);
  fs.writeFileSync(
    script,
    [
      '#!/usr/bin/python3',
      'import os, signal, time',
      'signal.signal(signal.SIGTERM, signal.SIG_IGN)',
      `open(${JSON.stringify(pidFile)}, "a").write("%d\\n" % os.getpid())`,
      'time.sleep(120)',
    ].join('\n'),
    { mode: 0o755 },
  );
  return { script, pids: () => fs.readFileSync(pidFile, 'utf8').trim().split('\n').map(Number) };
}

const samples = [
  { template: 'business-licence', seal: 'market', title: '营业执照' },
  { template: 'food-business-permit', seal: 'health', title: '食品经营许可证' },
] as const;

const rendered = new Map<string, Buffer>();

describe('certificate PDFs', () => {
  before(async () => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'certflow-convert-test-'));
    for (const s of samples) {
      const data = SAMPLE_DATA[s.template];
      rendered.set(
        s.template,
        renderCertificateDocx({
          template: fs.readFileSync(path.join(TEMPLATES, `${s.template}.docx`)),
          data,
          images: {
            seal: fs.readFileSync(path.join(TEMPLATES, 'seals', `${s.seal}.png`)),
            qrCode: await makeQrPng(`https://certflow.example.gov.cn/verify/${data.certificateNumber}`),
          },
        }),
      );
    }
  });

  after(() => fs.rmSync(scratch, { recursive: true, force: true }));

  /** What every certificate PDF must show, whichever converter made it. */
  function pdfSpecs(converter: () => PdfConverter) {
    for (const s of samples) {
      describe(`the ${s.template} certificate`, () => {
        let pdf: Buffer;
        before(async () => {
          pdf = await converter().convert(rendered.get(s.template)!);
        });

        it('is a one-page A4 PDF', () => {
          const info = pdfInfo(pdf);
          assert.match(info, /^Pages:\s+1$/m);
          assert.match(info, /^Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)/m);
        });

        it('keeps the Chinese text: title, holder name and certificate number', () => {
          const text = pdfText(pdf);
          const data = SAMPLE_DATA[s.template];
          assert.ok(text.includes(data.holderName), `holder name ${data.holderName} not in:\n${text}`);
          assert.ok(text.includes(data.certificateNumber));
          assert.ok(text.replace(/\s+/g, '').includes(s.title));
          assert.ok(text.includes(data.issuerName));
        });

        it('embeds the Noto CJK fonts the template names', () => {
          // The embedded names are the CFF font dicts of the shared Noto CJK collection,
          // which carry "jp" whatever the region; they show the family, not the region.
          const fonts = pdfFonts(pdf);
          assert.ok(
            fonts.some((f) => /NotoSerifCJK/.test(f.name)),
            JSON.stringify(fonts),
          );
          assert.ok(
            fonts.some((f) => /NotoSansCJK/.test(f.name)),
            JSON.stringify(fonts),
          );
          assert.ok(
            fonts.every((f) => f.embedded),
            'every font is embedded',
          );
        });

        it('carries the seal and the QR code losslessly (not re-encoded as JPEG)', () => {
          const images = pdfImages(pdf).filter((i) => i.type === 'image');
          const seal = images.find((i) => i.width === 400 && i.height === 400);
          const qr = images.find((i) => i.width === 300 && i.height === 300);
          assert.ok(seal, `no 400×400 seal image in ${JSON.stringify(images)}`);
          assert.ok(qr, 'no QR code image');
          assert.equal(seal.enc, 'image', 'the seal is Flate-compressed, not jpeg');
          assert.equal(qr.enc, 'image');
          // Its transparency survives as a soft mask, so text shows through around the ink.
          assert.ok(pdfImages(pdf).some((i) => i.type === 'smask' && i.width === 400));
        });
      });
    }
  }

  describe('DOCX → PDF with libreoffice-convert (a fresh soffice per document)', () => {
    const converter = new LibreofficeConvertConverter({ timeoutMs: 60_000 });
    after(() => converter.close());

    pdfSpecs(() => converter);

    it('rejects a buffer that is not a DOCX before starting soffice', async () => {
      await assert.rejects(
        converter.convert(Buffer.from('plain text, not a certificate')),
        (err: ConversionError) => err.code === 'not_docx' && /not a DOCX/.test(err.message),
      );
    });

    it('kills a soffice that hangs and reports a timeout', async () => {
      const fake = hangingSoffice('hanging-soffice-stock');
      const started = Date.now();
      await assert.rejects(
        convertWithLibreofficeConvert(rendered.get('business-licence')!, { timeoutMs: 1000, sofficePath: fake.script }),
        (err: ConversionError) => {
          assert.equal(err.code, 'timeout');
          assert.match(err.message, /timed out after 1000 ms/);
          return true;
        },
      );
      assert.ok(Date.now() - started < 6000, 'gave up in time');
      for (const pid of fake.pids()) assert.ok(!running(pid), `the hanging soffice ${pid} is still running`);
    });
  });

  describe('DOCX → PDF with the warm soffice pool', () => {
    let workDir: string;
    let pool: WarmConverter;
    let sofficePids: number[] = [];

    before(async () => {
      // Its own directory, so the checks below see only this pool's processes, whatever
      // else runs LibreOffice on this machine.
      workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'certflow-warm-test-'));
      pool = new WarmConverter({ size: 2, timeoutMs: 30_000, workDir });
      await pool.start();
      sofficePids = pool.sofficePids();
      assert.equal(sofficePids.length, 2);
    });

    after(() => pool?.close());

    pdfSpecs(() => pool);

    describe('the pool', () => {
      it('converts a warm document in well under a second', async () => {
        const started = Date.now();
        await pool.convert(rendered.get('business-licence')!);
        assert.ok(Date.now() - started < 1500, `took ${Date.now() - started} ms`);
      });

      it('converts concurrent documents, queueing beyond the pool size', async () => {
        const docs = [...rendered.values(), ...rendered.values(), ...rendered.values()];
        const pdfs = await Promise.all(docs.map((d) => pool.convert(d)));
        for (const pdf of pdfs) assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
        assert.deepEqual(pool.sofficePids().sort(), [...sofficePids].sort(), 'the same warm processes did the work');
      });

      it('rejects a buffer that is not a DOCX', async () => {
        await assert.rejects(pool.convert(Buffer.from('GIF89a')), (err: ConversionError) => err.code === 'not_docx');
      });

      it('fails a ZIP that LibreOffice cannot read as a document, and keeps working', async () => {
        const zip = new PizZip();
        zip.file('hello.txt', '你好');
        await assert.rejects(pool.convert(zip.generate({ type: 'nodebuffer' })), (err: ConversionError) => {
          assert.equal(err.code, 'failed');
          assert.match(err.message, /could not load/);
          return true;
        });
        assert.ok((await pool.convert(rendered.get('business-licence')!)).length > 1000);
        assert.deepEqual(pool.sofficePids().sort(), [...sofficePids].sort(), 'no restart for a bad document');
      });

      it('kills a conversion that exceeds its time limit and restarts that soffice', async () => {
        const before = pool.sofficePids();
        await assert.rejects(
          pool.convert(rendered.get('business-licence')!, { timeoutMs: 1 }),
          (err: ConversionError) => err.code === 'timeout' && /timed out after 1 ms/.test(err.message),
        );
        const killed = before.filter((pid) => !running(pid));
        assert.equal(killed.length, 1, 'exactly the slot that timed out was killed');
        // The next documents convert, on a fresh soffice once the slot is back.
        const pdfs = await Promise.all([...rendered.values()].map((d) => pool.convert(d)));
        assert.ok(pdfs.every((p) => p.subarray(0, 5).toString() === '%PDF-'));
        const deadline = Date.now() + 30_000;
        while (pool.sofficePids().length < 2) {
          assert.ok(Date.now() < deadline, 'the killed slot did not come back');
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.ok(!pool.sofficePids().includes(killed[0]!));
        sofficePids = pool.sofficePids();
      });

      it('gives up on a soffice that never starts, with a timeout, leaving nothing running', async () => {
        const fake = hangingSoffice('hanging-soffice-warm');
        const stuck = new WarmConverter({ size: 1, startTimeoutMs: 1500, sofficePath: fake.script, workDir });
        try {
          await assert.rejects(stuck.convert(rendered.get('business-licence')!), (err: ConversionError) => {
            assert.equal(err.code, 'timeout');
            assert.match(err.message, /did not (start|accept a connection) within/);
            return true;
          });
          for (const pid of fake.pids()) assert.ok(!running(pid), `the hanging soffice ${pid} is still running`);
        } finally {
          await stuck.close();
        }
      });
    });

    describe('shutting down', () => {
      it('leaves no soffice behind when closed, and refuses work afterwards', async () => {
        const pids = pool.sofficePids();
        assert.equal(pids.length, 2);
        assert.ok(processesMentioning(workDir).length >= 2, 'the pool processes carry its directory');
        await pool.close();
        for (const pid of pids) assert.ok(!running(pid), `soffice ${pid} survived close()`);
        assert.deepEqual(processesMentioning(workDir), []);
        assert.deepEqual(fs.readdirSync(workDir), [], 'profiles and scratch files are removed');
        await assert.rejects(
          pool.convert(rendered.get('business-licence')!),
          (err: ConversionError) => err.code === 'closed',
        );
        fs.rmdirSync(workDir);
      });
    });
  });
});
