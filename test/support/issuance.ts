import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createFileBlobStore } from '../../platform/blobs';
import type { TestApp } from './app';
import { startTestApp, testDeps, testWarmConverter } from './app';
import { createTestDatabase, type DbKind, type TestDatabase } from './databases';
import { startWorker, temporalEnv, type RunningWorker } from './temporal';
import { seedDemo, seedDemoTypes, DEMO_TYPES } from '../../db/seed-demo';
import { DEMO_LICENCE } from '../../api/schemas/submission';
import { ensureDevelopmentTrust } from '../../services/trust/seals';
import { createActivities, createRenderActivities, type ActivityDeps } from '../../activities';
import { createType, setTypeStatus } from '../../db/certificate-types';
import { getDepartment } from '../../db/org';
import type { ApprovalStep } from '../../domain/certificate-type';

/** A submission that passes the BL (营业执照) type: the demo company's licence, as /openapi.json shows it. */
export const LICENCE = DEMO_LICENCE;

export interface IssuanceHarness {
  t: TestDatabase;
  /** Where the blob store keeps its files, to check that nothing is left over. */
  blobDir: string;
  deps: ActivityDeps;
  app: TestApp;
  worker: RunningWorker;
  /** The `<queue>-render` worker with the warm LibreOffice pool. */
  renderWorker: RunningWorker;
  /** Replaces the worker (same task queue), as after a crash and restart. */
  restartWorker(): Promise<void>;
  close(): Promise<void>;
}

/** A database with the demo org, seals and types, a worker on its own queue, and the API. */
export async function issuanceHarness(kind: DbKind = 'sqlite'): Promise<IssuanceHarness> {
  const t = await createTestDatabase(kind);
  const blobDir = fs.mkdtempSync(path.join(os.tmpdir(), 'certflow-issuance-blobs-'));
  const deps = testDeps(t.db, { blobs: createFileBlobStore(blobDir) });
  await seedDemo(t.db, 'certflow-demo');
  await ensureDevelopmentTrust(deps);
  await seedDemoTypes(t.db, deps.blobs);
  const env = await temporalEnv();
  const worker = await startWorker(createActivities(deps));
  const h: IssuanceHarness = {
    t,
    blobDir,
    deps,
    worker,
    renderWorker: await startWorker(createRenderActivities({ ...deps, converter: testWarmConverter() }), {
      taskQueue: `${worker.taskQueue}-render`,
      activitiesOnly: true,
    }),
    app: undefined as unknown as TestApp,
    async restartWorker() {
      await h.worker.stop();
      h.worker = await startWorker(createActivities(deps), { taskQueue: h.worker.taskQueue });
    },
    async close() {
      await h.app?.close();
      await h.worker.stop();
      await h.renderWorker.stop();
      await t.drop();
    },
  };
  h.app = await startTestApp({
    db: t.db,
    temporal: env.client,
    deps: { ...deps, config: { ...deps.config, temporal: { ...deps.config.temporal, taskQueue: h.worker.taskQueue } } },
  });
  return h;
}

/** A published copy of BL under another code, with its own approval chain. */
export async function licenceTypeWithChain(h: IssuanceHarness, code: string, approvalChain: ApprovalStep[]) {
  const bl = DEMO_TYPES[0]!;
  const dept = (await getDepartment(h.t.db, 'market'))!;
  const template = await h.t
    .db('certificate_type_versions as v')
    .join('certificate_types as t', 't.id', 'v.type_id')
    .where('t.code', 'BL')
    .first('v.template_sha256');
  await createType(h.t.db, {
    code,
    departmentId: dept.id,
    definition: { ...bl.definition, approvalChain },
    templateSha256: template.template_sha256,
    createdBy: 'test',
  });
  await setTypeStatus(h.t.db, code, 'published', 1);
}

export async function json<T = Record<string, unknown>>(r: Response, status: number): Promise<T> {
  const text = await r.text();
  assert.equal(r.status, status, text);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Polls the application until its status is one of the wanted ones. */
export async function waitForStatus(
  app: TestApp,
  token: string,
  id: string,
  wanted: string | string[],
  timeoutMs = 20_000,
) {
  const want = Array.isArray(wanted) ? wanted : [wanted];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const a = (await (await app.fetch(`/api/v1/applications/${id}`, { token })).json()) as {
      status: string;
      currentStep: { taskId: number } | null;
    };
    if (want.includes(a.status)) return a;
    if (Date.now() > deadline) throw new Error(`application ${id} stayed ${a.status}, wanted ${want.join('/')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Polls until the application waits on a step (or the given task) and returns its task id. */
export async function waitForTask(app: TestApp, token: string, id: string, notTask?: number): Promise<number> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const a = (await (await app.fetch(`/api/v1/applications/${id}`, { token })).json()) as {
      currentStep: { taskId: number } | null;
    };
    if (a.currentStep && a.currentStep.taskId !== notTask) return a.currentStep.taskId;
    if (Date.now() > deadline) throw new Error(`application ${id} has no open step`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
