import type { Db } from './knex';
import { locked, toIso, withDeadlockRetry, type DbTime } from './knex';

/**
 * Certificate numbers (docs/standards.md): one allocation per application, taken from the
 * department's counter in a transaction that holds the counter row, so no serial is given twice
 * and a retried sealing finds the number it was given before.
 */

/** What allocation needs besides the serial, worked out before the transaction. */
export interface AllocationPlan {
  typeCode: string;
  regionCode: string;
  year: number;
  issuerName: string;
  issuerCode: string;
  issuerCodePlaceholder: boolean;
  sealId: number;
  allocatedAt: Date;
  issuedOn: string;
  format(serial: number): { number: string; identifier: string };
}

/** A number taken for an application: the plan it was taken under, plus what the counter gave. */
export interface Allocation extends Omit<AllocationPlan, 'format'> {
  applicationId: string;
  number: string;
  identifier: string;
  serial: number;
}

/** A row of `certificate_allocations` as the drivers return it. */
interface AllocationRecord {
  application_id: string;
  number: string;
  identifier: string;
  type_code: string;
  region_code: string;
  year: number | string;
  serial: number | string;
  issuer_name: string;
  issuer_code: string;
  issuer_code_placeholder: boolean | number;
  seal_id: number | string;
  allocated_at: DbTime;
  issued_on: string;
}

function toAllocation(r: AllocationRecord): Allocation {
  return {
    applicationId: r.application_id as string,
    number: r.number as string,
    identifier: r.identifier as string,
    typeCode: r.type_code as string,
    regionCode: r.region_code as string,
    year: Number(r.year),
    serial: Number(r.serial),
    issuerName: r.issuer_name as string,
    issuerCode: r.issuer_code as string,
    issuerCodePlaceholder: Boolean(r.issuer_code_placeholder),
    sealId: Number(r.seal_id),
    allocatedAt: new Date(toIso(r.allocated_at)),
    issuedOn: r.issued_on as string,
  };
}

export async function findAllocation(db: Db, applicationId: string): Promise<Allocation | undefined> {
  const r = (await db('certificate_allocations').where({ application_id: applicationId }).first()) as
    AllocationRecord | undefined;
  return r ? toAllocation(r) : undefined;
}

/**
 * Takes the next serial for (type, region, year) and records the number on the application,
 * all in one transaction; an application that already has a number gets that one back.
 *
 * The serial is taken with one atomic upsert (`INSERT … ON DUPLICATE KEY UPDATE last_serial =
 * last_serial + 1` / SQLite's `ON CONFLICT … DO UPDATE`), which leaves the counter row
 * exclusively locked until commit: concurrent allocations queue on that row and each reads
 * its own increment. (INSERT IGNORE followed by UPDATE would take a shared lock first and
 * deadlock under concurrency.) A rolled-back allocation rolls its increment back: no gaps.
 */
export async function allocateNumber(
  db: Db,
  applicationId: string,
  plan: AllocationPlan,
): Promise<{ allocation: Allocation; created: boolean }> {
  return withDeadlockRetry(() =>
    db.transaction(async (trx) => {
      const app = await locked(
        db,
        trx('applications').where({ id: applicationId }).select('id', 'certificate_number').first(),
      );
      if (!app) throw new Error(`no application ${applicationId}`);
      const existing = (await trx('certificate_allocations').where({ application_id: applicationId }).first()) as
        AllocationRecord | undefined;
      if (existing) return { allocation: toAllocation(existing), created: false };

      const key = { type_code: plan.typeCode, region_code: plan.regionCode, year: plan.year };
      await trx('certificate_numbers')
        .insert({ ...key, last_serial: 1 })
        .onConflict(['type_code', 'region_code', 'year'])
        .merge({ last_serial: trx.raw('last_serial + 1') });
      const counter = (await trx('certificate_numbers').where(key).first('last_serial')) as {
        last_serial: number | string;
      };
      const serial = Number(counter.last_serial);
      const { number, identifier } = plan.format(serial);
      const row = {
        application_id: applicationId,
        number,
        identifier,
        ...key,
        serial,
        issuer_name: plan.issuerName,
        issuer_code: plan.issuerCode,
        issuer_code_placeholder: plan.issuerCodePlaceholder,
        seal_id: plan.sealId,
        allocated_at: plan.allocatedAt,
        issued_on: plan.issuedOn,
      };
      await trx('certificate_allocations').insert(row);
      await trx('applications')
        .where({ id: applicationId })
        .update({ certificate_number: number, updated_at: new Date() });
      return { allocation: toAllocation(row), created: true };
    }),
  );
}
