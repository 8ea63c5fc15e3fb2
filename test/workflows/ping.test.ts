import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { forEachDatabase } from '../support/databases';
import { startWorker, temporalEnv } from '../support/temporal';
import { createActivities } from '../../activities';
import { testDeps } from '../support/app';
import { pingStateQuery, pingWorkflow } from '../../workflows/ping';
import { findPing } from '../../db/pings';

forEachDatabase('pingWorkflow on a real Temporal server', (get) => {
  it('runs its activity, which writes the database, and answers its query', async () => {
    const env = await temporalEnv();
    const { db } = get();
    const w = await startWorker(createActivities(testDeps(db)));
    try {
      const pingId = randomUUID();
      const handle = await env.client.workflow.start(pingWorkflow, {
        taskQueue: w.taskQueue,
        workflowId: `ping-${pingId}`,
        args: [{ pingId, message: '连通性检查' }],
      });
      const result = await handle.result();
      assert.equal(result.status, 'recorded');
      const row = await findPing(db, pingId);
      assert.equal(row?.message, '连通性检查');
      assert.equal(row?.workflowId, `ping-${pingId}`);
      assert.equal(result.recordedAt, row?.recordedAt.toISOString());
      assert.deepEqual(await handle.query(pingStateQuery), result);
    } finally {
      await w.stop();
    }
  });

  it('retries a failing activity and still records exactly one row', async () => {
    const env = await temporalEnv();
    const { db } = get();
    const real = createActivities(testDeps(db));
    let calls = 0;
    // Fault injection: the first attempt writes, then "crashes" before reporting back.
    const flaky = {
      ...real,
      async recordPing(input: Parameters<typeof real.recordPing>[0]) {
        calls += 1;
        const r = await real.recordPing(input);
        if (calls === 1) throw new Error('worker lost after the write');
        return r;
      },
    };
    const w = await startWorker(flaky);
    try {
      const pingId = randomUUID();
      const result = await env.client.workflow.execute(pingWorkflow, {
        taskQueue: w.taskQueue,
        workflowId: `ping-${pingId}`,
        args: [{ pingId, message: 'retry' }],
      });
      assert.equal(calls, 2);
      assert.equal(result.status, 'recorded');
      assert.equal(Number((await db('pings').where({ id: pingId }).count({ n: '*' }))[0]!.n), 1);
    } finally {
      await w.stop();
    }
  });
});
