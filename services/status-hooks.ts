import type { ServiceDeps } from './deps';
import { invalidateCertificate } from '../db/certificate-cache';
import type { CertificateStatus } from '../domain/certificate-record';
import { setCredentialStatus } from './credentials/issue';
import { recordCatalogStatusChange } from './sharing/catalog-sync';

/**
 * Called after a status change of a certificate has been committed — superseded, suspended,
 * reinstated (docs/lifecycle.md). It drops the cached copy, so verification sees the change at
 * once, sets the certificate's bits in its department's credential status lists (docs/trust.md:
 * superseded counts as revoked — it never comes back) and records the push to the external
 * catalog, which the hourly sweep relays with retries (docs/sharing.md). Safe to call more than once.
 */
export interface StatusChange {
  number: string;
  status: CertificateStatus;
  reason: string | null;
}

export async function statusChanged(
  deps: Pick<ServiceDeps, 'cache' | 'logger' | 'db'>,
  change: StatusChange,
): Promise<void> {
  if (change.status === 'superseded') await setCredentialStatus(deps, change.number, 'revocation', true);
  if (change.status === 'suspended') await setCredentialStatus(deps, change.number, 'suspension', true);
  if (change.status === 'valid') await setCredentialStatus(deps, change.number, 'suspension', false);
  await recordCatalogStatusChange(deps.db, [change.number], change.status);
  await invalidateCertificate(deps.cache, change.number);
  deps.logger.info({ number: change.number, status: change.status }, 'certificate status changed');
}
