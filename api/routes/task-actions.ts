import { z } from 'zod';
import type { Context } from 'koa';
import type { AppDeps } from '../app';
import type { ApiRouter } from '../routing';
import { conflict, forbidden, notFound, problemOf, unprocessable } from '../problem';
import { userActor } from '../auth';
import { DECISIONS, type Decision } from '../../domain/issuance';
import { hasRole } from '../../domain/access';
import { assignTask, getTask, setTaskFollowUp, type TaskRow } from '../../db/tasks';
import { getUser, listUsers } from '../../db/org';
import { BulkDecisions, Person, personOf, Task, type BulkDecisionItem as BulkItem } from '../schemas/inbox';
import { decideAs, mayWork, principalFor, type StaffActor } from './task-access';

/** Decisions on many tasks at once run this many `decide` Updates at a time. */
const BULK_CONCURRENCY = 4;
export const BULK_LIMIT = 100;

const OUTCOMES: Record<Decision, 'approved' | 'rejected' | 'returned'> = {
  approve: 'approved',
  reject: 'rejected',
  return: 'returned',
};

/** Runs `work` over the items, at most `limit` at a time, keeping their order in the answer. */
async function pooled<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

/**
 * Staff at scale (docs/issuance.md, "Assignment and delegation", "Bulk decisions"): a department
 * admin hands a task to a colleague, follow-up dates, and many decisions at once.
 */
