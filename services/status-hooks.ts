import type { ServiceDeps } from './deps';
import { invalidateCertificate } from '../db/certificate-cache';
import type { CertificateStatus } from '../domain/certificate-record';

/**
 * Called after a status change of a certificate has been committed — superseded, suspended,
 * reinstated (docs/lifecycle.md). It drops the cached copy, so verification sees the change at
 * once, and is the one place where the catalog is to be told of status changes: the catalog
 * status push (being built apart) hooks in here. It must stay safe to call more than once.
 */
export interface StatusChange {
  number: string;
  status: CertificateStatus;
  reason: string | null;
}

export async function statusChanged(deps: Pick<ServiceDeps, 'cache' | 'logger'>, change: StatusChange): Promise<void> {
  await invalidateCertificate(deps.cache, change.number);
  deps.logger.info({ number: change.number, status: change.status }, 'certificate status changed');
}
