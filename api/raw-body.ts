import type { Context } from 'koa';
import { HttpProblem } from './problem';

/** Reads a binary request body (DOCX, PDF uploads) with a size limit. */
export async function readRawBody(ctx: Context, limitBytes: number): Promise<Buffer> {
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limitBytes)
    throw new HttpProblem(
      413,
      'Content Too Large',
      `The upload is larger than ${Math.round(limitBytes / 1024 / 1024)} MiB`,
    );
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > limitBytes)
      throw new HttpProblem(
        413,
        'Content Too Large',
        `The upload is larger than ${Math.round(limitBytes / 1024 / 1024)} MiB`,
      );
    chunks.push(chunk as Buffer);
  }
  if (size === 0) throw new HttpProblem(400, 'Bad Request', 'The request body is empty; send the file as the body');
  return Buffer.concat(chunks);
}
