import type { Db } from './knex';

export interface Ping {
  id: string;
  message: string;
  workflowId: string;
  recordedAt: Date;
}

/** Idempotent: a retried activity finds the row it wrote the first time. */
export async function recordPing(db: Db, ping: Ping): Promise<Ping> {
  await db('pings')
    .insert({ id: ping.id, message: ping.message, workflow_id: ping.workflowId, recorded_at: ping.recordedAt })
    .onConflict('id')
    .ignore();
  return (await findPing(db, ping.id))!;
}

export async function findPing(db: Db, id: string): Promise<Ping | undefined> {
  const row = await db('pings').where({ id }).first();
  if (!row) return undefined;
  return { id: row.id, message: row.message, workflowId: row.workflow_id, recordedAt: new Date(row.recorded_at) };
}
