import { spawn, type ChildProcessByStdio } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../../platform/logger';
import { trackConverterPool } from '../../platform/metrics';
import {
  assertDocx,
  ConversionError,
  converterWorkDir,
  DEFAULT_SOFFICE,
  isPdf,
  sleep,
  type ConvertOptions,
  type PdfConverter,
} from './convert';
import { sofficeSandbox, type SofficeIsolation, type SofficeSandbox } from './soffice-sandbox';

/**
 * The warm converter: a pool of long-lived soffice processes driven over UNO by
 * uno-convert.py, tens to a few hundred milliseconds a document once warm (the render
 * workers' converter for sealing). The stock one-soffice-per-document converter, the shared
 * interface and the bounded converter for previews are in convert.ts.
 */

/** Debian's python, the one with python3-uno; a pyenv or venv python has no `uno`. */
export const DEFAULT_UNO_PYTHON = '/usr/bin/python3';
const UNO_SCRIPT = path.join(__dirname, 'uno-convert.py');

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
