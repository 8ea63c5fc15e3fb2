import { pushCatalogStatus, relayCatalogStatuses } from '../services/sharing/catalog-sync';
import type { ActivityDeps } from './index';

/** Catalog status sync (workflows/catalog-status.ts, the expiry sweep): over services/sharing/catalog-sync.ts. */
export function catalogStatusActivities(deps: ActivityDeps) {
  return {
    pushCatalogStatus: (i: { number: string; status: string }) => pushCatalogStatus(deps, i.number, i.status),
    relayCatalogStatuses: (i: { limit: number; giveUpAfter: number }) => relayCatalogStatuses(deps, i),
  };
}
