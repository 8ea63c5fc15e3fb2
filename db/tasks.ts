import type { Db } from './knex';
import { toIso } from './knex';

/**
 * The inbox: one task per approval step the issuance workflow opens. Every read and write of
 * the `tasks` table is here; the workflow's activities keep it in step, the API reads and
 * claims. Writes are keyed so that a retried activity changes nothing the second time.
 */

/** A timestamp column as stored: mysql2 gives a Date, better-sqlite3 the number written. */
type DbTime = Date | string | number;

/** A row of `tasks` as the drivers return it (SQLite booleans are 0/1; MariaDB ids may be strings). */
interface TaskRecord {
  id: number | string;
  application_id: string;
  round: number | string;
  step_index: number | string;
  step_key: string;
  step_name: string;
  role: string;
  department: string;
  type_code: string;
  status: string;
  assignee_id: number | string | null;
  assignee_name: string | null;
  due_at: DbTime | null;
  overdue: boolean | number;
  escalated: boolean | number;
  decision: string | null;
  decided_by: string | null;
  comment: string | null;
  created_at: DbTime;
  decided_at: DbTime | null;
  request_id?: number | string | null;
  acting_for?: string | null;
  follow_up_at?: DbTime | null;
}

export type TaskStatus = 'open' | 'done' | 'cancelled';

export interface TaskRow {
  id: number;
  applicationId: string;
  round: number;
  stepIndex: number;
  stepKey: string;
  stepName: string;
  role: string;
  department: string;
  typeCode: string;
  status: TaskStatus;
  assignee: { id: number; name: string } | null;
  dueAt: string | null;
  overdue: boolean;
  escalated: boolean;
  decision: string | null;
  decidedBy: string | null;
  comment: string | null;
  createdAt: string;
  decidedAt: string | null;
  /** Set when the task is a holder's request (migration 016, services/holder/requests.ts), not an approval step. */
  requestId: number | null;
  /** When a delegate decided: whom they acted for (migration 022); `decidedBy` is the delegate. */
  actingFor: string | null;
  /** When the person working it wants to look at it again. */
  followUpAt: string | null;
}

function toTask(r: TaskRecord): TaskRow {
  return {
    id: Number(r.id),
    applicationId: r.application_id,
    round: Number(r.round),
    stepIndex: Number(r.step_index),
    stepKey: r.step_key,
    stepName: r.step_name,
    role: r.role,
    department: r.department,
    typeCode: r.type_code,
    status: r.status as TaskStatus,
    assignee: r.assignee_id ? { id: Number(r.assignee_id), name: r.assignee_name as string } : null,
    dueAt: r.due_at ? toIso(r.due_at) : null,
    overdue: Boolean(r.overdue),
    escalated: Boolean(r.escalated),
    decision: r.decision ?? null,
    decidedBy: r.decided_by ?? null,
    comment: r.comment ?? null,
    createdAt: toIso(r.created_at),
    decidedAt: r.decided_at ? toIso(r.decided_at) : null,
    requestId: r.request_id === null || r.request_id === undefined ? null : Number(r.request_id),
    actingFor: r.acting_for ?? null,
    followUpAt: r.follow_up_at ? toIso(r.follow_up_at) : null,
  };
}

const tasks = (db: Db) => db<TaskRecord>('tasks');

export async function getTask(db: Db, id: number): Promise<TaskRow | undefined> {
  const r = (await tasks(db).where({ id }).first()) as TaskRecord | undefined;
  return r ? toTask(r) : undefined;
}

export interface StepKey {
  applicationId: string;
  round: number;
  stepIndex: number;
}

export async function findStepTask(db: Db, k: StepKey): Promise<TaskRow | undefined> {
  const where = { application_id: k.applicationId, round: k.round, step_index: k.stepIndex };
  const r = (await tasks(db).where(where).first()) as TaskRecord | undefined;
  return r ? toTask(r) : undefined;
}

export interface NewTask extends StepKey {
  stepKey: string;
  stepName: string;
  role: string;
  department: string;
  typeCode: string;
  dueAt: Date | null;
  createdAt: Date;
}

