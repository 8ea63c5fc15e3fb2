import Docxtemplater, { type DXT } from 'docxtemplater';
import InspectModule from 'docxtemplater/js/inspect-module';
import PizZip from 'pizzip';
import QRCode from 'qrcode';

/**
 * Renders a certificate's face data into its DOCX template (docxtemplater), with the
 * department's seal and the verification QR code as images, and inspects templates
 * so an uploaded one can be checked against its certificate type's face fields.
 *
 * Template syntax: `{field}` for text, `{#items}…{/items}` for a list, `{%seal}` and
 * `{%qrCode}` for the two images (each alone in its paragraph).
 */

// The fork has no type declarations; its constructor takes these two callbacks.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ImageModule = require('@slosarek/docxtemplater-image-module-free') as new (opts: {
  centered?: boolean;
  getImage: (tagValue: string, tagName: string) => Buffer;
  getSize: (img: Buffer, tagValue: string, tagName: string) => [number, number];
}) => DXT.Module;

/** Printed sizes. The image module counts in 96-dpi pixels. */
export const SEAL_SIZE_CM = 4;
export const QR_SIZE_CM = 2.5;
const cmToPx = (cm: number) => Math.round((cm / 2.54) * 96);

export const IMAGE_TAGS = ['seal', 'qrCode'] as const;
export type ImageTag = (typeof IMAGE_TAGS)[number];

export interface TemplateProblem {
  /** The tag as written in the template, e.g. `{entityName` or `businessItems`. */
  tag?: string;
  /** docxtemplater's error id (`unclosed_tag`, …), or ours (`missing_value`, …). */
  id: string;
  message: string;
}

/**
 * A template or data problem that a person must fix (bad upload, missing face
 * field). Never retried: rendering the same input again fails the same way.
 */
