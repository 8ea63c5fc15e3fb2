import { createApiClient, getDepartment } from '../../db/org';
import { sha256Hex } from '../../platform/secrets';
import type { ApiScope } from '../../domain/access';
import type { SharingCondition } from '../../domain/sharing';
import { setTypeSharing } from '../../db/certificate-types';
import { renderQueueActivities, sealingActivities } from '../../activities/sealing';
import { testWarmConverter } from './app';
import type { DbKind } from './databases';
import { issuanceHarness, type IssuanceHarness } from './issuance';
import { createApplication, issue, type NewApplication } from '../integration/sealing/helpers';

/**
 * Sharing between departments (docs/sharing.md) on real parts: the issuance harness (API,
 * worker on the real Temporal dev server, demo org, seals and types) plus certificates issued
 * through the real sealing steps — signed PDFs, records — so annotated copies verify for real.
 * `market` issues; `health` asks and fetches.
 */
export interface SharingHarness extends IssuanceHarness {
  /** Issues a certificate (market's BL by default) through the sealing steps; returns its number. */
  issue(a?: NewApplication & { department?: string }): Promise<string>;
  setSharing(typeCode: string, sharing: SharingCondition): Promise<void>;
  apiClient(department: string, scopes: ApiScope[]): Promise<{ key: string; id: string }>;
}

export async function sharingHarness(kind: DbKind = 'sqlite'): Promise<SharingHarness> {
  const h = await issuanceHarness(kind);
  const converter = testWarmConverter();
  await converter.start();
  const acts = sealingActivities(h.deps);
  const render = renderQueueActivities({ ...h.deps, converter });
  return Object.assign(h, {
    async issue(a: NewApplication & { department?: string } = {}) {
      const id = await createApplication(h.t.db, h.deps.masterKey, a);
      if (a.department) await h.t.db('applications').where({ id }).update({ department: a.department });
      return (await issue({ acts, render }, id)).number;
    },
    async setSharing(typeCode: string, sharing: SharingCondition) {
      await setTypeSharing(h.t.db, typeCode, sharing);
    },
    async apiClient(department: string, scopes: ApiScope[]) {
      const dept = (await getDepartment(h.t.db, department))!;
      const id = `test-${department}-${Math.random().toString(36).slice(2, 8)}`;
      const secret = `secret-${Math.random().toString(36).slice(2)}`;
      await createApiClient(h.t.db, {
        id,
        name: `${department} 业务系统`,
        departmentId: dept.id,
        secretHash: sha256Hex(secret),
        scopes,
      });
      return { key: `${id}.${secret}`, id };
    },
  });
}
