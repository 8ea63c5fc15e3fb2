import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as libreofficeConvert from 'libreoffice-convert';
import type { Logger } from '../../platform/logger';
import { TemplateError } from './render';
import { checkTemplateSafety } from './template-check';
import { sofficeSandbox, type SofficeIsolation, type SofficeSandbox } from './soffice-sandbox';

/**
 * DOCX → PDF with LibreOffice, two ways behind one interface (the warm pool is in warm-converter.ts):
 *
 * - LibreofficeConvertConverter: libreoffice-convert as shipped, a fresh soffice per
 *   document (1.6–2.5 s each, mostly soffice starting). Simple, nothing to manage.
 * - WarmConverter: a pool of long-lived soffice processes driven over UNO by
 *   uno-convert.py; tens to a few hundred milliseconds a document once warm.
 *
 * Both export with lossless images at full resolution so the seal PNG is not turned
 * into a JPEG, and both kill a soffice that hangs (it can spin at 100% CPU on bad input).
 */
export interface PdfConverter {
  convert(docx: Buffer, opts?: ConvertOptions): Promise<Buffer>;
  close(): Promise<void>;
}

export interface ConvertOptions {
  /**
   * Replaces the synchronous external-reference and ZIP check every conversion runs before
   * LibreOffice opens the document — e.g. the API's, which runs it in a template worker
   * (template-pool.ts) so that a large document does not stall the event loop. Never skipped.
   */
  safetyCheck?: (docx: Buffer) => Promise<void>;
}

/**
 * The `--convert-to` filter for the stock path: LibreOffice ≥ 7.4 takes the export
 * filter's options as JSON after the filter name.
 */
export const PDF_EXPORT_FILTER =
  'writer_pdf_Export:{"UseLosslessCompression":{"type":"boolean","value":"true"},' +
  '"ReduceImageResolution":{"type":"boolean","value":"false"}}';

export const DEFAULT_SOFFICE = '/usr/bin/soffice';

export class ConversionError extends Error {
  constructor(
    /**
     * timeout: killed after the time limit; not_docx: input is no DOCX; closed: converter shut down;
     * unsafe: links external content or breaks a ZIP limit (services/documents/template-check.ts);
     * busy: the caller has too many conversions running (previews, api/routes/certificate-types.ts).
     */
    public readonly code: 'timeout' | 'failed' | 'not_docx' | 'closed' | 'unsafe' | 'busy',
    message: string,
  ) {
    super(message);
    this.name = 'ConversionError';
  }
}

/** Before soffice opens anything: a ZIP header, then the external-reference and ZIP check. */
export async function assertDocx(docx: Buffer, safetyCheck?: ConvertOptions['safetyCheck']) {
  // Every DOCX is a ZIP, which starts with a local file header "PK\3\4".
  if (!Buffer.isBuffer(docx) || docx.length < 4 || docx.readUInt32LE(0) !== 0x04034b50) {
    throw new ConversionError('not_docx', 'cannot convert to PDF: the input is not a DOCX file (no ZIP header)');
  }
  // LibreOffice fetches linked images and objects while loading (SSRF from the server, docs/security.md):
  // a document that links anything is never handed to it, whichever template it came from.
  try {
    if (safetyCheck) await safetyCheck(docx);
    else checkTemplateSafety(docx);
  } catch (err) {
    if (err instanceof TemplateError && err.code === 'too_complex') throw err;
    if (err instanceof TemplateError)
      throw new ConversionError(err.code === 'not_docx' ? 'not_docx' : 'unsafe', err.message);
    throw err;
  }
}

/**
 * Every soffice profile and scratch directory of this process lives under
 * `<tmp>/certflow-soffice/<our pid>/`: a process that is SIGKILLed leaves its folder behind,
 * and the next converter to start sweeps the folders of pids that are no longer running
 * (sweepStaleConverterDirs), never another running process's.
 */
export const CONVERTER_PARENT_DIR = path.join(os.tmpdir(), 'certflow-soffice');

