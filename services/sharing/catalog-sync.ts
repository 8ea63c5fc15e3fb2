import type { Db } from '../../db/knex';
import { getCertificate } from '../../db/certificates';
import {
  departmentsOfCertificates,
  getStatusPush,
  pendingStatusPushes,
  recordStatusPushAttempt,
  recordStatusPushes,
} from '../../db/catalog-status';
import { CERTIFICATE_STATUS_CODES } from '../../domain/certificate-record';
import { isPermanentHttpStatus, OutboundError, postJson, type CatalogDeps } from '../outbound';

/**
 * Catalog status sync (docs/sharing.md): after registration, every status change — revocation,
 * cancellation, withdrawal, expiry, and the lifecycle issue's suspension and supersession — is
 * pushed to the external catalog (CATALOG_URL), so the central catalog never keeps saying
 * "valid". Like registration (services/outbound.ts): every attempt is counted on the row, a
 * workflow retries (workflows/catalog-status.ts), the hourly expiry sweep relays what is still
 * pending, and what keeps failing is listed for a sealing officer to re-push.
 *
 * For other status changes: call `recordCatalogStatusChange` in the step that changes the status,
 * then start `catalogStatusWorkflow` (or let the sweep relay it).
 */

export async function recordCatalogStatusChange(db: Db, numbers: string[], status: string): Promise<void> {
  const departments = await departmentsOfCertificates(db, numbers);
  const byDepartment = new Map<string, string[]>();
  for (const n of numbers) {
    const d = departments.get(n);
    if (d) byDepartment.set(d, [...(byDepartment.get(d) ?? []), n]);
  }
  for (const [department, ns] of byDepartment) await recordStatusPushes(db, department, ns, status);
}

export type StatusPushOutcome = { pushed: true; attempts: number; alreadyPushed: boolean };

/** Pushes one status change; throws OutboundError (recorded on the row) when the catalog does not take it. */
export async function pushCatalogStatus(deps: CatalogDeps, number: string, status: string): Promise<StatusPushOutcome> {
  let row = await getStatusPush(deps.db, number, status);
  if (!row) {
    await recordCatalogStatusChange(deps.db, [number], status);
    row = await getStatusPush(deps.db, number, status);
    if (!row) throw new OutboundError(`no certificate ${number}`, true);
  }
  if (row.pushedAt) return { pushed: true, attempts: row.attempts, alreadyPushed: true };
  const url = deps.config.catalog.url;
  if (url) {
    const cert = (await getCertificate(deps.db, number))!;
    const body = JSON.stringify({
      event: 'certificate.status',
      certificateNumber: cert.number,
      identifier: cert.identifier,
      status: (CERTIFICATE_STATUS_CODES as Record<string, string>)[status] ?? null,
      statusName: status,
      statusChangedAt: cert.statusChangedAt,
      reason: cert.statusReason,
    });
    let failure: OutboundError | undefined;
    try {
      const headers = { 'x-certflow-certificate': cert.number, 'x-certflow-event': 'certificate.status' };
      const res = await postJson(url, body, headers, deps.config.catalog.timeoutMs);
      if (res.status < 200 || res.status > 299)
        failure = new OutboundError(
          `catalog answered ${res.status}${res.body ? `: ${res.body.slice(0, 300)}` : ''}`,
          isPermanentHttpStatus(res.status),
        );
    } catch (err) {
      failure = err instanceof OutboundError ? err : new OutboundError((err as Error).message, false);
    }
    if (failure) {
      await recordStatusPushAttempt(deps.db, row.id, { ok: false, error: failure.message });
      throw failure;
    }
  }
  await recordStatusPushAttempt(deps.db, row.id, { ok: true });
  return { pushed: true, attempts: row.attempts + 1, alreadyPushed: false };
}

/** The sweep's relay: each pending change with fewer than `giveUpAfter` attempts, once. */
export async function relayCatalogStatuses(
  deps: CatalogDeps,
  opts: { limit: number; giveUpAfter: number },
): Promise<{ attempted: number; pushed: number }> {
  const due = (await pendingStatusPushes(deps.db, { limit: opts.limit })).filter((p) => p.attempts < opts.giveUpAfter);
  let pushed = 0;
  for (const p of due) {
    try {
      await pushCatalogStatus(deps, p.certificateNumber, p.status);
      pushed++;
    } catch (err) {
      if (!(err instanceof OutboundError)) throw err;
    }
  }
  return { attempted: due.length, pushed };
}
