import { randomUUID } from 'node:crypto';
import type { Db } from '../../db/knex';

export interface BulkSpec {
  count: number;
  status?: string;
  /** valid_until for every row (YYYY-MM-DD), or null for permanent. */
  validUntil: string | null;
  numberPrefix: string;
  sealId: number;
}

/**
 * Inserts well-formed certificate rows (and the applications they belong to) in bulk,
 * straight into the tables — for sweeps and lookups over many rows, not through the workflow.
 */
export async function insertBulkCertificates(db: Db, spec: BulkSpec): Promise<string[]> {
  const numbers: string[] = [];
  const now = new Date();
  for (let start = 0; start < spec.count; start += 500) {
    const apps: Record<string, unknown>[] = [];
    const certs: Record<string, unknown>[] = [];
    for (let i = start; i < Math.min(spec.count, start + 500); i++) {
      const id = randomUUID();
      const number = `${spec.numberPrefix}-330100-2020-${String(i + 1).padStart(7, '0')}-X`;
      numbers.push(number);
      apps.push({
        id, type_code: 'BL', type_version: 1, department: 'market', mode: 'auto-seal', status: 'issued', holder_kind: 'entity',
        holder_name: `企业${i}`, holder_id_hash: `h${i}`.padEnd(64, '0'), holder_id_encrypted: 'x', revision: 1, submitter_type: 'system',
        submitter_id: 'bulk', workflow_id: `bulk-${id}`, certificate_number: number, created_at: now, updated_at: now,
      });
      certs.push({
        number, identifier: `bulk.${number}`, application_id: id, type_code: 'BL', type_version: 1, type_name: '营业执照', department: 'market',
        issuer_name: '市场监督管理局', issuer_code: '11330100CF00000010', region_code: '330100', holder_kind: 'entity', holder_code_type: '001',
        holder_name: `企业${i}`, holder_id_hash: `h${i}`.padEnd(64, '0'), holder_id_encrypted: 'x', face_data: '{}', issued_at: now,
        valid_from: '2020-01-01', valid_until: spec.validUntil, status: spec.status ?? 'valid', status_changed_at: now, pdf_sha256: '0'.repeat(64),
        docx_sha256: '0'.repeat(64), record_sha256: '0'.repeat(64), record: '{}', record_signature: 'x', signer_serial: '01', seal_id: spec.sealId,
        seal_name: '印章', sealed_by: 'bulk', sealed_at: now, created_at: now,
      });
    }
    await db.transaction(async (trx) => {
      await trx.batchInsert('applications', apps, 250);
      await trx.batchInsert('certificates', certs, 250);
    });
  }
  return numbers;
}