export function converterWorkDir(parent = CONVERTER_PARENT_DIR): string {
  const dir = path.join(parent, String(process.pid));
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Removes the folders of converters whose process is dead; returns the pids swept. */
export function sweepStaleConverterDirs(parent = CONVERTER_PARENT_DIR): number[] {
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return [];
  }
  const swept: number[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const pid = Number(name);
    let running = true;
    try {
      process.kill(pid, 0);
    } catch (err) {
      running = (err as NodeJS.ErrnoException).code === 'EPERM';
    }
    // A live pid may be ours (another certflow process) or a reused one: leave it either way.
    if (running || processesMentioning(path.join(parent, name)).length) continue;
    fs.rmSync(path.join(parent, name), { recursive: true, force: true });
    swept.push(pid);
  }
  return swept;
}

export const isPdf = (b: Buffer) => b.subarray(0, 5).toString('latin1') === '%PDF-';

// ------------------------------------------------------------ libreoffice-convert, stock

export interface LibreofficeConvertOptions {
  /** soffice gets killed after this long. */
  timeoutMs: number;
  /** Another soffice binary (tests put a script that hangs here). */
  sofficePath?: string;
  /** Default: no network where possible and a locked-down profile (soffice-sandbox.ts); tests turn them off. */
  isolation?: SofficeIsolation;
  logger?: Logger;
}

const stockSandboxes = new Map<string, SofficeSandbox>();

/** The stock converter's soffice wrapper: seeded profile, no network (soffice-sandbox.ts); one per setting. */
function stockSandbox(opts: LibreofficeConvertOptions): SofficeSandbox {
  const sofficePath = opts.sofficePath ?? DEFAULT_SOFFICE;
  const key = JSON.stringify([opts.isolation ?? {}, sofficePath]);
  let sandbox = stockSandboxes.get(key);
  if (!sandbox || !fs.existsSync(sandbox.sofficePath)) {
    const workDir = path.join(converterWorkDir(), `stock-${stockSandboxes.size}`);
    sandbox = sofficeSandbox({
      sofficePath,
      workDir,
      netnsInWrapper: true,
      ...(opts.isolation ? { isolation: opts.isolation } : {}),
      ...(opts.logger ? { logger: opts.logger } : {}),
    });
    stockSandboxes.set(key, sandbox);
  }
  return sandbox;
}

// Its .d.ts lacks execOptions, which the JS passes straight to child_process.execFile.
type ConvertWithOptions = (
  document: Buffer,
  format: string,
  filter: string | undefined,
  options: {
    tmpOptions?: { tmpdir?: string };
    sofficeBinaryPaths?: string[];
    execOptions?: { timeout?: number; killSignal?: NodeJS.Signals; maxBuffer?: number };
    asyncOptions?: { times?: number; interval?: number };
  },
  callback: (err: (NodeJS.ErrnoException & { killed?: boolean }) | null, data: Buffer) => void,
) => void;

/**
 * One conversion by a fresh soffice. libreoffice-convert already gives every call its
 * own user profile directory (`-env:UserInstallation=…`), so concurrent calls do not
 * collide; we root its temporary directories in one of ours so that, after a timeout,
 * any soffice still running for this call can be found by its command line and killed.
 */
export async function convertWithLibreofficeConvert(
  docx: Buffer,
  opts: LibreofficeConvertOptions,
  safetyCheck?: ConvertOptions['safetyCheck'],
): Promise<Buffer> {
  await assertDocx(docx, safetyCheck);
  const sandbox = stockSandbox(opts);
  const dir = await fs.promises.mkdtemp(path.join(converterWorkDir(), 'lo-'));
  const convert = libreofficeConvert.convertWithOptions as unknown as ConvertWithOptions;
  // execFile's timeout only sends SIGTERM and then waits for the process to exit; a
  // wedged soffice that ignores SIGTERM gets SIGKILL a little later.
  const hardKill = setTimeout(() => void killStragglers(dir, 0), opts.timeoutMs + 2000);
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      convert(
        docx,
        'pdf',
        PDF_EXPORT_FILTER,
        {
          tmpOptions: { tmpdir: dir },
          sofficeBinaryPaths: [sandbox.sofficePath],
          // SIGTERM lets oosplash take soffice.bin down with it; stragglers get SIGKILL below.
          execOptions: { timeout: opts.timeoutMs, killSignal: 'SIGTERM' },
          // It polls for the output file after soffice exits; one short retry is plenty.
          asyncOptions: { times: 2, interval: 100 },
        },
        (err, pdf) => {
          if (err?.killed) {
            reject(
              new ConversionError('timeout', `PDF conversion timed out after ${opts.timeoutMs} ms; soffice was killed`),
            );
          } else if (err?.code === 'ENOENT') {
            reject(new ConversionError('failed', 'LibreOffice produced no PDF (the DOCX may be damaged)'));
          } else if (err) {
            reject(new ConversionError('failed', `PDF conversion failed: ${err.message}`));
          } else if (!isPdf(pdf)) {
            reject(new ConversionError('failed', 'LibreOffice output is not a PDF'));
          } else {
            resolve(pdf);
          }
        },
      );
    });
  } finally {
    clearTimeout(hardKill);
    // execFile signals only the process it started; soffice.bin is its grandchild and
    // carries our directory in its command line.
    await killStragglers(dir, 2000);
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}