export function taskActionRoutes(api: ApiRouter, deps: AppDeps) {
  async function openTask(ctx: Context, id: number): Promise<TaskRow> {
    const task = await getTask(deps.db, id);
    if (!task) throw notFound(`No task ${id}`);
    ctx.state.auditObject = { type: 'task', id: String(task.id) };
    ctx.state.auditDepartment = task.department;
    return task;
  }

  api.route(
    {
      method: 'get',
      path: '/tasks/:id/assignees',
      operationId: 'listTaskAssignees',
      summary: 'Colleagues a department admin may hand this task to (active, holding its role there)',
      tag: 'inbox',
      auth: 'staff',
      params: z.object({ id: z.coerce.number().int().positive() }),
      responses: { 200: { description: 'Who may take it', schema: z.looseObject({ items: z.array(Person) }) } },
    },
    async (ctx, { params }) => {
      const task = await getTask(deps.db, params.id);
      if (!task) throw notFound(`No task ${params.id}`);
      if (!hasRole(ctx.state.actor, 'department-admin', task.department)) {
        const reason = `needs the department-admin role in ${task.department}`;
        ctx.state.denial = { action: 'task.assign', reason, department: task.department };
        throw forbidden(`Reassigning task ${task.id} ${reason}`);
      }
      const users = await listUsers(deps.db, [task.department]);
      return { items: users.filter((u) => u.active && mayWork(userActor(u), task)).map(personOf) };
    },
  );

  api.route(
    {
      method: 'post',
      path: '/tasks/:id/assign',
      operationId: 'assignTask',
      summary: "Hand an open task to a named colleague who holds the step's role (department admins)",
      tag: 'inbox',
      auth: 'staff',
      audit: { category: 'operation', action: 'task.assign' },
      params: z.object({ id: z.coerce.number().int().positive() }),
      body: z.object({ userId: z.number().int().positive() }),
      responses: {
        200: { description: 'The task, now assigned', schema: Task },
        403: "Not a department admin of the task's department",
        409: 'The task is no longer open',
        422: "The colleague is unknown, inactive, or lacks the step's role",
      },
    },
    async (ctx, { params, body }) => {
      const task = await openTask(ctx, params.id);
      if (!hasRole(ctx.state.actor, 'department-admin', task.department)) {
        const reason = `needs the department-admin role in ${task.department}`;
        ctx.state.denial = { action: 'task.assign', reason, department: task.department };
        throw forbidden(`Reassigning task ${task.id} ${reason}`);
      }
      if (task.status !== 'open') throw conflict(`Task ${task.id} is ${task.status}`);
      const user = await getUser(deps.db, body.userId);
      const message = !user
        ? `no user ${body.userId}`
        : !user.active
          ? `${user.username} is deactivated`
          : !mayWork(userActor(user), task)
            ? `${user.username} does not hold the ${task.role} role in ${task.department}`
            : undefined;
      if (message) throw unprocessable(`Cannot assign task ${task.id}: ${message}`, [{ field: 'userId', message }]);
      ctx.state.auditDetail = { from: task.assignee?.name ?? null, to: user!.username, step: task.stepName };
      if (!(await assignTask(deps.db, task.id, { id: user!.id, name: user!.username })))
        throw conflict(`Task ${task.id} is no longer open`);
      return getTask(deps.db, task.id);
    },
  );

  api.route(
    {
      method: 'put',
      path: '/tasks/:id/follow-up',
      operationId: 'setTaskFollowUp',
      summary: 'Set (or clear, with null) the date to look at a task again',
      tag: 'inbox',
      auth: 'staff',
      audit: { category: 'operation', action: 'task.follow-up' },
      params: z.object({ id: z.coerce.number().int().positive() }),
      body: z.object({ followUpAt: z.iso.datetime({ offset: true }).nullable() }),
      responses: {
        200: { description: 'The task', schema: Task },
        403: 'Not a task you may work',
        409: 'The task is no longer open',
      },
    },
    async (ctx, { params, body }) => {
      const task = await openTask(ctx, params.id);
      const actor = ctx.state.actor as StaffActor;
      const may =
        mayWork(actor, task) ||
        hasRole(actor, 'department-admin', task.department) ||
        (await principalFor(deps, actor, task)) !== undefined;
      if (!may) {
        const reason = `needs the ${task.role} role in ${task.department}`;
        ctx.state.denial = { action: 'task.follow-up', reason, department: task.department };
        throw forbidden(`Task ${task.id} belongs to the ${task.role}s of ${task.department}`);
      }
      if (task.status !== 'open') throw conflict(`Task ${task.id} is ${task.status}`);
      ctx.state.auditDetail = { followUpAt: body.followUpAt };
      await setTaskFollowUp(deps.db, task.id, body.followUpAt ? new Date(body.followUpAt) : null);
      return getTask(deps.db, task.id);
    },
  );

  api.route(
    {
      method: 'post',
      path: '/tasks/decisions',
      operationId: 'decideTasks',
      summary: 'Approve, reject or return many tasks at once (one comment for all); answers per task',
      description:
        'Each task is its own `decide` Update with its own checks, run a few at a time; a refused one does not stop the others. Sealing officers seal a batch of approved applications this way (their tasks are the seal steps).',
      tag: 'inbox',
      auth: 'staff',
      audit: { category: 'operation', action: 'task.bulk-decide' },
      body: z.object({
        taskIds: z.array(z.number().int().positive()).min(1).max(BULK_LIMIT),
        decision: z.enum(DECISIONS),
        comment: z.string().trim().max(2000).optional(),
      }),
      responses: {
        200: { description: 'What happened to each task, in the order given', schema: BulkDecisions },
      },
    },
    async (ctx, { body }) => {
      const actor = ctx.state.actor as StaffActor;
      const ids = [...new Set(body.taskIds)];
      const items = await pooled(ids, BULK_CONCURRENCY, async (taskId): Promise<BulkItem> => {
        try {
          const state = await decideAs(deps, actor, { taskId, decision: body.decision, comment: body.comment });
          return {
            taskId,
            outcome: OUTCOMES[body.decision],
            status: null,
            reason: null,
            applicationStatus: state.status,
          };
        } catch (err) {
          const p = problemOf(err);
          if (!p) deps.logger.error({ err, taskId }, 'bulk decision failed');
          const reason = p ? (p.detail ?? p.title) : 'internal error';
          return { taskId, outcome: 'refused', status: p?.status ?? 500, reason, applicationStatus: null };
        }
      });
      const refused = items.filter((i) => i.outcome === 'refused');
      // The ids are in the detail; object_id holds 128 characters.
      ctx.state.auditObject = { type: 'tasks', id: `${ids.length} tasks` };
      ctx.state.auditDetail = {
        decision: body.decision,
        decided: items.filter((i) => i.outcome !== 'refused').map((i) => i.taskId),
        refused: refused.map((i) => ({ taskId: i.taskId, reason: i.reason })),
      };
      return { items, counts: { decided: items.length - refused.length, refused: refused.length } };
    },
  );
}
