import { randomBytes } from 'node:crypto';
import type { Db } from '../../db/knex';
import { createHolderCrypto } from '../../platform/holder-crypto';
import type { CertificateStatus } from '../../domain/certificate-record';
import {
  applicationRow,
  certificateRow,
  entityId,
  governmentCreditCode,
  holderName,
  type Department,
  type TypeSpec,
} from '../../bench/catalog-data';

export interface BulkSpec {
  count: number;
  status?: CertificateStatus;
  /** valid_until for every row (YYYY-MM-DD), or null for permanent. */
  validUntil: string | null;
  sealId: number;
}

const MARKET: Department = {
  code: 'market',
  name: '市场监督管理局',
  regionCode: '330100',
  creditCode: governmentCreditCode('330100', 1),
};
const LICENCE: TypeSpec = { code: 'BL', name: '营业执照', department: 'market', holderKind: 'entity', months: null };
const holders = createHolderCrypto(randomBytes(32));
/** Serials run on across calls, so every row's number is unique. */
let nextSerial = 1;

/**
 * Inserts well-formed certificate rows (the catalog bench's rows, bench/catalog-data.ts) and the
 * applications they belong to, straight into the tables — for sweeps over many rows, not through
 * the workflow. Every row gets this spec's end date and status.
 */
export async function insertBulkCertificates(db: Db, spec: BulkSpec): Promise<string[]> {
  const numbers: string[] = [];
  const issuedAt = new Date('2020-01-02T02:00:00Z');
  for (let start = 0; start < spec.count; start += 500) {
    const certs: Record<string, unknown>[] = [];
    for (let i = start; i < Math.min(spec.count, start + 500); i++) {
      const serial = nextSerial++;
      const holder = { kind: 'entity' as const, id: entityId(serial), name: holderName('entity', serial) };
      const row = certificateRow(
        {
          type: LICENCE,
          department: MARKET,
          region: MARKET.regionCode,
          holder,
          issuedAt,
          status: spec.status ?? 'valid',
          serial,
          sealId: spec.sealId,
        },
        holders,
      );
      certs.push({ ...row, valid_until: spec.validUntil });
      numbers.push(row.number as string);
    }
    await db.transaction(async (trx) => {
      await trx.batchInsert('applications', certs.map(applicationRow), 250);
      await trx.batchInsert('certificates', certs, 250);
    });
  }
  return numbers;
}
