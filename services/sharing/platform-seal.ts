import { X509Certificate } from 'node:crypto';
import type { Db } from '../../db/knex';
import { getActiveRoot } from '../../db/trust';
import { listDepartments } from '../../db/org';
import { getActivePlatformSeal, insertPlatformSeal, listPlatformSealCertificates } from '../../db/sharing';
import {
  decryptPrivateKey,
  encryptPrivateKey,
  issueDepartmentSigningCertificate,
  TrustError,
  type SigningCredential,
} from '../trust/pki';
import type { ServiceDeps } from '../deps';

/**
 * The platform's seal (电子证照共享平台, OU `platform`), which signs annotated copies
 * (docs/sharing.md): the platform vouches for the copy and its annotation, the issuing
 * department's own signature inside it for the certificate. Made on first use under the
 * platform root, like certflow's TSA (services/trust/timestamping.ts); a root imported without
 * its key (production) needs the seal imported instead.
 */

export const PLATFORM_SEAL_NAME = '电子证照共享平台';
export const PLATFORM_SEAL_CODE = 'platform';

const cache = new WeakMap<Db, Promise<SigningCredential>>();

export function platformSeal(deps: Pick<ServiceDeps, 'db' | 'masterKey' | 'logger'>): Promise<SigningCredential> {
  let p = cache.get(deps.db);
  if (!p) {
    p = loadOrCreate(deps);
    p.catch(() => cache.delete(deps.db));
    cache.set(deps.db, p);
  }
  return p;
}

async function loadOrCreate(deps: Pick<ServiceDeps, 'db' | 'masterKey' | 'logger'>): Promise<SigningCredential> {
  const existing = await getActivePlatformSeal(deps.db);
  if (existing) {
    return {
      certificatePem: existing.certificatePem,
      chainPem: existing.chainPem,
      privateKeyPem: await decryptPrivateKey(existing.encryptedPrivateKey, deps.masterKey),
    };
  }
  const root = await getActiveRoot(deps.db);
  if (!root?.encryptedPrivateKey)
    throw new TrustError('no platform root with its key: import the platform seal from the real CA');
  const region = (await listDepartments(deps.db))[0]?.regionCode ?? '000000';
  const seal = await issueDepartmentSigningCertificate({
    root: {
      certificatePem: root.certificatePem,
      privateKeyPem: await decryptPrivateKey(root.encryptedPrivateKey, deps.masterKey),
    },
    department: { code: PLATFORM_SEAL_CODE, name: PLATFORM_SEAL_NAME, regionCode: region },
    validityDays: 365 * 3,
  });
  await insertPlatformSeal(deps.db, {
    certificatePem: seal.certificatePem,
    chainPem: seal.chainPem,
    encryptedPrivateKey: await encryptPrivateKey(seal.privateKeyPem, deps.masterKey),
  });
  deps.logger.warn('created the platform seal for annotated copies under the platform root');
  return seal;
}

/** Whether a signer certificate is one of the platform's seals (by the certificate itself, not its name). */
export async function isPlatformSeal(db: Db, certificatePem: string): Promise<boolean> {
  const raw = new X509Certificate(certificatePem).raw;
  return (await listPlatformSealCertificates(db)).some((pem) => new X509Certificate(pem).raw.equals(raw));
}
