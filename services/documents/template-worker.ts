import { parentPort } from 'node:worker_threads';
import { renderCertificateDocx, templateTags, TemplateError, type RenderInput } from './render';
import { checkTemplateSafety } from './template-check';

/**
 * The worker-thread side of TemplateWorkerPool (template-pool.ts): every CPU-heavy look into a
 * DOCX — inflating it, the ZIP and external-link checks, docxtemplater's parse and render — runs
 * here, so a large template never stalls the API's event loop (docs/security.md).
 */

export type TemplateJob =
  | { op: 'check'; docx: Uint8Array }
  | { op: 'inspect'; docx: Uint8Array }
  | { op: 'tags'; docx: Uint8Array }
  | { op: 'render'; input: RenderInput };

export type TemplateReply =
  { ready: true } | { id: number; ok: true; result: unknown } | { id: number; ok: false; error: SerializedError };

export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  problems?: TemplateError['problems'];
}

// Structured clone turns a Buffer into a plain Uint8Array: view it as a Buffer again, no copy.
const buf = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

function run(job: TemplateJob): unknown {
  switch (job.op) {
    case 'check':
      checkTemplateSafety(buf(job.docx));
      return null;
    case 'inspect': {
      const docx = buf(job.docx);
      checkTemplateSafety(docx);
      return templateTags(docx);
    }
    case 'tags':
      return templateTags(buf(job.docx));
    case 'render': {
      const { template, images } = job.input;
      return renderCertificateDocx({
        ...job.input,
        template: buf(template),
        images: { seal: buf(images.seal), qrCode: buf(images.qrCode) },
      });
    }
  }
}

function serialize(err: unknown): SerializedError {
  if (err instanceof TemplateError)
    return { name: err.name, message: err.message, code: err.code, problems: err.problems };
  const e = err as Error;
  return { name: e?.name ?? 'Error', message: e?.message ?? String(err) };
}

const port = parentPort;
if (port) {
  port.on('message', ({ id, job }: { id: number; job: TemplateJob }) => {
    let reply: TemplateReply;
    try {
      reply = { id, ok: true, result: run(job) };
    } catch (err) {
      reply = { id, ok: false, error: serialize(err) };
    }
    port.postMessage(reply);
  });
  port.postMessage({ ready: true } satisfies TemplateReply);
}