export class TemplateError extends Error {
  constructor(
    public readonly code:
      | 'not_docx'
      | 'template_syntax'
      | 'missing_value'
      | 'bad_image'
      /** Links content the converter would fetch (services/documents/template-check.ts). */
      | 'external_reference'
      /** Breaks a size, entry-count or compression limit (services/documents/template-check.ts): 413. */
      | 'limit'
      /** Took longer or more memory to read than a template worker allows (template-pool.ts): 422. */
      | 'too_complex',
    message: string,
    public readonly problems: TemplateProblem[] = [],
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function loadDocx(template: Buffer): PizZip {
  if (!Buffer.isBuffer(template) || template.length === 0) {
    throw new TemplateError('not_docx', 'not a DOCX file: the template is empty');
  }
  let zip: PizZip;
  try {
    zip = new PizZip(template);
  } catch (err) {
    throw new TemplateError('not_docx', `not a DOCX file: it is not a ZIP archive (${(err as Error).message})`);
  }
  // An ODT or XLSX is a zip too; say so rather than letting docxtemplater guess.
  if (!zip.file('word/document.xml')) {
    throw new TemplateError(
      'not_docx',
      'not a DOCX file: the ZIP archive has no word/document.xml (save the template as Word .docx)',
    );
  }
  return zip;
}

/** docxtemplater reports a whole list of template errors at once; keep every one. */
function templateErrorFrom(err: unknown): TemplateError {
  const e = err as {
    properties?: { id?: string; explanation?: string; errors?: unknown[]; xtag?: string; file?: string };
  };
  if (!e?.properties) {
    return new TemplateError('template_syntax', `cannot read the template: ${(err as Error)?.message ?? err}`);
  }
  const list = (e.properties.errors ?? [err]) as (typeof e)[];
  const problems: TemplateProblem[] = list.map((x) => {
    const p = x.properties ?? {};
    return {
      id: p.id ?? 'template_error',
      ...(p.xtag ? { tag: p.xtag } : {}),
      message:
        (p.explanation ?? (x as unknown as Error).message) +
        (p.file && p.file !== 'word/document.xml' ? ` (in ${p.file})` : ''),
    };
  });
  const summary = problems.map((p) => p.message).join('; ');
  return new TemplateError(
    problems.some((p) => p.id === 'filetype_not_identified' || p.id === 'file_has_invalid_xml')
      ? 'not_docx'
      : 'template_syntax',
    `template has ${problems.length === 1 ? 'an error' : `${problems.length} errors`}: ${summary}`,
    problems,
  );
}

function compile(zip: PizZip, extra: { modules?: DXT.Module[]; nullGetter?: DXT.Options['nullGetter'] } = {}) {
  try {
    return new Docxtemplater(zip, {
      paragraphLoop: true,
      linebreaks: true,
      errorLogging: false, // errors are thrown to the caller, not printed
      modules: extra.modules ?? [],
      ...(extra.nullGetter ? { nullGetter: extra.nullGetter } : {}),
    });
  } catch (err) {
    throw templateErrorFrom(err);
  }
}

export interface RenderInput {
  template: Buffer;
  /** Face data and the common fields (certificateNumber, holderName, issuerName, …). */
  data: Record<string, unknown>;
  images: { seal: Buffer; qrCode: Buffer };
  /** Tags that may be absent from data (rendered empty); every other tag is required. */
  optionalTags?: string[];
  /**
   * Timestamp written on every ZIP entry. Without it, entries docxtemplater adds get the
   * current time and two renders of the same data differ; the sealing step passes the issue
   * date so that a retried render produces the same bytes (and the same blob).
   */
  zipDate?: Date;
}

export function renderCertificateDocx(input: RenderInput): Buffer {
  for (const name of IMAGE_TAGS) {
    const img = input.images[name];
    if (!Buffer.isBuffer(img) || !img.subarray(0, 8).equals(PNG_SIGNATURE)) {
      throw new TemplateError('bad_image', `image "${name}" must be a PNG`, [
        { id: 'bad_image', tag: name, message: 'not a PNG' },
      ]);
    }
  }
  const sizes: Record<ImageTag, number> = { seal: cmToPx(SEAL_SIZE_CM), qrCode: cmToPx(QR_SIZE_CM) };
  const imageModule = new ImageModule({
    centered: false,
    // Tag values are keys into input.images, never the buffers themselves (the fork
    // treats a value as opaque and hands it back here).
    getImage: (key) => {
      const img = input.images[key as ImageTag];
      if (!img) throw new TemplateError('bad_image', `no image for "{%${key}}"`);
      return img;
    },
    getSize: (_img, key) => {
      const px = sizes[key as ImageTag] ?? cmToPx(3);
      return [px, px];
    },
  });

  const optional = new Set(input.optionalTags ?? []);
  const missing: TemplateProblem[] = [];
  const zip = loadDocx(input.template);
  const doc = compile(zip, {
    modules: [imageModule],
    nullGetter(part, sm) {
      const where = sm.scopePath.map((loop, i) => `${loop}[${sm.scopePathItem[i]}].`).join('');
      if (!optional.has(part.value)) {
        missing.push({ id: 'missing_value', tag: `${where}${part.value}`, message: `no value for {${part.value}}` });
      }
      return '';
    },
  });
  try {
    doc.render({ ...input.data, seal: 'seal', qrCode: 'qrCode' });
  } catch (err) {
    if (err instanceof TemplateError) throw err;
    throw templateErrorFrom(err);
  }
  if (missing.length) {
    const tags = [...new Set(missing.map((m) => m.tag))];
    throw new TemplateError('missing_value', `missing data for template tags: ${tags.join(', ')}`, missing);
  }
  const out = doc.getZip();
  if (input.zipDate) {
    // PizZip writes DOS dates from local-time fields: rebuild the date from the UTC fields
    // so that every host writes the same bytes, whatever its time zone.
    const d = input.zipDate;
    const local = new Date(
      d.getUTCFullYear(),
      d.getUTCMonth(),
      d.getUTCDate(),
      d.getUTCHours(),
      d.getUTCMinutes(),
      d.getUTCSeconds(),
    );
    for (const file of Object.values(out.files)) file.date = local;
  }
  return out.generate({ type: 'nodebuffer', compression: 'DEFLATE' }) as Buffer;
}

/** The verification QR code: medium error correction survives a seal printed over a corner. */
export function makeQrPng(url: string, opts: { widthPx?: number } = {}): Promise<Buffer> {
  return QRCode.toBuffer(url, { type: 'png', errorCorrectionLevel: 'M', margin: 1, width: opts.widthPx ?? 300 });
}

export interface TemplateTags {
  /** Text tags; tags inside a loop are `loop.tag` (e.g. `businessItems.name`). */
  tags: string[];
  /** Loop (list) tags, `{#businessItems}` → `businessItems`. */
  loops: string[];
  /** Image tags, `{%seal}` → `seal`. */
  images: string[];
}

const IMAGE_MODULE = 'open-xml-templating/docxtemplater-image-module';

/** Every tag in a template, from docxtemplater's own parse (headers and footers included). */
export function templateTags(template: Buffer): TemplateTags {
  const inspect = new InspectModule();
  const imageModule = new ImageModule({ getImage: () => Buffer.alloc(0), getSize: () => [1, 1] });
  compile(loadDocx(template), { modules: [inspect as unknown as DXT.Module, imageModule] });
  const tags = new Set<string>();
  const loops = new Set<string>();
  const images = new Set<string>();
  const walk = (parts: DXT.Part[], prefix: string) => {
    for (const part of parts) {
      const name = prefix + part.value;
      if (part.module === 'loop') {
        loops.add(name);
        walk(part.subparsed ?? [], `${name}.`);
      } else if (part.module === IMAGE_MODULE) {
        images.add(name);
      } else {
        tags.add(name);
      }
    }
  };
  walk(inspect.getAllStructuredTags(), '');
  const sorted = (s: Set<string>) => [...s].sort();
  return { tags: sorted(tags), loops: sorted(loops), images: sorted(images) };
}
