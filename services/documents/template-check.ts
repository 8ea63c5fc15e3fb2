import PizZip from 'pizzip';
import { TemplateError, type TemplateProblem } from './render';

/**
 * Checks a DOCX before anything inflates or parses it (docs/security.md, "Server-side
 * requests, resource limits and crash recovery"):
 *
 * - ZIP limits, read from the central directory alone: entry count, each entry's and the
 *   total declared size, and the compression ratio — a zip bomb is refused before one byte
 *   is inflated. Entries are then inflated one at a time and checked against what their
 *   directory entry declared, so a lying directory cannot get past either.
 * - External references: a relationship with TargetMode="External" (a linked image, a linked
 *   OLE object, an attached template…) or a field that loads a URL (INCLUDEPICTURE,
 *   INCLUDETEXT, LINK, DDE…) would have LibreOffice fetch that URL from the server on every
 *   preview and sealing. Hyperlinks are external too but are only printed, never fetched.
 */

export const TEMPLATE_LIMITS = {
  /** A Word document has a few dozen parts; thousands is an attack or a mistake. */
  maxEntries: 1000,
  /** Inflated size of one part (document.xml of a long template is a few MiB at most). */
  maxEntryBytes: 32 * 1024 * 1024,
  /** Inflated size of all parts together. */
  maxTotalBytes: 64 * 1024 * 1024,
  /** Inflated / compressed for any part above 1 MiB: XML compresses ~10:1, bombs ~1000:1. */
  maxRatio: 100,
};

export interface ZipEntryInfo {
  name: string;
  compressedSize: number;
  uncompressedSize: number;
}

const limit = (name: string, message: string) =>
  new TemplateError('limit', `the template exceeds a limit: ${message}`, [{ id: 'limit', tag: name, message }]);

/** The central directory of a ZIP, without inflating anything. Throws TemplateError('not_docx') if unreadable. */
export function readZipDirectory(zip: Buffer): ZipEntryInfo[] {
  const notZip = (why: string) => new TemplateError('not_docx', `not a DOCX file: ${why}`);
  // The end-of-central-directory record is in the last 22 + 65535 (comment) bytes.
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw notZip('it is not a ZIP archive (no end of central directory)');
  const count = zip.readUInt16LE(eocd + 10);
  const dirSize = zip.readUInt32LE(eocd + 12);
  const dirOffset = zip.readUInt32LE(eocd + 16);
  if (count === 0xffff || dirOffset === 0xffffffff) throw notZip('ZIP64 archives are not Word documents');
  if (count > TEMPLATE_LIMITS.maxEntries) {
    throw limit('maxEntries', `it has ${count} ZIP entries, at most ${TEMPLATE_LIMITS.maxEntries} are allowed`);
  }
  if (dirOffset + dirSize > eocd) throw notZip('its central directory is damaged');
  const entries: ZipEntryInfo[] = [];
  let p = dirOffset;
  for (let n = 0; n < count; n++) {
    if (p + 46 > eocd || zip.readUInt32LE(p) !== 0x02014b50) throw notZip('its central directory is damaged');
    const compressedSize = zip.readUInt32LE(p + 20);
    const uncompressedSize = zip.readUInt32LE(p + 24);
    const nameLength = zip.readUInt16LE(p + 28);
    const extraLength = zip.readUInt16LE(p + 30);
    const commentLength = zip.readUInt16LE(p + 32);
    const name = zip.toString('utf8', p + 46, p + 46 + nameLength);
    entries.push({ name, compressedSize, uncompressedSize });
    p += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** Throws TemplateError('limit') naming the limit a template's ZIP directory breaks. */
export function checkZipLimits(entries: ZipEntryInfo[]) {
  let total = 0;
  for (const e of entries) {
    if (e.uncompressedSize > TEMPLATE_LIMITS.maxEntryBytes) {
      throw limit(
        'maxEntryBytes',
        `${e.name} inflates to ${mib(e.uncompressedSize)}, at most ${mib(TEMPLATE_LIMITS.maxEntryBytes)}`,
      );
    }
    const bomb = e.uncompressedSize > TEMPLATE_LIMITS.maxRatio * Math.max(1, e.compressedSize);
    if (e.uncompressedSize > 1024 * 1024 && bomb) {
      const ratio = Math.round(e.uncompressedSize / Math.max(1, e.compressedSize));
      throw limit('maxRatio', `${e.name} is compressed ${ratio}:1, at most ${TEMPLATE_LIMITS.maxRatio}:1`);
    }
    total += e.uncompressedSize;
  }
  if (total > TEMPLATE_LIMITS.maxTotalBytes) {
    throw limit('maxTotalBytes', `its parts inflate to ${mib(total)}, at most ${mib(TEMPLATE_LIMITS.maxTotalBytes)}`);
  }
}

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

/** Fields whose instruction makes Word or LibreOffice load something from a path or URL. */
const LOADING_FIELDS = /\b(INCLUDEPICTURE|INCLUDETEXT|INCLUDE|LINK|DDE|DDEAUTO|IMPORT|HYPERLINK\s+\\l)\b/;
const FIELD_INSTRUCTIONS = /<w:instrText[^>]*>([^<]*)<\/w:instrText>|w:instr="([^"]*)"/g;
const RELATIONSHIP = /<Relationship\b[^>]*>/g;

