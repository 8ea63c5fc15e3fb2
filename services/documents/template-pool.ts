import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ServiceError } from '../errors';
import { TemplateError, type RenderInput, type TemplateTags } from './render';
import type { SerializedError, TemplateJob, TemplateReply } from './template-worker';

/**
 * A small pool of worker threads for the CPU-heavy look into a DOCX (template-worker.ts):
 * uploads, publishes and previews inflate and parse templates there, not on the API's event
 * loop, so a large template does not stall other requests (docs/security.md). Each job has a
 * time limit counted from when a worker takes it; a worker past it (or out of its memory
 * limit) is terminated — the job answers 422 — and a fresh one takes its place.
 */
export interface TemplatePoolOptions {
  /** Worker threads (TEMPLATE_WORKERS, default 1). */
  workers: number;
  /** Per job (TEMPLATE_TIMEOUT_MS, default 20 s). */
  timeoutMs: number;
  /** Jobs waiting beyond this answer 503: a flood must not pile up templates in memory. */
  maxQueue?: number;
  /** Heap of one worker; a template that needs more is refused like one that takes too long. */
  maxHeapMb?: number;
}

type Job = {
  job: TemplateJob;
  transfer: ArrayBuffer[];
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
};

const WORKER_FILE = path.join(__dirname, 'template-worker' + path.extname(__filename));
// certflow runs its TypeScript through tsx (bin/certflow.js); a worker thread needs it registered too.
const BOOT =
  path.extname(__filename) === '.ts'
    ? `require('tsx/cjs'); require(${JSON.stringify(WORKER_FILE)});`
    : `require(${JSON.stringify(WORKER_FILE)});`;

class Slot {
  worker: Worker | undefined;
  ready = false;
  current: { id: number; job: Job; timer: NodeJS.Timeout } | undefined;

  constructor(
    private readonly pool: TemplateWorkerPool,
    private readonly opts: Required<TemplatePoolOptions>,
  ) {}

  start() {
    const worker = new Worker(BOOT, {
      eval: true,
      resourceLimits: { maxOldGenerationSizeMb: this.opts.maxHeapMb },
    });
    worker.unref(); // an idle pool never keeps the process alive
    this.worker = worker;
    this.ready = false;
    worker.on('message', (m: TemplateReply) => {
      if ('ready' in m) {
        this.ready = true;
        this.pool.pump();
        return;
      }
      const cur = this.current;
      if (!cur || cur.id !== m.id) return;
      clearTimeout(cur.timer);
      this.current = undefined;
      if (m.ok) cur.job.resolve(m.result);
      else cur.job.reject(revive(m.error));
      this.pool.pump();
    });
    worker.on('error', (err) => this.lost(worker, err));
    worker.on('exit', (code) => this.lost(worker, new Error(`template worker exited with code ${code}`)));
  }

  run(id: number, job: Job) {
    const timer = setTimeout(() => {
      this.fail(
        new TemplateError(
          'too_complex',
          `the template took longer than ${this.opts.timeoutMs} ms to read; simplify or split it`,
          [{ id: 'too_complex', tag: '(template)', message: `not read within ${this.opts.timeoutMs} ms` }],
        ),
      );
    }, this.opts.timeoutMs);
    this.current = { id, job, timer };
    this.worker!.postMessage({ id, job: job.job }, job.transfer);
  }

  /** Ends the worker whatever it is doing, fails its job with `err`, and starts a fresh one. */
  private fail(err: Error) {
    const worker = this.worker;
    if (!worker) return;
    this.detach(worker, err);
    void worker.terminate();
  }

  private lost(worker: Worker, err: Error) {
    if (this.worker !== worker) return; // already replaced
    // Died before it could take a job (cannot load its code): no restart loop, the queue fails.
    if (!this.ready) {
      this.worker = undefined;
      this.pool.failQueued(new ServiceError('unavailable', `the template worker cannot start: ${err.message}`));
      return;
    }
    const oom = /ERR_WORKER_OUT_OF_MEMORY/.test((err as NodeJS.ErrnoException).code ?? '');
    this.detach(
      worker,
      oom
        ? new TemplateError('too_complex', `the template needs more than ${this.opts.maxHeapMb} MB to read`, [
            { id: 'too_complex', tag: '(template)', message: `more than ${this.opts.maxHeapMb} MB` },
          ])
        : err,
    );
  }

