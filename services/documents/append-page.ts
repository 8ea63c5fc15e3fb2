import { lastTrailer, latestObject } from '../trust/pades-dss';

/**
 * Appends the one page of `pagePdf` (as pdfkit writes it: classic cross-reference table, each
 * object's stream /Length direct) to the end of `pdf` as an incremental update: the page and
 * everything it uses (content, font, ToUnicode) are copied under new object numbers, and the
 * page tree's root is rewritten with one more kid. Not a byte of `pdf` changes, so the issuer's
 * signature over it stays valid (docs/sharing.md, "Annotated copies").
 */

interface PdfObject {
  dict: string;
  stream?: Buffer;
}

function objectsOf(pdf: Buffer): Map<number, PdfObject> {
  const text = pdf.toString('latin1');
  const objects = new Map<number, PdfObject>();
  const header = /(\d+) 0 obj\s/g;
  for (let m = header.exec(text); m; m = header.exec(text)) {
    const start = m.index + m[0].length;
    const end = text.indexOf('endobj', start);
    const streamAt = text.indexOf('stream', start);
    if (streamAt >= 0 && streamAt < end) {
      const dict = text.slice(start, streamAt);
      const length = /\/Length (\d+)/.exec(dict);
      if (!length) throw new Error(`object ${m[1]}: stream without a direct /Length`);
      const dataAt = streamAt + 'stream'.length + (text[streamAt + 6] === '\r' ? 2 : 1);
      const stream = pdf.subarray(dataAt, dataAt + Number(length[1]));
      objects.set(Number(m[1]), { dict: dict.trim(), stream });
      header.lastIndex = text.indexOf('endobj', dataAt + stream.length);
    } else {
      objects.set(Number(m[1]), { dict: text.slice(start, end).trim() });
      header.lastIndex = end;
    }
  }
  return objects;
}

const refs = (dict: string) => [...dict.matchAll(/(\d+) 0 R/g)].map((m) => Number(m[1]));

export function appendPage(pdf: Buffer, pagePdf: Buffer): Buffer {
  const source = objectsOf(pagePdf);
  const pageEntry = [...source].find(([, o]) => /\/Type\s*\/Page\b(?!s)/.test(o.dict));
  if (!pageEntry) throw new Error('the annotation PDF has no page');
  // The page and what it uses, not its parent: that becomes the original's page tree.
  const pageDict = pageEntry[1].dict.replace(/\/Parent \d+ 0 R/, '');
  const needed: number[] = [pageEntry[0]];
  for (let i = 0; i < needed.length; i++) {
    const dict = i === 0 ? pageDict : source.get(needed[i]!)!.dict;
    for (const n of refs(dict)) if (!needed.includes(n) && source.has(n)) needed.push(n);
  }

  const text = pdf.toString('latin1');
  const trailer = lastTrailer(text);
  const catalog = latestObject(text, trailer.root, trailer.rootGeneration);
  const pagesRef = catalog && /\/Pages\s+(\d+)\s+(\d+)\s+R/.exec(catalog);
  if (!pagesRef) throw new Error('the PDF catalog names no page tree');
  const [pagesN, pagesGen] = [Number(pagesRef[1]), Number(pagesRef[2])];
  const pages = latestObject(text, pagesN, pagesGen);
  if (!pages || !/\/Kids\s*\[/.test(pages) || !/\/Count\s+\d+/.test(pages))
    throw new Error('the page tree has no /Kids and /Count');

  const renumber = new Map(needed.map((n, i) => [n, trailer.size + i]));
  const mapRefs = (dict: string) =>
    dict.replace(/(\d+) 0 R/g, (r, n: string) => {
      const to = renumber.get(Number(n));
      return to === undefined ? r : `${to} 0 R`;
    });
  const newPage = renumber.get(pageEntry[0])!;

  const parts: Buffer[] = [pdf, Buffer.from(pdf[pdf.length - 1] === 0x0a ? '' : '\n', 'latin1')];
  let offset = parts.reduce((n, p) => n + p.length, 0);
  const xref: { n: number; gen: number; offset: number }[] = [];
  const write = (n: number, gen: number, body: Buffer) => {
    const obj = Buffer.concat([Buffer.from(`${n} ${gen} obj\n`, 'latin1'), body, Buffer.from('\nendobj\n', 'latin1')]);
    xref.push({ n, gen, offset });
    parts.push(obj);
    offset += obj.length;
  };
  for (const old of needed) {
    const o = source.get(old)!;
    let dict = mapRefs(old === pageEntry[0] ? pageDict : o.dict);
    if (old === pageEntry[0]) dict = dict.replace(/^<</, `<< /Parent ${pagesN} ${pagesGen} R`);
    const body = o.stream
      ? Buffer.concat([Buffer.from(`${dict}\nstream\n`, 'latin1'), o.stream, Buffer.from('\nendstream', 'latin1')])
      : Buffer.from(dict, 'latin1');
    write(renumber.get(old)!, 0, body);
  }
  const newPages = pages
    .replace(/\/Kids\s*\[([^\]]*)\]/, (_, kids: string) => `/Kids [${kids.trim()} ${newPage} 0 R]`)
    .replace(/\/Count\s+(\d+)/, (_, c: string) => `/Count ${Number(c) + 1}`)
    .trim();
  write(pagesN, pagesGen, Buffer.from(newPages, 'latin1'));

  const xrefAt = offset;
  const lines = ['xref'];
  for (const e of [...xref].sort((a, b) => a.n - b.n)) {
    lines.push(`${e.n} 1`, `${String(e.offset).padStart(10, '0')} ${String(e.gen).padStart(5, '0')} n\r`);
  }
  const id = trailer.id ? ` /ID ${trailer.id}` : '';
  lines.push(
    'trailer',
    `<< /Size ${trailer.size + needed.length} /Root ${trailer.root} ${trailer.rootGeneration} R /Prev ${trailer.startxref}${id} >>`,
    'startxref',
    String(xrefAt),
    '%%EOF',
    '',
  );
  parts.push(Buffer.from(lines.join('\n'), 'latin1'));
  return Buffer.concat(parts);
}
