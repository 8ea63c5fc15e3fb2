import { spawn, type ChildProcessByStdio } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import * as libreofficeConvert from 'libreoffice-convert';
import type { Logger } from '../../platform/logger';
import { trackConverterPool } from '../../platform/metrics';
import { TemplateError } from './render';
import { checkTemplateSafety } from './template-check';
import { sofficeSandbox, type SofficeIsolation, type SofficeSandbox } from './soffice-sandbox';

/**
 * DOCX → PDF with LibreOffice, two ways behind one interface:
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
/** Debian's python, the one with python3-uno; a pyenv or venv python has no `uno`. */
export const DEFAULT_UNO_PYTHON = '/usr/bin/python3';
const UNO_SCRIPT = path.join(__dirname, 'uno-convert.py');

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

async function assertDocx(docx: Buffer, safetyCheck?: ConvertOptions['safetyCheck']) {
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

const isPdf = (b: Buffer) => b.subarray(0, 5).toString('latin1') === '%PDF-';

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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

// ------------------------------------------------------------------ warm soffice pool

export interface WarmConverterOptions {
  /** How many soffice processes; each converts one document at a time. */
  size?: number;
  /** Per document; a slot that takes longer is killed and started afresh. */
  timeoutMs?: number;
  /** For soffice to start and accept the UNO connection. */
  startTimeoutMs?: number;
  sofficePath?: string;
  pythonPath?: string;
  /** Where the profile and scratch directories go (default: converterWorkDir()). */
  workDir?: string;
  /** Default: no network where possible and a locked-down profile (soffice-sandbox.ts); tests turn them off. */
  isolation?: SofficeIsolation;
  logger?: Logger;
}

type Helper = ChildProcessByStdio<Writable, Readable, Readable>;
type Pending = { resolve: (ok: true) => void; reject: (err: Error) => void };

/**
 * One soffice + its uno-convert.py, in a process group of their own: the helper is
 * spawned detached and soffice inherits its group, so one kill(-pgid) ends both.
 */
class Slot {
  private helper: Helper | undefined;
  private dir = '';
  private pipe = '';
  private starting: Promise<void> | undefined;
  private pending = new Map<number, Pending>();
  private nextId = 1;
  private stderrTail = '';
  busy = false;
  /** Killed for a timeout: start it again before the next document needs it. */
  restartWanted = false;
  sofficePid: number | undefined;

  constructor(
    private readonly index: number,
    private readonly opts: Required<Omit<WarmConverterOptions, 'logger' | 'size' | 'isolation'>> & {
      logger?: Logger;
      sandbox: SofficeSandbox;
    },
  ) {}

  get pid() {
    return this.helper?.pid;
  }

  /** Running and ready: a document sent now starts converting at once. */
  get warm() {
    return this.helper !== undefined && this.starting === undefined;
  }

  /** Starts the slot if it is not running; concurrent callers share one start. */
  ensureStarted(): Promise<void> {
    if (this.helper && !this.starting) return Promise.resolve();
    this.starting ??= this.start().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async start() {
    const dir = await fs.promises.mkdtemp(path.join(this.opts.workDir, `certflow-soffice-${this.index}-`));
    this.dir = dir;
    const pipe = `certflow-${process.pid}-${this.index}-${crypto.randomBytes(4).toString('hex')}`;
    this.pipe = pipe;
    // The helper and its soffice in a network namespace of their own (soffice-sandbox.ts).
    const [command, args] = this.opts.sandbox.wrap(this.opts.pythonPath, [
      UNO_SCRIPT,
      '--soffice',
      this.opts.sandbox.sofficePath,
      '--profile',
      path.join(dir, 'profile'),
      '--pipe',
      pipe,
      '--start-timeout',
      String(this.opts.startTimeoutMs / 1000),
    ]);
    const helper = spawn(command, args, { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    this.helper = helper;
    this.sofficePid = undefined;
    this.stderrTail = '';
    helper.stderr.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString()).slice(-2000);
    });
    helper.stdin.on('error', () => {}); // EPIPE after a crash shows up as 'exit' below
    const lines = readline.createInterface({ input: helper.stdout });

    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new ConversionError('timeout', `soffice did not start within ${this.opts.startTimeoutMs} ms`)),
        this.opts.startTimeoutMs + 1000,
      );
      lines.on('line', (line) => {
        let msg: { ready?: boolean; sofficePid?: number; error?: string; timeout?: boolean; id?: number; ok?: boolean };
        try {
          msg = JSON.parse(line);
        } catch {
          return; // not ours (a library printing to stdout)
        }
        if (msg.ready !== undefined) {
          clearTimeout(timer);
          if (msg.ready) {
            this.sofficePid = msg.sofficePid;
            resolve();
          } else {
            reject(new ConversionError(msg.timeout ? 'timeout' : 'failed', `soffice did not start: ${msg.error}`));
          }
          return;
        }
        const p = msg.id === undefined ? undefined : this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id!);
        if (msg.ok) p.resolve(true);
        else p.reject(new ConversionError('failed', `PDF conversion failed: ${msg.error}`));
      });
      helper.on('error', (err) => {
        // Only spawn failures land here (a missing python); there is no 'exit' then.
        clearTimeout(timer);
        if (this.helper === helper) this.helper = undefined;
        void fs.promises.rm(dir, { recursive: true, force: true });
        reject(
          new ConversionError('failed', `cannot run ${this.opts.pythonPath} for the warm converter: ${err.message}`),
        );
      });
      helper.on('exit', (code, signal) => {
        clearTimeout(timer);
        const hint = /No module named 'uno'/.test(this.stderrTail)
          ? ` (${this.opts.pythonPath} has no uno module: use Debian's /usr/bin/python3 with python3-uno)`
          : '';
        const err = new ConversionError(
          'failed',
          `the converter process exited (${signal ?? `code ${code}`})${hint}${this.stderrTail ? `: ${lastLines(this.stderrTail)}` : ''}`,
        );
        reject(err);
        if (this.helper === helper) this.helper = undefined;
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
        killGroup(helper.pid);
        void fs.promises.rm(dir, { recursive: true, force: true });
      });
    });
    try {
      await ready;
      this.opts.logger?.debug({ slot: this.index, sofficePid: this.sofficePid }, 'warm soffice ready');
    } catch (err) {
      await this.kill();
      throw err;
    }
  }

  async convert(docx: Buffer, timeoutMs: number): Promise<Buffer> {
    await this.ensureStarted();
    const helper = this.helper;
    if (!helper) throw new ConversionError('failed', 'the converter process is not running');
    const id = this.nextId++;
    const input = path.join(this.dir, `in-${id}.docx`);
    const output = path.join(this.dir, `out-${id}.pdf`);
    await fs.promises.writeFile(input, docx);
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<true>((resolve, reject) => {
        this.pending.set(id, { resolve, reject });
        timer = setTimeout(() => {
          this.pending.delete(id);
          reject(
            new ConversionError(
              'timeout',
              `PDF conversion timed out after ${timeoutMs} ms; soffice was killed and is restarting`,
            ),
          );
        }, timeoutMs);
        helper.stdin.write(JSON.stringify({ id, input, output }) + '\n');
      });
      const pdf = await fs.promises.readFile(output);
      if (!isPdf(pdf)) throw new ConversionError('failed', 'LibreOffice output is not a PDF');
      return pdf;
    } catch (err) {
      if (err instanceof ConversionError && err.code === 'timeout') {
        await this.kill();
        this.restartWanted = true;
      }
      throw err;
    } finally {
      clearTimeout(timer);
      await fs.promises.rm(input, { force: true });
      await fs.promises.rm(output, { force: true });
    }
  }

  /** Ends soffice and the helper whatever they are doing: SIGTERM, then SIGKILL after graceMs. */
  async kill(graceMs = 1000) {
    const helper = this.helper;
    if (!helper) return;
    this.helper = undefined;
    const exited = helper.exitCode !== null || helper.signalCode !== null ? Promise.resolve() : onceExit(helper);
    await terminateGroup(helper.pid, graceMs);
    await exited;
    // A killed soffice leaves its named pipe's socket file behind (uid 0 inside a user namespace).
    for (const uid of new Set([process.getuid?.() ?? 0, 0]))
      await fs.promises.rm(path.join('/tmp', `OSL_PIPE_${uid}_${this.pipe}`), { force: true });
  }

  /** Asks soffice to quit (closing stdin), then kills whatever is left after graceMs. */
  async stop(graceMs = 10_000) {
    await this.starting?.catch(() => {});
    const helper = this.helper;
    if (!helper) return;
    this.helper = undefined;
    const exited = onceExit(helper);
    helper.stdin.end();
    const timer = setTimeout(() => killGroup(helper.pid), graceMs);
    await exited;
    clearTimeout(timer);
    // The helper waits for soffice before it exits; this is for a helper that crashed.
    if (this.sofficePid && alive(this.sofficePid)) killGroup(helper.pid);
    await fs.promises.rm(this.dir, { recursive: true, force: true });
  }

  /** For process 'exit': synchronous, no waiting. */
  killNow() {
    if (this.helper) killGroup(this.helper.pid);
  }
}

