import { X509Certificate } from 'node:crypto';

/**
 * PAdES B-LT (ETSI EN 319 142-1 §5.4): after signing, an incremental update adds a Document
 * Security Store — the certificates and CRLs a verifier needs to validate the signature and
 * its timestamp long after the signer certificate has expired — and touches nothing else.
 * The catalog is rewritten with only /DSS added; `isDssOnlyUpdate` checks exactly that, so a
 * verifier can tell a DSS from content added after signing (docs/trust.md).
 */

export interface DssContents {
  certificatesPem: string[];
  crlsDer: Buffer[];
}

export interface Trailer {
  root: number;
  rootGeneration: number;
  size: number;
  startxref: number;
  id?: string;
}

export function lastTrailer(text: string): Trailer {
  const sx = /startxref\s+(\d+)\s+%%EOF\s*$/.exec(text);
  if (!sx) throw new Error('the PDF has no startxref at its end');
  const at = text.lastIndexOf('trailer');
  if (at < 0) throw new Error('the PDF has no classic trailer (cross-reference streams are not supported)');
  const dict = text.slice(at, sx.index);
  const root = /\/Root\s+(\d+)\s+(\d+)\s+R/.exec(dict);
  const size = /\/Size\s+(\d+)/.exec(dict);
  if (!root || !size) throw new Error('the PDF trailer lacks /Root or /Size');
  return {
    root: Number(root[1]),
    rootGeneration: Number(root[2]),
    size: Number(size[1]),
    startxref: Number(sx[1]),
    id: /\/ID\s*(\[[^\]]*\])/.exec(dict)?.[1],
  };
}

/** The body (between `obj` and `endobj`) of the latest definition of object `n` in `text`. */
export function latestObject(text: string, n: number, gen: number): string | undefined {
  const re = new RegExp(`(?:^|[\\s>])${n}\\s+${gen}\\s+obj\\b([\\s\\S]*?)endobj`, 'g');
  let body: string | undefined;
  for (let m = re.exec(text); m; m = re.exec(text)) body = m[1];
  return body;
}

export function appendDss(pdf: Buffer, dss: DssContents): Buffer {
  const text = pdf.toString('latin1');
  const trailer = lastTrailer(text);
  const catalog = latestObject(text, trailer.root, trailer.rootGeneration);
  if (!catalog) throw new Error(`the PDF catalog (object ${trailer.root}) is missing`);
  if (/\/DSS\b/.test(catalog)) throw new Error('the PDF already has a DSS');
  const end = catalog.lastIndexOf('>>');
  if (end < 0) throw new Error('the PDF catalog is not a dictionary');

  const parts: Buffer[] = [pdf, Buffer.from(pdf[pdf.length - 1] === 0x0a ? '' : '\n', 'latin1')];
  let offset = parts.reduce((n, p) => n + p.length, 0);
  const xref: { n: number; gen: number; offset: number }[] = [];
  let next = trailer.size;
  const write = (n: number, gen: number, body: Buffer) => {
    const obj = Buffer.concat([Buffer.from(`${n} ${gen} obj\n`, 'latin1'), body, Buffer.from('\nendobj\n', 'latin1')]);
    xref.push({ n, gen, offset });
    parts.push(obj);
    offset += obj.length;
  };
  const stream = (der: Buffer) => {
    const n = next++;
    write(
      n,
      0,
      Buffer.concat([
        Buffer.from(`<< /Length ${der.length} >>\nstream\n`, 'latin1'),
        der,
        Buffer.from('\nendstream', 'latin1'),
      ]),
    );
    return n;
  };
  const unique = [...new Set(dss.certificatesPem.map((p) => new X509Certificate(p).raw.toString('base64')))];
  const certs = unique.map((b64) => stream(Buffer.from(b64, 'base64')));
  const crls = dss.crlsDer.map(stream);
  const dssNumber = next++;
  const refs = (ns: number[]) => `[${ns.map((n) => `${n} 0 R`).join(' ')}]`;
  write(dssNumber, 0, Buffer.from(`<< /Type /DSS /Certs ${refs(certs)} /CRLs ${refs(crls)} >>`, 'latin1'));
  const newCatalog = `${catalog.slice(0, end).trimEnd()} /DSS ${dssNumber} 0 R\n${catalog.slice(end)}`.trim();
  write(trailer.root, trailer.rootGeneration, Buffer.from(newCatalog, 'latin1'));

  const xrefAt = offset;
  const lines = ['xref'];
  for (const e of [...xref].sort((a, b) => a.n - b.n)) {
    lines.push(`${e.n} 1`, `${String(e.offset).padStart(10, '0')} ${String(e.gen).padStart(5, '0')} n\r`);
  }
  const id = trailer.id ? ` /ID ${trailer.id}` : '';
  lines.push(
    'trailer',
    `<< /Size ${next} /Root ${trailer.root} ${trailer.rootGeneration} R /Prev ${trailer.startxref}${id} >>`,
    'startxref',
    String(xrefAt),
    '%%EOF',
    '',
  );
  parts.push(Buffer.from(lines.join('\n'), 'latin1'));
  return Buffer.concat(parts);
}

/**
 * True when everything after `signedLength` is one DSS update as appendDss writes it: streams
 * with only a /Length (certificates, CRLs), the /DSS dictionary, and the catalog unchanged
 * but for /DSS. Anything else added after signing (a page, an annotation) makes it false.
 */
export function isDssOnlyUpdate(pdf: Buffer, signedLength: number): boolean {
  const signed = pdf.subarray(0, signedLength).toString('latin1');
  const tail = pdf.subarray(signedLength).toString('latin1');
  let trailer: Trailer;
  let before: Trailer;
  try {
    trailer = lastTrailer(pdf.toString('latin1'));
    before = lastTrailer(signed.replace(/\s*$/, '\n'));
  } catch {
    return false;
  }
  if (trailer.root !== before.root) return false;
  const objects = /(\d+)\s+(\d+)\s+obj\b([\s\S]*?)endobj/g;
  let sawCatalog = false;
  for (let m = objects.exec(tail); m; m = objects.exec(tail)) {
    const [n, gen, body] = [Number(m[1]), Number(m[2]), m[3]!];
    if (n === trailer.root) {
      const old = latestObject(signed, n, gen);
      const withoutDss = body.replace(/\s*\/DSS\s+\d+\s+0\s+R/, '');
      if (!old || norm(old) !== norm(withoutDss)) return false;
      sawCatalog = true;
    } else if (/^\s*<<\s*\/Length\s+\d+\s*>>\s*stream\r?\n[\s\S]*\r?\nendstream\s*$/.test(body)) {
      continue;
    } else if (!/^\s*<<\s*\/Type\s*\/DSS(\s*\/(Certs|CRLs|OCSPs)\s*\[[\d\sR]*\])*\s*>>\s*$/.test(body)) {
      return false;
    }
  }
  const rest = tail.replace(objects, '');
  return sawCatalog && /^\s*xref\s+[\d\s\r\nfn]*trailer\s*<<[^]*?>>\s*startxref\s+\d+\s+%%EOF\s*$/.test(rest);
}

const norm = (s: string) => s.replace(/\s+/g, ' ').trim();
