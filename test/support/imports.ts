import type { TestApp } from './app';
import { json } from './issuance';

/** Driving bulk imports through the API (docs/import.md), for the workflow and browser tests. */

export const CSV = 'text/csv';
export const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

export interface ImportView {
  id: string;
  status: string;
  workflowId: string;
  imported: number;
  rejected: number;
  progress: {
    total: number | null;
    done: number;
    percent: number | null;
    rowsPerSecond: number | null;
    etaSeconds: number | null;
  };
}

export async function upload(
  app: TestApp,
  token: string,
  body: Buffer,
  type = CSV,
  headers: Record<string, string> = {},
) {
  return app.fetch('/api/v1/certificate-imports?typeCode=BL&fileName=licences', {
    method: 'POST',
    token,
    headers: { 'content-type': type, ...headers },
    body,
  });
}

/** Polls the import until it is completed or failed; `seen` collects every rows-done figure observed. */
export async function waitForImport(app: TestApp, token: string, id: string, timeoutMs: number, seen: number[] = []) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await json<ImportView>(await app.fetch(`/api/v1/certificate-imports/${id}`, { token }), 200);
    if (seen[seen.length - 1] !== v.progress.done) seen.push(v.progress.done);
    if (v.status === 'completed' || v.status === 'failed') return v;
    if (Date.now() > deadline) throw new Error(`import ${id} is still ${v.status} at ${v.progress.done} rows`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The report as rows of cells (the CSV has no line breaks inside cells). */
export function reportRows(csv: string): string[][] {
  return csv
    .replace(/^\uFEFF/, '')
    .trim()
    .split('\r\n')
    .slice(1)
    .map((l) => l.split(','));
}