  private detach(worker: Worker, err: Error) {
    if (this.worker === worker) this.worker = undefined;
    this.ready = false;
    const cur = this.current;
    this.current = undefined;
    if (cur) {
      clearTimeout(cur.timer);
      cur.job.reject(err);
    }
    this.pool.replaced(this);
  }

  stop() {
    const worker = this.worker;
    this.worker = undefined;
    this.ready = false;
    return worker?.terminate();
  }
}

function revive(e: SerializedError): Error {
  if (e.name === 'TemplateError' && e.code) {
    return new TemplateError(e.code as TemplateError['code'], e.message, e.problems ?? []);
  }
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}

export class TemplateWorkerPool {
  private readonly slots: Slot[];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  /** Workers terminated for a timeout or memory (tests and metrics). */
  replacements = 0;
  private readonly opts: Required<TemplatePoolOptions>;

  constructor(opts: TemplatePoolOptions) {
    this.opts = { maxQueue: 64, maxHeapMb: 1024, ...opts };
    this.slots = Array.from({ length: opts.workers }, () => new Slot(this, this.opts));
  }

  /** ZIP limits and external links (template-check.ts checkTemplateSafety). */
  async check(docx: Buffer): Promise<void> {
    await this.submit({ op: 'check', docx }, []);
  }

  /** The safety check, then every tag (render.ts templateTags). */
  inspect(docx: Buffer): Promise<TemplateTags> {
    return this.submit({ op: 'inspect', docx }, []) as Promise<TemplateTags>;
  }

  /** Every tag, without the safety check (a stored template's fit to its face fields). */
  tags(docx: Buffer): Promise<TemplateTags> {
    return this.submit({ op: 'tags', docx }, []) as Promise<TemplateTags>;
  }

  /** render.ts renderCertificateDocx, in a worker. */
  render = async (input: RenderInput): Promise<Buffer> => {
    const out = (await this.submit({ op: 'render', input }, [])) as Uint8Array;
    return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  };

  /** Thread ids of the running workers (tests: a worker past its time is replaced). */
  threadIds(): number[] {
    return this.slots.flatMap((s) => (s.worker ? [s.worker.threadId] : []));
  }

  private submit(job: TemplateJob, transfer: ArrayBuffer[]): Promise<unknown> {
    if (this.closed) return Promise.reject(new ServiceError('unavailable', 'the template workers are closed'));
    if (this.queue.length >= this.opts.maxQueue) {
      return Promise.reject(
        new ServiceError('unavailable', 'too many templates are being read at once; try again shortly', {
          retryAfter: 5,
        }),
      );
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ job, transfer, resolve, reject });
      this.pump();
    });
  }

  /** Hands queued jobs to ready, idle workers; starts workers that are not running. */
  pump() {
    if (this.closed) return;
    for (const slot of this.slots) {
      if (!this.queue.length) return;
      if (!slot.worker) slot.start();
      if (slot.ready && !slot.current) slot.run(this.nextId++, this.queue.shift()!);
    }
  }

  failQueued(err: Error) {
    this.queue.splice(0).forEach((j) => j.reject(err));
  }

  /** A slot lost its worker: count it, and start another if jobs are waiting. */
  replaced(_slot: Slot) {
    this.replacements++;
    this.pump();
  }

  async close(): Promise<void> {
    this.closed = true;
    const err = new ServiceError('unavailable', 'the template workers are closed');
    this.queue.splice(0).forEach((j) => j.reject(err));
    await Promise.all(this.slots.map((s) => s.stop()));
  }
}

const shared = new Map<string, TemplateWorkerPool>();

/** One pool per process and setting (the API's routes share it); closed by closeSharedTemplatePools. */
export function sharedTemplatePool(opts: TemplatePoolOptions): TemplateWorkerPool {
  const key = `${opts.workers}:${opts.timeoutMs}`;
  let pool = shared.get(key);
  if (!pool) {
    pool = new TemplateWorkerPool(opts);
    shared.set(key, pool);
  }
  return pool;
}

export async function closeSharedTemplatePools(): Promise<void> {
  const pools = [...shared.values()];
  shared.clear();
  await Promise.all(pools.map((p) => p.close()));
}
