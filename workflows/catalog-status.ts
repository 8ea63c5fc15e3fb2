import { proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { Activities } from '../activities';

/**
 * Pushes one status change to the external catalog (docs/sharing.md, "Catalog status sync"),
 * workflow id `catalog-status-<status>-<number>`: a few retries with back-off; what still fails
 * stays recorded on its row, the hourly sweep tries it again, and a sealing officer sees it under
 * GET /catalog/status-failed and re-pushes it.
 */

const { pushCatalogStatus } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 4 },
});

export async function catalogStatusWorkflow(input: { number: string; status: string }): Promise<boolean> {
  setCurrentDetails(`telling the catalog that ${input.number} is ${input.status}`);
  try {
    await pushCatalogStatus(input);
    return true;
  } catch {
    return false; // every attempt is on the row (catalog_status_pushes) for the sealing officers' list
  }
}