/**
 * Every external reference that a converter could fetch, as problems naming the part.
 * Call after checkZipLimits: it inflates the XML parts.
 */
export function externalReferences(zip: PizZip, entries: ZipEntryInfo[]): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  for (const e of entries) {
    if (!/\.(xml|rels)$/i.test(e.name)) continue;
    const file = zip.file(e.name);
    if (!file) continue;
    const text = file.asText();
    if (Buffer.byteLength(text) > e.uncompressedSize + 16) {
      throw limit('maxEntryBytes', `${e.name} inflates to more than its ZIP directory declares`);
    }
    if (e.name.endsWith('.rels')) {
      for (const [rel] of text.matchAll(RELATIONSHIP)) {
        if (!/TargetMode\s*=\s*"External"/i.test(rel)) continue;
        const type = /Type="([^"]*)"/.exec(rel)?.[1] ?? '';
        if (type.endsWith('/hyperlink')) continue; // printed as a link, never loaded
        const target = /Target="([^"]*)"/.exec(rel)?.[1] ?? '';
        const kind = type.split('/').pop() ?? 'relationship';
        problems.push({
          id: 'external_reference',
          tag: e.name,
          message: `external ${kind} ${target}: templates must embed their content, not link to it`,
        });
      }
    } else {
      for (const m of text.matchAll(FIELD_INSTRUCTIONS)) {
        const instr = (m[1] ?? m[2] ?? '').trim();
        const field = LOADING_FIELDS.exec(instr)?.[1];
        if (field && !field.startsWith('HYPERLINK')) {
          problems.push({
            id: 'external_reference',
            tag: e.name,
            message: `field ${field} loads external content: ${instr}`,
          });
        }
      }
    }
  }
  return problems;
}

/**
 * The whole check: ZIP limits first (nothing inflated), then external references.
 * Throws TemplateError: 'limit' (413), 'external_reference' or 'not_docx' (422).
 */
export function checkTemplateSafety(docx: Buffer): void {
  const entries = readZipDirectory(docx);
  checkZipLimits(entries);
  let zip: PizZip;
  try {
    zip = new PizZip(docx);
  } catch (err) {
    throw new TemplateError('not_docx', `not a DOCX file: it is not a ZIP archive (${(err as Error).message})`);
  }
  const problems = externalReferences(zip, entries);
  if (problems.length) {
    throw new TemplateError(
      'external_reference',
      `the template links to external content (${[...new Set(problems.map((p) => p.tag))].join(', ')}); ` +
        'embed images and objects instead of linking them',
      problems,
    );
  }
}