/** Opens the step's task unless it exists (a retry, or a racing attempt); returns the one that does. */
export async function openStepTask(db: Db, t: NewTask): Promise<TaskRow> {
  await db('tasks')
    .insert({
      application_id: t.applicationId,
      round: t.round,
      step_index: t.stepIndex,
      step_key: t.stepKey,
      step_name: t.stepName,
      role: t.role,
      department: t.department,
      type_code: t.typeCode,
      status: 'open',
      due_at: t.dueAt,
      created_at: t.createdAt,
    })
    .onConflict(['application_id', 'round', 'step_index'])
    .ignore();
  return (await findStepTask(db, t))!;
}

/**
 * Opens the task of a holder's request (docs/holders.md) unless it exists: round 0 of the
 * certificate's application (issuance rounds start at 1), the request's id as step index.
 */
export async function openRequestTask(
  db: Db,
  t: Omit<NewTask, 'round' | 'stepIndex'> & { requestId: number },
): Promise<TaskRow> {
  const key = { applicationId: t.applicationId, round: 0, stepIndex: t.requestId };
  await db('tasks')
    .insert({
      application_id: t.applicationId,
      round: 0,
      step_index: t.requestId,
      step_key: t.stepKey,
      step_name: t.stepName,
      role: t.role,
      department: t.department,
      type_code: t.typeCode,
      status: 'open',
      due_at: t.dueAt,
      created_at: t.createdAt,
      request_id: t.requestId,
    })
    .onConflict(['application_id', 'round', 'step_index'])
    .ignore();
  return (await findStepTask(db, key))!;
}

export async function findRequestTask(db: Db, requestId: number): Promise<TaskRow | undefined> {
  const r = (await tasks(db).where({ request_id: requestId }).first()) as TaskRecord | undefined;
  return r ? toTask(r) : undefined;
}

/** Closes an open task with its decision; false when it was no longer open. */
export async function decideTask(
  db: Db,
  id: number,
  d: { decision: string; decidedBy: string; actingFor?: string | null; comment: string | null },
): Promise<boolean> {
  const changed = await db('tasks')
    .where({ id, status: 'open' })
    .update({
      status: 'done',
      decision: d.decision,
      decided_by: d.decidedBy,
      acting_for: d.actingFor ?? null,
      comment: d.comment,
      decided_at: new Date(),
    });
  return changed > 0;
}

export async function markTaskOverdue(db: Db, id: number, escalated: boolean): Promise<void> {
  await db('tasks').where({ id }).update({ overdue: true, escalated });
}

export async function cancelOpenTasks(db: Db, applicationId: string, reason: string): Promise<void> {
  await db('tasks')
    .where({ application_id: applicationId, status: 'open' })
    .update({ status: 'cancelled', comment: reason, decided_at: new Date() });
}

/** Optimistic: matches only while the task is open and unclaimed or already the user's. */
export async function claimTask(db: Db, id: number, user: { id: number; name: string }): Promise<boolean> {
  const changed = await db('tasks')
    .where({ id, status: 'open' })
    .where((w) => w.whereNull('assignee_id').orWhere('assignee_id', user.id))
    .update({ assignee_id: user.id, assignee_name: user.name });
  return changed === 1;
}

export async function releaseTask(db: Db, id: number, userId: number): Promise<boolean> {
  const changed = await db('tasks')
    .where({ id, status: 'open', assignee_id: userId })
    .update({ assignee_id: null, assignee_name: null });
  return changed === 1;
}

/** A department admin hands an open task to a named colleague, whoever held it. */
export async function assignTask(db: Db, id: number, user: { id: number; name: string }): Promise<boolean> {
  const changed = await db('tasks')
    .where({ id, status: 'open' })
    .update({ assignee_id: user.id, assignee_name: user.name });
  return changed === 1;
}

export async function setTaskFollowUp(db: Db, id: number, at: Date | null): Promise<void> {
  await db('tasks').where({ id }).update({ follow_up_at: at });
}

export interface Approval {
  decidedBy: string | null;
  role: string;
}

/** Who approved, newest first, with the role of the step they approved. */
export async function approvalsOf(db: Db, applicationId: string): Promise<Approval[]> {
  const rows = (await db('tasks')
    .where({ application_id: applicationId, decision: 'approve' })
    .whereNull('request_id')
    .orderBy('id', 'desc')
    .select('decided_by', 'role')) as Pick<TaskRecord, 'decided_by' | 'role'>[];
  return rows.map((r) => ({ decidedBy: r.decided_by ?? null, role: r.role }));
}