function onceExit(child: Helper): Promise<void> {
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** SIGTERM to the group, then SIGKILL if any member is still there after graceMs. */
async function terminateGroup(pgid: number | undefined, graceMs: number) {
  if (!pgid) return;
  try {
    process.kill(-pgid, 'SIGTERM');
  } catch {
    return; // nobody left
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && groupAlive(pgid)) await sleep(25);
  killGroup(pgid);
}

function groupAlive(pgid: number) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function killGroup(pid: number | undefined) {
  if (!pid) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function alive(pid: number) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const lastLines = (s: string) =>
  s
    .trim()
    .split('\n')
    .filter((l) => !l.includes('javaldx'))
    .slice(-3)
    .join(' | ');

/**
 * A pool of warm soffice processes. Documents queue for a free slot; a slot that
 * exceeds timeoutMs is killed (its whole process group) and started again in the
 * background, so one bad document costs one restart, not the pool.
 */
export class WarmConverter implements PdfConverter {
  private readonly slots: Slot[];
  private readonly waiting: ((slot: Slot) => void)[] = [];
  private readonly rejectWaiting: ((err: Error) => void)[] = [];
  private closed = false;
  private readonly timeoutMs: number;
  private readonly logger: Logger | undefined;
  private readonly onExit = () => this.slots.forEach((s) => s.killNow());
  private readonly untrack: () => void;
  private readonly sandboxDir: string;

  constructor(opts: WarmConverterOptions = {}) {
    const size = opts.size ?? Math.max(1, Math.min(2, os.cpus().length));
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.logger = opts.logger;
    const workDir = opts.workDir ?? converterWorkDir();
    const sofficePath = opts.sofficePath ?? DEFAULT_SOFFICE;
    this.sandboxDir = fs.mkdtempSync(path.join(workDir, 'warm-'));
    const slotOpts = {
      timeoutMs: this.timeoutMs,
      startTimeoutMs: opts.startTimeoutMs ?? 60_000,
      sofficePath,
      pythonPath: opts.pythonPath ?? DEFAULT_UNO_PYTHON,
      workDir,
      sandbox: sofficeSandbox({
        sofficePath,
        workDir: this.sandboxDir,
        ...(opts.isolation ? { isolation: opts.isolation } : {}),
        netnsInWrapper: false,
        ...(opts.logger ? { logger: opts.logger } : {}),
      }),
      ...(opts.logger ? { logger: opts.logger } : {}),
    };
    this.slots = Array.from({ length: size }, (_, i) => new Slot(i, slotOpts));
    // A worker that exits without close() must not leave soffice running.
    process.on('exit', this.onExit);
    this.untrack = trackConverterPool(() => this.stats());
  }

  /** For the converter pool gauges (platform/metrics.ts). */
  stats(): { size: number; busy: number; waiting: number } {
    return { size: this.slots.length, busy: this.slots.filter((s) => s.busy).length, waiting: this.waiting.length };
  }

  /** Starts every slot now instead of on first use. */
  async start(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.ensureStarted()));
  }

  /** Process ids of the running soffice processes (for health checks and tests). */
  sofficePids(): number[] {
    return this.slots.flatMap((s) => (s.warm && s.sofficePid ? [s.sofficePid] : []));
  }

  async convert(docx: Buffer, opts: ConvertOptions & { timeoutMs?: number } = {}): Promise<Buffer> {
    await assertDocx(docx, opts.safetyCheck);
    const slot = await this.acquire();
    try {
      return await slot.convert(docx, opts.timeoutMs ?? this.timeoutMs);
    } finally {
      this.release(slot);
    }
  }

  private acquire(): Promise<Slot> {
    if (this.closed) return Promise.reject(new ConversionError('closed', 'the PDF converter is closed'));
    // Prefer a warm slot over one that is (re)starting.
    const free = this.slots.find((s) => !s.busy && s.warm) ?? this.slots.find((s) => !s.busy);
    if (free) {
      free.busy = true;
      return Promise.resolve(free);
    }
    return new Promise((resolve, reject) => {
      this.waiting.push(resolve);
      this.rejectWaiting.push(reject);
    });
  }

  private release(slot: Slot) {
    const next = this.waiting.shift();
    this.rejectWaiting.shift();
    if (next && !this.closed) next(slot);
    else slot.busy = false;
    // A slot killed for a timeout comes back warm before the next document needs it.
    // (One that failed to start waits for the next document: no restart loop.)
    if (!this.closed && slot.restartWanted) {
      slot.restartWanted = false;
      slot.ensureStarted().catch((err) => this.logger?.warn({ err: (err as Error).message }, 'soffice restart failed'));
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.untrack();
    const err = new ConversionError('closed', 'the PDF converter is closed');
    this.rejectWaiting.splice(0).forEach((reject) => reject(err));
    this.waiting.splice(0);
    await Promise.all(this.slots.map((s) => s.stop()));
    await fs.promises.rm(this.sandboxDir, { recursive: true, force: true });
    process.off('exit', this.onExit);
  }
}

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
