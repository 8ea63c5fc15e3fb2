import assert from 'node:assert/strict';
import { forEachDatabase } from '../support/databases';
import { migrate } from '../../db/knex';
import { findPing, recordPing } from '../../db/pings';

forEachDatabase('database', (get) => {
  it('migrates to the latest schema, and a second run applies nothing', async () => {
    const { db } = get();
    assert.ok(await db.schema.hasTable('pings'));
    assert.deepEqual(await migrate(db), []);
  });

  it('stores Chinese text intact', async () => {
    const { db } = get();
    const message = '营业执照 · 统一社会信用代码 91330106MA2KXXXX0X 𠮷';
    await recordPing(db, { id: 'zh-1', message, workflowId: 'w', recordedAt: new Date() });
    assert.equal((await findPing(db, 'zh-1'))?.message, message);
  });

  it('records a ping once, however often the activity is retried', async () => {
    const { db } = get();
    const at = new Date('2026-01-02T03:04:05.678Z');
    const first = await recordPing(db, { id: 'p-1', message: 'one', workflowId: 'w1', recordedAt: at });
    const again = await recordPing(db, { id: 'p-1', message: 'two', workflowId: 'w1', recordedAt: new Date() });
    assert.equal(first.recordedAt.toISOString(), at.toISOString());
    assert.deepEqual(again, first);
    assert.equal(Number((await db('pings').where({ id: 'p-1' }).count({ n: '*' }))[0]!.n), 1);
  });
});
