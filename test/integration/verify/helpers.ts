import { X509Certificate } from 'node:crypto';
import type { Db } from '../../../db/knex';
import {
  createDevelopmentRoot,
  encryptPrivateKey,
  issueDepartmentSigningCertificate,
  type SigningCredential,
} from '../../../services/trust/pki';
import { getDefaultSeal, insertSeal } from '../../../db/trust';
import { getDepartment } from '../../../db/org';
import type { CheckId, CheckStatus, VerificationReport } from '../../../services/verify';

/** Check id → status, so a test can assert the whole picture in one deepEqual. */
export function outcomes(report: VerificationReport): Partial<Record<CheckId, CheckStatus>> {
  return Object.fromEntries(report.checks.map((c) => [c.id, c.status]));
}

/** `expected` with every listed check passed except the ones named. */
export function allPassedExcept(
  ids: CheckId[],
  except: Partial<Record<CheckId, CheckStatus>>,
): Partial<Record<CheckId, CheckStatus>> {
  return Object.fromEntries(ids.map((id) => [id, except[id] ?? 'passed']));
}

// Signatures certflow makes carry a timestamp (checked as `timestamp`); every signer is checked for revocation.
export const PDF_CHECKS: CheckId[] = [
  'integrity',
  'pdfSignature',
  'recordSignature',
  'chain',
  'signerValidity',
  'signerProfile',
  'timestamp',
  'revocation',
  'issuer',
  'pdfHash',
  'status',
];
export const RECORD_CHECKS: CheckId[] = [
  'recordSignature',
  'chain',
  'signerValidity',
  'signerProfile',
  'timestamp',
  'revocation',
  'issuer',
  'pdfHash',
  'record',
  'status',
];
export const NUMBER_CHECKS: CheckId[] = [
  'recordSignature',
  'chain',
  'signerValidity',
  'signerProfile',
  'timestamp',
  'revocation',
  'issuer',
  'pdfHash',
  'status',
];
/** The same lists for a signature made without a timestamp (by a test, not by certflow). */
export const untimed = (ids: CheckId[]) => ids.filter((id) => id !== 'timestamp');

/**
 * A root CA that is not the platform's, with a market signing certificate under it: same
 * department code, same names, document-signing profile — only the chain is wrong.
 */
export async function foreignMarketCredential(): Promise<SigningCredential> {
  const root = await createDevelopmentRoot({ commonName: 'certflow Development Root CA', organization: 'certflow' });
  return issueDepartmentSigningCertificate({
    root,
    department: { code: 'market', name: '市场监督管理局', regionCode: '330100' },
    validityDays: 365,
  });
}

/**
 * Makes `cred` market's default seal (as if someone slipped it in); returns a function that
 * restores the old default.
 */
export async function useSealForMarket(
  db: Db,
  masterKey: Buffer,
  cred: SigningCredential,
): Promise<() => Promise<void>> {
  const market = (await getDepartment(db, 'market'))!;
  const original = (await getDefaultSeal(db, 'market'))!;
  const cert = new X509Certificate(cred.certificatePem);
  const id = await insertSeal(db, {
    departmentId: market.id,
    name: '外来印章',
    imageSha256: original.imageSha256,
    certificatePem: cred.certificatePem,
    chainPem: cred.chainPem,
    encryptedPrivateKey: await encryptPrivateKey(cred.privateKeyPem, masterKey),
    serial: cert.serialNumber,
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
    isDefault: true,
  });
  return async () => {
    await db('seals').where({ id }).update({ is_default: false });
    await db('seals').where({ id: original.id }).update({ is_default: true });
  };
}
