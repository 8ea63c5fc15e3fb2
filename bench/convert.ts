/**
 * DOCX → PDF throughput: libreoffice-convert (a fresh soffice per document) against the
 * warm soffice pool. `npx tsx bench/convert.ts [N]` converts N rendered certificates
 * (default 20, alternating the two sample templates) with each set-up and prints a table.
 * Rendering is done before the clock starts; the warm rows include the pool's start.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LibreofficeConvertConverter, WarmConverter, type PdfConverter } from '../services/documents/convert';
import { makeQrPng, renderCertificateDocx } from '../services/documents/render';
import { SAMPLE_DATA } from '../scripts/make-templates';

const TEMPLATES = path.resolve(__dirname, '../templates');

async function renderSamples(n: number): Promise<Buffer[]> {
  const kinds = [
    { template: 'business-licence', seal: 'market' },
    { template: 'food-business-permit', seal: 'health' },
  ] as const;
  const docs: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const kind = kinds[i % kinds.length]!;
    const certificateNumber = `BENCH-2024-${String(i + 1).padStart(6, '0')}`;
    docs.push(
      renderCertificateDocx({
        template: fs.readFileSync(path.join(TEMPLATES, `${kind.template}.docx`)),
        data: { ...SAMPLE_DATA[kind.template], certificateNumber },
        images: {
          seal: fs.readFileSync(path.join(TEMPLATES, 'seals', `${kind.seal}.png`)),
          qrCode: await makeQrPng(`https://certflow.example.gov.cn/verify/${certificateNumber}`),
        },
      }),
    );
  }
  return docs;
}

interface Row {
  converter: string;
  n: number;
  totalS: number;
  startS: number;
  p50: number;
  p95: number;
}

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Converts every document, `concurrency` at a time; per-document time includes queueing. */
async function run(
  name: string,
  make: () => PdfConverter,
  docs: Buffer[],
  concurrency: number,
  start?: (c: PdfConverter) => Promise<void>,
): Promise<Row> {
  const t0 = performance.now();
  const converter = make();
  try {
    await start?.(converter);
    const startS = (performance.now() - t0) / 1000;
    const times: number[] = [];
    let next = 0;
    const worker = async () => {
      while (next < docs.length) {
        const doc = docs[next++]!;
        const t = performance.now();
        const pdf = await converter.convert(doc);
        times.push(performance.now() - t);
        if (pdf.subarray(0, 5).toString() !== '%PDF-') throw new Error(`${name}: output is not a PDF`);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const totalS = (performance.now() - t0) / 1000;
    times.sort((a, b) => a - b);
    process.stderr.write(`  ${name}: done in ${totalS.toFixed(1)} s\n`);
    return { converter: name, n: docs.length, totalS, startS, p50: percentile(times, 50), p95: percentile(times, 95) };
  } finally {
    await converter.close();
  }
}

function table(rows: Row[]) {
  const head = ['converter', 'N', 'total s', 'start s', 'p50 ms/doc', 'p95 ms/doc'];
  const body = rows.map((r) => [
    r.converter,
    String(r.n),
    r.totalS.toFixed(2),
    r.startS.toFixed(2),
    r.p50.toFixed(0),
    r.p95.toFixed(0),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    '| ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ') + ' |';
  return [
    line(head),
    '|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|',
    ...body.map(line),
  ].join('\n');
}

async function main() {
  const n = Number(process.argv[2] ?? 20);
  if (!Number.isInteger(n) || n < 1) throw new Error('usage: npx tsx bench/convert.ts [N]  (N ≥ 1)');
  process.stderr.write(`rendering ${n} certificates…\n`);
  const docs = await renderSamples(n);
  const stock = () => new LibreofficeConvertConverter({ timeoutMs: 120_000 });
  const warm = (size: number) => () => new WarmConverter({ size, timeoutMs: 60_000 });
  const startWarm = (c: PdfConverter) => (c as WarmConverter).start();
  const rows = [
    await run('libreoffice-convert, 1 at a time', stock, docs, 1),
    await run('libreoffice-convert, 2 at a time', stock, docs, 2),
    await run('warm pool ×1, 1 at a time', warm(1), docs, 1, startWarm),
    await run('warm pool ×2, 2 at a time', warm(2), docs, 2, startWarm),
  ];
  console.log(`\nDOCX → PDF, ${n} one-page certificates, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'})\n`);
  console.log(table(rows));
  console.log('\ntotal s includes the warm pool start (start s); ms/doc is per document, queueing included.');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