export interface InboxFilter {
  status: TaskStatus;
  typeCode?: string;
  overdue?: boolean;
  /** Tasks claimed by (or assigned to) these users only: "mine", with the principals a delegate acts for. */
  assigneeIds?: number[];
  /**
   * Otherwise the queues the user may see: each role in its departments (null: everywhere),
   * and escalated tasks in `escalatedDepartments` (null: everywhere).
   */
  queues?: { role: string; departments: string[] | null }[];
  escalatedDepartments?: string[] | null;
  /** And every task of these departments, whatever its role (department admins' "all" view, to reassign). */
  wholeDepartments?: string[];
  /** Only tasks nobody else has claimed. */
  unclaimedOrBy?: number;
  limit: number;
}

export interface InboxItem extends TaskRow {
  holderName: string;
  applicationStatus: string;
}

export async function listInbox(db: Db, f: InboxFilter): Promise<InboxItem[]> {
  const q = db('tasks').where('tasks.status', f.status);
  if (f.typeCode) q.where('tasks.type_code', f.typeCode);
  if (f.overdue !== undefined) q.where('tasks.overdue', f.overdue);
  if (f.assigneeIds !== undefined) {
    q.whereIn('tasks.assignee_id', f.assigneeIds);
  } else {
    q.where((w) => {
      for (const { role, departments } of f.queues ?? []) {
        w.orWhere((x) => {
          x.where('tasks.role', role);
          if (departments) x.whereIn('tasks.department', departments);
        });
      }
      w.orWhere((x) => {
        x.where('tasks.escalated', true);
        if (f.escalatedDepartments) x.whereIn('tasks.department', f.escalatedDepartments);
      });
      if (f.wholeDepartments?.length) w.orWhereIn('tasks.department', f.wholeDepartments);
    });
    const by = f.unclaimedOrBy;
    if (by !== undefined) q.where((w) => w.whereNull('tasks.assignee_id').orWhere('tasks.assignee_id', by));
  }
  // Tasks without a deadline sort last.
  const rows = (await q
    .join('applications as a', 'a.id', 'tasks.application_id')
    .select('tasks.*', 'a.holder_name', 'a.status as application_status')
    .orderByRaw('CASE WHEN tasks.due_at IS NULL THEN 1 ELSE 0 END, tasks.due_at, tasks.id')
    .limit(f.limit)) as (TaskRecord & { holder_name: string; application_status: string })[];
  return rows.map((r) => ({ ...toTask(r), holderName: r.holder_name, applicationStatus: r.application_status }));
}

/** Open tasks in these departments: how many the user has claimed, how many are overdue. */
export async function inboxCounts(
  db: Db,
  userId: number,
  departments: string[],
): Promise<{ mine: number; overdue: number }> {
  const counts = (await db('tasks')
    .where({ status: 'open' })
    .whereIn('department', departments)
    .select(
      db.raw('SUM(CASE WHEN assignee_id = ? THEN 1 ELSE 0 END) as mine', [userId]),
      db.raw('SUM(CASE WHEN overdue THEN 1 ELSE 0 END) as overdue'),
    )
    .first()) as { mine: number | string | null; overdue: number | string | null } | undefined;
  return { mine: Number(counts?.mine ?? 0), overdue: Number(counts?.overdue ?? 0) };
}

/** Open tasks, and how many of them are overdue (GET /metrics; served by the tasks_status_overdue index). */
export async function countOpenTasks(db: Db): Promise<{ open: number; overdue: number }> {
  const query = db('tasks').where({ status: 'open' }).select('overdue').count({ n: '*' }).groupBy('overdue');
  const rows = (await query) as { overdue: boolean | number; n: number | string }[];
  let open = 0;
  let overdue = 0;
  for (const r of rows) {
    open += Number(r.n);
    if (r.overdue) overdue += Number(r.n);
  }
  return { open, overdue };
}

/** Every approval task of an application, in the order they were opened (services/issuance/resume.ts). */
export async function tasksOf(db: Db, applicationId: string): Promise<TaskRow[]> {
  const q = tasks(db).where({ application_id: applicationId }).whereNull('request_id').orderBy('id');
  const rows = (await q) as TaskRecord[];
  return rows.map(toTask);
}
