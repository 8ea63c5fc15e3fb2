import {
  ActivityFailure,
  ApplicationFailure,
  continueAsNew,
  proxyActivities,
  setCurrentDetails,
  upsertMemo,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { importProgress } from '../domain/imports';
import { CertType, Department, ImportStatus } from './search-attributes';

/**
 * One bulk import (docs/import.md): count the file's rows, import them in batches, finish.
 * Every batch is idempotent by (import id, row number) in the database, so a worker killed in the
 * middle of one and Temporal's retry import each row exactly once. The run continues as new every
 * `batchesPerRun` batches, so its history stays short whatever the file's size. No row content
 * enters the history: only ids, row numbers and counts.
 */

const steps = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

export interface CertificateImportInput {
  importId: string;
  typeCode: string;
  department: string;
  batchSize?: number;
  batchesPerRun?: number;
  /** Carried across continue-as-new. */
  fromRow?: number;
  total?: number;
}

export interface CertificateImportResult {
  total: number;
  imported: number;
  rejected: number;
}

export async function certificateImportWorkflow(input: CertificateImportInput): Promise<CertificateImportResult> {
  const batchSize = input.batchSize ?? 500;
  const batchesPerRun = input.batchesPerRun ?? 20;
  const status = (value: string) =>
    upsertSearchAttributes([
      { key: CertType, value: input.typeCode },
      { key: Department, value: input.department },
      { key: ImportStatus, value },
    ]);
  const show = (r: {
    total: number;
    rowsDone: number;
    imported: number;
    rejected: number;
    startedAt: string | null;
  }) => {
    const p = importProgress({
      total: r.total,
      done: r.rowsDone,
      startedAtMs: r.startedAt ? Date.parse(r.startedAt) : null,
      nowMs: Date.now(),
    });
    upsertMemo({ progress: { ...p, imported: r.imported, rejected: r.rejected } });
    setCurrentDetails(
      `rows ${r.rowsDone} / ${r.total} (${p.percent ?? 0} %) · ${r.imported} imported · ${r.rejected} rejected` +
        (p.rowsPerSecond !== null ? ` · ${p.rowsPerSecond} rows/s` : '') +
        (p.etaSeconds ? ` · about ${p.etaSeconds} s left` : ''),
    );
  };

  status('running');
  try {
    let total = input.total;
    if (total === undefined) {
      setCurrentDetails('reading the file');
      const first = await steps.prepareImport.executeWithOptions({ summary: 'count the rows' }, [input.importId]);
      total = first.total;
      show(first);
    }
    let from = input.fromRow ?? 1;
    for (let batch = 0; from <= total; batch++) {
      if (batch === batchesPerRun) {
        await continueAsNew<typeof certificateImportWorkflow>({ ...input, fromRow: from, total });
      }
      const to = Math.min(total, from + batchSize - 1);
      const r = await steps.importBatch.executeWithOptions({ summary: `rows ${from}–${to}` }, [
        { importId: input.importId, fromRow: from, limit: batchSize },
      ]);
      show(r);
      from += batchSize;
    }
    const done = await steps.finishImport.executeWithOptions({ summary: 'completed' }, [{ importId: input.importId }]);
    show(done);
    status('completed');
    return { total, imported: done.imported, rejected: done.rejected };
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    const cause = err.cause instanceof ApplicationFailure ? err.cause.message : err.message;
    await steps.finishImport.executeWithOptions({ summary: 'failed' }, [{ importId: input.importId, error: cause }]);
    status('failed');
    setCurrentDetails(`failed: ${cause}`);
    throw err;
  }
}
