import type { Db } from './knex';
import { toIso } from './knex';
import { getActivePlatformCredential, insertPlatformCredential, type PlatformCredentialRow } from './trust';

/**
 * Sharing between departments (migration 018, docs/sharing.md): the platform's seal that signs
 * annotated copies, and the annotated copies (加注件) handed out by fetch.
 */

// ------------------------------------------------------------------ the platform's seal

export type PlatformSealRow = PlatformCredentialRow;
export const getActivePlatformSeal = (db: Db) => getActivePlatformCredential(db, 'platform_seals');
export const insertPlatformSeal = (db: Db, s: Omit<PlatformSealRow, 'id'>) =>
  insertPlatformCredential(db, 'platform_seals', s);

// ------------------------------------------------------------------ annotated copies

export interface AnnotatedCopy {
  id: string;
  certificateNumber: string;
  originalSha256: string;
  originalLength: number;
  copySha256: string;
  department: string;
  apiClientId: string | null;
  fetchedBy: string;
  basis: 'unconditional' | 'grant';
  grantId: string | null;
  matter: string;
  reason: string;
  validUntil: string;
  createdAt: string;
}

type CopyRecord = {
  id: string;
  certificate_number: string;
  original_sha256: string;
  original_length: number | string;
  copy_sha256: string;
  department: string;
  api_client_id: string | null;
  fetched_by: string;
  basis: string;
  grant_id: string | null;
  matter: string;
  reason: string;
  valid_until: unknown;
  created_at: unknown;
};

function toCopy(r: CopyRecord): AnnotatedCopy {
  return {
    id: r.id,
    certificateNumber: r.certificate_number,
    originalSha256: r.original_sha256,
    originalLength: Number(r.original_length),
    copySha256: r.copy_sha256,
    department: r.department,
    apiClientId: r.api_client_id,
    fetchedBy: r.fetched_by,
    basis: r.basis as AnnotatedCopy['basis'],
    grantId: r.grant_id,
    matter: r.matter,
    reason: r.reason,
    validUntil: toIso(r.valid_until),
    createdAt: toIso(r.created_at),
  };
}

export async function insertAnnotatedCopy(db: Db, c: AnnotatedCopy): Promise<void> {
  await db('annotated_copies').insert({
    id: c.id,
    certificate_number: c.certificateNumber,
    original_sha256: c.originalSha256,
    original_length: c.originalLength,
    copy_sha256: c.copySha256,
    department: c.department,
    api_client_id: c.apiClientId,
    fetched_by: c.fetchedBy,
    basis: c.basis,
    grant_id: c.grantId,
    matter: c.matter,
    reason: c.reason,
    valid_until: new Date(c.validUntil),
    created_at: new Date(c.createdAt),
  });
}

export async function getAnnotatedCopy(db: Db, id: string): Promise<AnnotatedCopy | undefined> {
  const r = (await db('annotated_copies').where({ id }).first()) as CopyRecord | undefined;
  return r ? toCopy(r) : undefined;
}

/** Every platform seal certificate ever used, active or not: old copies stay verifiable. */
export async function listPlatformSealCertificates(db: Db): Promise<string[]> {
  const rows = (await db('platform_seals').select('certificate_pem')) as { certificate_pem: string }[];
  return rows.map((r) => r.certificate_pem);
}

// ------------------------------------------------------------------ grants between departments

export interface DepartmentGrant {
  id: string;
  certificateNumber: string;
  typeCode: string;
  /** The issuing department and the department granted. */
  issuer: string;
  department: string;
  apiClientId: string | null;
  matter: string;
  validUntil: string;
  status: string;
  grantedBy: string;
  createdAt: string;
}

/**
 * Grants (the holders' and those approved access requests made) received by these departments,
 * or issued on certificates of these departments (docs/sharing.md).
 */
export async function listDepartmentGrants(
  db: Db,
  f: { box: 'received' | 'issued'; departments: string[]; limit: number },
): Promise<DepartmentGrant[]> {
  if (f.departments.length === 0) return [];
  const q = db('holder_grants as g')
    .join('certificates as c', 'c.number', 'g.certificate_number')
    .select('g.*', 'c.type_code', 'c.department as issuer')
    .orderBy('g.created_at', 'desc')
    .limit(f.limit);
  q.whereIn(f.box === 'received' ? 'g.department' : 'c.department', f.departments);
  const rows = (await q) as Record<string, unknown>[];
  return rows.map((r) => ({
    id: r.id as string,
    certificateNumber: r.certificate_number as string,
    typeCode: r.type_code as string,
    issuer: r.issuer as string,
    department: r.department as string,
    apiClientId: (r.api_client_id as string | null) ?? null,
    matter: r.matter as string,
    validUntil: toIso(r.valid_until as Date),
    // A grant past its end counts as expired even before its timer fired (domain/sharing.ts).
    status:
      r.status === 'active' && toIso(r.valid_until as Date) <= new Date().toISOString()
        ? 'expired'
        : (r.status as string),
    grantedBy: r.granted_by as string,
    createdAt: toIso(r.created_at as Date),
  }));
}
