import type { Knex } from 'knex';
import type { Db } from './knex';
import { appendAudit, type AuditInput } from './audit';
import { withDeadlockRetry } from './knex';
import { attachmentRows, raiseCounters, takeSerials, type Attachment } from './imports';

/**
 * One certificate made elsewhere, taken in through `POST /imported-certificates` (docs/import.md):
 * registered as it was, or given a number before the sealing pipeline makes a certflow rendition.
 */

export interface NumberPlan {
  /** Kept from the caller; absent: allocated. */
  number?: string;
  identifier?: string;
  typeCode: string;
  regionCode: string;
  year: number;
  format(serial: number): { number: string; identifier: string };
}

export type Taken =
  { ok: true; number: string; identifier: string; serial?: number } | { ok: false; field: 'number' | 'identifier' };

/** Whether a kept number or identifier is free: neither a certificate nor an allocation has it. */
async function free(trx: Knex.Transaction, plan: NumberPlan): Promise<'number' | 'identifier' | undefined> {
  for (const field of ['number', 'identifier'] as const) {
    const value = plan[field];
    if (!value) continue;
    if (await trx('certificates').where(field, value).first('id')) return field;
    if (await trx('certificate_allocations').where(field, value).first('application_id')) return field;
  }
  return undefined;
}

async function numberFor(trx: Knex.Transaction, plan: NumberPlan): Promise<Taken> {
  const clash = await free(trx, plan);
  if (clash) return { ok: false, field: clash };
  if (plan.number) await raiseCounters(trx, [plan.number]);
  if (plan.number && plan.identifier) return { ok: true, number: plan.number, identifier: plan.identifier };
  const serial = await takeSerials(trx, { typeCode: plan.typeCode, regionCode: plan.regionCode, year: plan.year }, 1);
  const made = plan.format(serial);
  return { ok: true, number: plan.number ?? made.number, identifier: plan.identifier ?? made.identifier, serial };
}

/**
 * Registers a certificate as it was: its `applications` row (mode `import`), the face data
 * revision, the certificate (origin `imported`), the original file as attachments and the audit
 * entry — all in one transaction, or nothing when a kept number or identifier is taken.
 */
export async function storeImportedCertificate(
  db: Db,
  c: {
    plan: NumberPlan;
    application: Record<string, unknown>;
    faceData: string;
    certificate: Record<string, unknown>;
    attachments: Attachment[];
    audit: Omit<AuditInput, 'outcome' | 'object'>;
  },
  masterKey: Buffer,
): Promise<Taken> {
  return withDeadlockRetry(() =>
    db.transaction(async (trx) => {
      const taken = await numberFor(trx, c.plan);
      if (!taken.ok) return taken;
      const appId = c.application.id as string;
      const now = c.application.created_at as Date;
      await trx('applications').insert({ ...c.application, certificate_number: taken.number });
      await trx('application_revisions').insert({
        application_id: appId,
        revision: 1,
        face_data: c.faceData,
        created_by: c.application.submitter_name ?? c.application.submitter_id,
        created_at: now,
      });
      await trx('certificates').insert({
        ...c.certificate,
        number: taken.number,
        identifier: taken.identifier,
        application_id: appId,
      });
      const attachments = attachmentRows(appId, c.attachments, now);
      if (attachments.length) await trx('certificate_attachments').insert(attachments);
      await appendAudit(
        trx,
        { ...c.audit, outcome: 'success', object: { type: 'certificate', id: taken.number } },
        masterKey,
      );
      return taken;
    }),
  );
}

/**
 * For a resealed import: the number (kept, or allocated) fixed on the application before its
 * issuance workflow starts, so the pipeline's allocation step finds it and keeps it
 * (services/issuance/sealing.ts), with the original file as attachments.
 */
export async function reserveImportedNumber(
  db: Db,
  applicationId: string,
  c: {
    plan: NumberPlan;
    allocation: {
      issuerName: string;
      issuerCode: string;
      issuerCodePlaceholder: boolean;
      sealId: number;
      allocatedAt: Date;
      issuedOn: string;
    };
    attachments: Attachment[];
  },
): Promise<Taken> {
  return withDeadlockRetry(() =>
    db.transaction(async (trx) => {
      const existing = (await trx('certificate_allocations').where({ application_id: applicationId }).first()) as
        { number: string; identifier: string } | undefined;
      if (existing) return { ok: true, number: existing.number, identifier: existing.identifier };
      const taken = await numberFor(trx, c.plan);
      if (!taken.ok) return taken;
      const a = c.allocation;
      await trx('certificate_allocations').insert({
        application_id: applicationId,
        number: taken.number,
        identifier: taken.identifier,
        type_code: c.plan.typeCode,
        region_code: c.plan.regionCode,
        year: c.plan.year,
        serial: taken.serial ?? 0,
        issuer_name: a.issuerName,
        issuer_code: a.issuerCode,
        issuer_code_placeholder: a.issuerCodePlaceholder,
        seal_id: a.sealId,
        allocated_at: a.allocatedAt,
        issued_on: a.issuedOn,
      });
      await trx('applications')
        .where({ id: applicationId })
        .update({ certificate_number: taken.number, updated_at: a.allocatedAt });
      const attachments = attachmentRows(applicationId, c.attachments, a.allocatedAt);
      if (attachments.length) await trx('certificate_attachments').insert(attachments);
      return taken;
    }),
  );
}
