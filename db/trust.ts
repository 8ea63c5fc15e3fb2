import type { Db } from './knex';
import { toIso } from './knex';

/** The platform's trust roots and the departments' seals. Private keys stay encrypted here. */

export interface TrustRootRow {
  id: number;
  name: string;
  certificatePem: string;
  encryptedPrivateKey: string | null;
}

export interface SealRow {
  id: number;
  department: string;
  departmentId: number;
  name: string;
  imageSha256: string;
  certificatePem: string;
  chainPem: string[];
  encryptedPrivateKey: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  active: boolean;
  isDefault: boolean;
}

export async function getActiveRoot(db: Db): Promise<TrustRootRow | undefined> {
  const r = await db('trust_roots').where({ active: true }).orderBy('id', 'desc').first();
  return r
    ? { id: r.id, name: r.name, certificatePem: r.certificate_pem, encryptedPrivateKey: r.encrypted_private_key }
    : undefined;
}

export async function insertRoot(
  db: Db,
  root: { name: string; certificatePem: string; encryptedPrivateKey: string | null },
): Promise<void> {
  await db('trust_roots').insert({
    name: root.name,
    certificate_pem: root.certificatePem,
    encrypted_private_key: root.encryptedPrivateKey,
    active: true,
    created_at: new Date(),
  });
}

function toSeal(r: Record<string, unknown>): SealRow {
  return {
    id: Number(r.id),
    department: r.department as string,
    departmentId: Number(r.department_id),
    name: r.name as string,
    imageSha256: r.image_sha256 as string,
    certificatePem: r.certificate_pem as string,
    chainPem: JSON.parse(r.chain_pem as string) as string[],
    encryptedPrivateKey: r.encrypted_private_key as string,
    serial: r.serial as string,
    notBefore: toIso(r.not_before),
    notAfter: toIso(r.not_after),
    active: Boolean(r.active),
    isDefault: Boolean(r.is_default),
  };
}

const sealQuery = (db: Db) =>
  db('seals as s').join('departments as d', 'd.id', 's.department_id').select('s.*', 'd.code as department');

export async function listSeals(db: Db, departments?: string[]): Promise<SealRow[]> {
  const q = sealQuery(db).orderBy('s.id');
  if (departments) q.whereIn('d.code', departments);
  return (await q).map(toSeal);
}

export async function getSeal(db: Db, id: number): Promise<SealRow | undefined> {
  const r = await sealQuery(db).where('s.id', id).first();
  return r ? toSeal(r) : undefined;
}

export async function getDefaultSeal(db: Db, department: string): Promise<SealRow | undefined> {
  const r = await sealQuery(db).where({ 'd.code': department, 's.active': true, 's.is_default': true }).first();
  return r ? toSeal(r) : undefined;
}

export async function insertSeal(db: Db, s: Omit<SealRow, 'id' | 'department' | 'active'>): Promise<number> {
  return db.transaction(async (trx) => {
    // One default per department: a new default replaces the old one.
    if (s.isDefault) await trx('seals').where({ department_id: s.departmentId }).update({ is_default: false });
    const [id] = await trx('seals').insert({
      department_id: s.departmentId,
      name: s.name,
      image_sha256: s.imageSha256,
      certificate_pem: s.certificatePem,
      chain_pem: JSON.stringify(s.chainPem),
      encrypted_private_key: s.encryptedPrivateKey,
      serial: s.serial,
      not_before: new Date(s.notBefore),
      not_after: new Date(s.notAfter),
      active: true,
      is_default: s.isDefault,
      created_at: new Date(),
    });
    return Number(id);
  });
}

export async function setSealActive(db: Db, id: number, active: boolean): Promise<void> {
  await db('seals')
    .where({ id })
    .update(active ? { active } : { active, is_default: false });
}

/** The public half of the trust material (no private keys), for a backup's keys manifest (services/backup.ts). */
export async function publicTrustMaterial(db: Db) {
  const roots = (await db('trust_roots').orderBy('id').select('id', 'name', 'certificate_pem', 'active')) as {
    id: number;
    name: string;
    certificate_pem: string;
    active: number | boolean;
  }[];
  const seals = (await db('seals')
    .join('departments', 'departments.id', 'seals.department_id')
    .orderBy('seals.id')
    .select(
      'seals.id',
      'departments.code as department',
      'seals.name',
      'seals.serial',
      'seals.certificate_pem',
      'seals.active',
    )) as {
    id: number;
    department: string;
    name: string;
    serial: string;
    certificate_pem: string;
    active: number | boolean;
  }[];
  return {
    trustRoots: roots.map((r) => ({
      id: r.id,
      name: r.name,
      active: Boolean(r.active),
      certificatePem: r.certificate_pem,
    })),
    seals: seals.map((s) => ({
      id: s.id,
      department: s.department,
      name: s.name,
      serial: s.serial,
      active: Boolean(s.active),
      certificatePem: s.certificate_pem,
    })),
  };
}

