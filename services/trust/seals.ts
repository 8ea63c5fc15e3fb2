import fs from 'node:fs';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import type { Db } from '../../db/knex';
import type { BlobStore } from '../../platform/blobs';
import type { Logger } from '../../platform/logger';
import { getActiveRoot, getDefaultSeal, getSeal, insertRoot, insertSeal, type SealRow } from '../../db/trust';
import { listDepartments, type Department } from '../../db/org';
import {
  createDevelopmentRoot,
  decryptPrivateKey,
  encryptPrivateKey,
  importPem,
  importPkcs12,
  issueDepartmentSigningCertificate,
  TrustError,
  type RootCa,
  type SigningCredential,
} from './pki';

/**
 * Seals (电子印章): a department's seal image plus its signing certificate and private key.
 * Outside production the platform makes itself a development root CA and a seal for each
 * department on first start; in production the root is imported and seals are imported
 * from the real CA's PEM or PKCS#12 files. Keys are encrypted with the master key at rest.
 */

const TEMPLATES_DIR = path.resolve(__dirname, '..', '..', 'templates');
const DEV_ROOT_NAME = 'certflow Development Root CA';

export interface TrustDeps {
  db: Db;
  blobs: BlobStore;
  masterKey: Buffer;
  logger: Logger;
  /** PUBLIC_URL: new certificates name the CRL under it (services/trust/timestamping.ts). */
  publicUrl?: string;
}

export async function rootCertificatePem(db: Db): Promise<string | undefined> {
  return (await getActiveRoot(db))?.certificatePem;
}

async function developmentRoot(deps: TrustDeps): Promise<RootCa> {
  const existing = await getActiveRoot(deps.db);
  if (existing) {
    if (!existing.encryptedPrivateKey)
      throw new TrustError('the platform root was imported without its key: import seals from the real CA');
    return {
      certificatePem: existing.certificatePem,
      privateKeyPem: await decryptPrivateKey(existing.encryptedPrivateKey, deps.masterKey),
    };
  }
  const root = await createDevelopmentRoot({ commonName: DEV_ROOT_NAME, organization: 'certflow', validityYears: 20 });
  await insertRoot(deps.db, {
    name: DEV_ROOT_NAME,
    certificatePem: root.certificatePem,
    encryptedPrivateKey: await encryptPrivateKey(root.privateKeyPem, deps.masterKey),
  });
  deps.logger.warn('created a DEVELOPMENT root CA: certificates it signs are for testing only');
  return root;
}

/** The sample seal artwork shipped for the demo departments, or a generic one. */
function sampleSealImage(department: string): Buffer {
  const own = path.join(TEMPLATES_DIR, 'seals', `${department}.png`);
  return fs.readFileSync(fs.existsSync(own) ? own : path.join(TEMPLATES_DIR, 'seals', 'market.png'));
}

async function storeSeal(
  deps: TrustDeps,
  department: Department,
  name: string,
  image: Buffer,
  cred: SigningCredential,
  isDefault: boolean,
) {
  const cert = new X509Certificate(cred.certificatePem);
  return insertSeal(deps.db, {
    departmentId: department.id,
    name,
    imageSha256: await deps.blobs.put(image),
    certificatePem: cred.certificatePem,
    chainPem: cred.chainPem,
    encryptedPrivateKey: await encryptPrivateKey(cred.privateKeyPem, deps.masterKey),
    serial: cert.serialNumber,
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
    isDefault,
  });
}

/** A development seal for a department, signed by the development root. */
export async function createDevelopmentSeal(
  deps: TrustDeps,
  department: Department,
  opts: { name?: string; image?: Buffer; isDefault?: boolean } = {},
): Promise<number> {
  const root = await developmentRoot(deps);
  const crlUrl = deps.publicUrl ? `${deps.publicUrl}/api/v1/trust/crl.crl` : undefined;
  const cred = await issueDepartmentSigningCertificate({ root, department, validityDays: 365 * 3, crlUrl });
  return storeSeal(
    deps,
    department,
    opts.name ?? `${department.name}电子印章`,
    opts.image ?? sampleSealImage(department.code),
    cred,
    opts.isDefault ?? true,
  );
}

/** Production: a seal whose certificate and key come from the real CA (PEM or PKCS#12). */
export async function importSeal(
  deps: TrustDeps,
  department: Department,
  input: { name: string; image: Buffer; isDefault: boolean } & (
    { certificatePem: string; privateKeyPem: string; chainPem?: string } | { pkcs12: Buffer; password: string }
  ),
): Promise<{ id: number; warnings: string[] }> {
  const rootPem = await rootCertificatePem(deps.db);
  if (!rootPem) throw new TrustError('no platform root is configured');
  const cred =
    'pkcs12' in input
      ? await importPkcs12(input.pkcs12, input.password, { trustedRootPem: rootPem })
      : importPem({
          certificatePem: input.certificatePem,
          privateKeyPem: input.privateKeyPem,
          chainPem: input.chainPem,
          trustedRootPem: rootPem,
        });
  const subjectOu = new X509Certificate(cred.certificatePem).subject.match(/^OU=(.*)$/m)?.[1];
  if (subjectOu && subjectOu !== department.code) {
    throw new TrustError(`the certificate belongs to department ${subjectOu}, not ${department.code}`);
  }
  return {
    id: await storeSeal(deps, department, input.name, input.image, cred, input.isDefault),
    warnings: cred.warnings,
  };
}

/** First start outside production: a development root and a default seal for every department that lacks one. */
export async function ensureDevelopmentTrust(deps: TrustDeps): Promise<void> {
  for (const department of await listDepartments(deps.db)) {
    if (!(await getDefaultSeal(deps.db, department.code))) {
      await createDevelopmentSeal(deps, department);
      deps.logger.info({ department: department.code }, 'created a development seal');
    }
  }
}

/** What the sealing step needs: the key (decrypted only in memory), certificate chain and seal image. */
export async function loadSealForSigning(
  deps: Pick<TrustDeps, 'db' | 'blobs' | 'masterKey'>,
  seal: SealRow,
): Promise<{ credential: SigningCredential; image: Buffer; seal: SealRow }> {
  return {
    credential: {
      privateKeyPem: await decryptPrivateKey(seal.encryptedPrivateKey, deps.masterKey),
      certificatePem: seal.certificatePem,
      chainPem: seal.chainPem,
    },
    image: await deps.blobs.get(seal.imageSha256),
    seal,
  };
}

export async function resolveSeal(db: Db, department: string, sealId: number | null): Promise<SealRow> {
  const seal = sealId ? await getSeal(db, sealId) : await getDefaultSeal(db, department);
  if (!seal || !seal.active)
    throw new TrustError(
      sealId ? `seal ${sealId} is not active` : `department ${department} has no active default seal`,
    );
  if (seal.department !== department)
    throw new TrustError(`seal ${seal.id} belongs to ${seal.department}, not ${department}`);
  return seal;
}
