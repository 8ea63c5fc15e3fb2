import type { ActivityDeps } from './index';
import { mappingFailures } from './failures';
import { heartbeat, inActivity } from './context';
import { importSteps } from '../services/imports/bulk';

/**
 * The bulk import workflow's activities (workflows/imports.ts): Temporal adapters over
 * services/imports/bulk.ts. They heartbeat when they start and once the file is read, so a
 * worker killed mid-batch is noticed within the heartbeat timeout and the batch retried.
 */
export function importActivities(deps: ActivityDeps) {
  const beat = () => {
    if (inActivity()) heartbeat();
  };
  const steps = importSteps(deps, beat);
  return mappingFailures({
    prepareImport: (importId: string) => (beat(), steps.prepareImport(importId)),
    importBatch: (input: Parameters<typeof steps.importBatch>[0]) => (beat(), steps.importBatch(input)),
    finishImport: (input: Parameters<typeof steps.finishImport>[0]) => (beat(), steps.finishImport(input)),
  });
}