// ---------------------------------------------------------------- time-stamping and revocation

/**
 * A credential of the platform itself, kept under the root: the time-stamping authority
 * (`tsa_credentials`) and the platform seal that signs annotated copies (`platform_seals`,
 * docs/sharing.md). Both tables have the same shape; the newest active row is the one in use.
 */
export interface PlatformCredentialRow {
  id: number;
  certificatePem: string;
  chainPem: string[];
  encryptedPrivateKey: string;
}
export type PlatformCredentialTable = 'tsa_credentials' | 'platform_seals';

export async function getActivePlatformCredential(
  db: Db,
  table: PlatformCredentialTable,
): Promise<PlatformCredentialRow | undefined> {
  const r = await db(table).where({ active: true }).orderBy('id', 'desc').first();
  return r
    ? {
        id: Number(r.id),
        certificatePem: r.certificate_pem,
        chainPem: JSON.parse(r.chain_pem as string) as string[],
        encryptedPrivateKey: r.encrypted_private_key,
      }
    : undefined;
}

export async function insertPlatformCredential(
  db: Db,
  table: PlatformCredentialTable,
  c: Omit<PlatformCredentialRow, 'id'>,
): Promise<void> {
  await db(table).insert({
    certificate_pem: c.certificatePem,
    chain_pem: JSON.stringify(c.chainPem),
    encrypted_private_key: c.encryptedPrivateKey,
    active: true,
    created_at: new Date(),
  });
}

export type TsaCredentialRow = PlatformCredentialRow;
export const getActiveTsa = (db: Db) => getActivePlatformCredential(db, 'tsa_credentials');
export const insertTsa = (db: Db, t: Omit<TsaCredentialRow, 'id'>) =>
  insertPlatformCredential(db, 'tsa_credentials', t);

export type RevocationReason = 'keyCompromise' | 'superseded';

export interface SealRevocationRow {
  sealId: number;
  serial: string;
  reason: RevocationReason;
  compromisedAt: string | null;
  revokedAt: string;
  revokedBy: string;
  comment: string | null;
}

const toRevocation = (r: Record<string, unknown>): SealRevocationRow => ({
  sealId: Number(r.seal_id),
  serial: r.serial as string,
  reason: r.reason as RevocationReason,
  compromisedAt: r.compromised_at ? toIso(r.compromised_at) : null,
  revokedAt: toIso(r.revoked_at),
  revokedBy: r.revoked_by as string,
  comment: (r.comment as string | null) ?? null,
});

export async function listSealRevocations(db: Db): Promise<SealRevocationRow[]> {
  return (await db('seal_revocations').orderBy('id')).map(toRevocation);
}

/** By certificate serial (hex, any case): what a verifier holding a signature knows. */
export async function findSealRevocation(db: Db, serial: string): Promise<SealRevocationRow | undefined> {
  const r = await db('seal_revocations').where({ serial: serial.toUpperCase() }).first();
  return r ? toRevocation(r) : undefined;
}

/** Revokes once: a second revocation of the same seal returns false and changes nothing. */
export async function insertSealRevocation(db: Db, r: SealRevocationRow): Promise<boolean> {
  return db.transaction(async (trx) => {
    if (await trx('seal_revocations').where({ seal_id: r.sealId }).first('id')) return false;
    await trx('seal_revocations').insert({
      seal_id: r.sealId,
      serial: r.serial.toUpperCase(),
      reason: r.reason,
      compromised_at: r.compromisedAt ? new Date(r.compromisedAt) : null,
      revoked_at: new Date(r.revokedAt),
      revoked_by: r.revokedBy,
      comment: r.comment,
    });
    await trx('seals').where({ id: r.sealId }).update({ active: false, is_default: false });
    return true;
  });
}

// ---------------------------------------------------------------- signed results

export interface SignedCertificateRow {
  signedPdfSha: string;
  recordSha: string;
  signature: string;
}

export async function findSignedCertificate(db: Db, applicationId: string): Promise<SignedCertificateRow | undefined> {
  const r = await db('signed_certificates').where({ application_id: applicationId }).first();
  if (!r) return undefined;
  return { signedPdfSha: r.signed_pdf_sha256, recordSha: r.record_sha256, signature: r.record_signature };
}

/** First writer wins; returns what is stored. Called after the blobs are written. */
export async function saveSignedCertificate(
  db: Db,
  applicationId: string,
  s: SignedCertificateRow,
): Promise<SignedCertificateRow> {
  await db('signed_certificates')
    .insert({
      application_id: applicationId,
      signed_pdf_sha256: s.signedPdfSha,
      record_sha256: s.recordSha,
      record_signature: s.signature,
      created_at: new Date(),
    })
    .onConflict('application_id')
    .ignore();
  return (await findSignedCertificate(db, applicationId))!;
}