/** Pids of processes whose command line contains `marker` (a directory only we made). */
export function processesMentioning(marker: string): number[] {
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return []; // not Linux: nothing to scan
  }
  return pids.map(Number).filter((pid) => {
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1');
      const state = fs.readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]?.[0];
      return state !== 'Z' && cmdline.includes(marker);
    } catch {
      return false; // gone meanwhile, or not ours to read
    }
  });
}

/** Waits up to graceMs for those processes to end, then SIGKILLs the rest. */
async function killStragglers(marker: string, graceMs: number) {
  const deadline = Date.now() + graceMs;
  let left = processesMentioning(marker);
  while (left.length && Date.now() < deadline) {
    await sleep(50);
    left = processesMentioning(marker);
  }
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class LibreofficeConvertConverter implements PdfConverter {
  private closed = false;
  constructor(private readonly opts: LibreofficeConvertOptions = { timeoutMs: 60_000 }) {}

  convert(docx: Buffer, opts: ConvertOptions = {}): Promise<Buffer> {
    if (this.closed) return Promise.reject(new ConversionError('closed', 'the PDF converter is closed'));
    return convertWithLibreofficeConvert(docx, this.opts, opts.safetyCheck);
  }

  async close() {
    this.closed = true;
  }
}

// The warm pool (long-lived soffice over UNO) is in warm-converter.ts; importers find it here too.
export { WarmConverter, DEFAULT_UNO_PYTHON, type WarmConverterOptions } from './warm-converter';

// ------------------------------------------------------------ bounded, per-owner limited

/**
 * Bounds the conversions one caller class may run: at most `concurrency` at once (the rest
 * queue), and at most `perOwner` in flight or queued per owner (beyond that: ConversionError
 * 'busy', which the API answers 429). Template previews go through one of these, so eight
 * parallel previews start two soffice processes, not eight (docs/security.md).
 */
export class BoundedConverter {
  private running = 0;
  private readonly queue: (() => void)[] = [];
  private readonly perOwnerCount = new Map<string, number>();

  constructor(
    private readonly inner: PdfConverter,
    private readonly limits: { concurrency: number; perOwner: number },
    private readonly options: ConvertOptions = {},
  ) {}

  async convert(docx: Buffer, owner: string): Promise<Buffer> {
    const mine = this.perOwnerCount.get(owner) ?? 0;
    if (mine >= this.limits.perOwner) {
      throw new ConversionError(
        'busy',
        `at most ${this.limits.perOwner} conversions at once per user; try again shortly`,
      );
    }
    this.perOwnerCount.set(owner, mine + 1);
    try {
      if (this.running >= this.limits.concurrency) await new Promise<void>((resolve) => this.queue.push(resolve));
      else this.running++;
      try {
        return await this.inner.convert(docx, this.options);
      } finally {
        const next = this.queue.shift();
        if (next)
          next(); // the slot passes on: running stays the same
        else this.running--;
      }
    } finally {
      const left = (this.perOwnerCount.get(owner) ?? 1) - 1;
      if (left) this.perOwnerCount.set(owner, left);
      else this.perOwnerCount.delete(owner);
    }
  }
}
