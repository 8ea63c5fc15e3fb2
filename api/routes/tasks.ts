import { z } from 'zod';
import type { Context } from 'koa';
import type { AppDeps } from '../app';
import type { ApiRouter } from '../routing';
import { conflict, forbidden, notFound } from '../problem';
import { DECISIONS } from '../../domain/issuance';
import { hasRole, type Actor, type Role } from '../../domain/access';
import { eventsOf, faceDataOf, getApplication, getTask, toTask, type TaskRow } from '../../db/applications';
import { getTypeVersion } from '../../db/certificate-types';
import { maskHolderId } from '../../domain/holder';
import { createHolderCrypto } from '../../platform/holder-crypto';
import { decideUpdate } from '../../workflows/issuance';
import { updateProblem } from './applications';

/** Departments where the actor holds the role (null: everywhere). */
function roleDepartments(actor: Actor, role: Role): string[] | null {
  if (actor.kind !== 'user') return [];
  const held = actor.roles.filter((r) => r.role === role);
  return held.some((r) => r.department === null) ? null : held.map((r) => r.department as string);
}

/** May this person act on the task: its role in its department, or the department admin once it escalated. */
function mayWork(actor: Actor, task: TaskRow): boolean {
  return hasRole(actor, task.role as Role, task.department) || (task.escalated && hasRole(actor, 'department-admin', task.department));
}

/**
 * The task inbox (docs/issuance.md, in the habits of Camunda Tasklist and Flowable): my tasks, my role's
 * queue, claim, decide. Reads come from the tasks table the workflow keeps in step;
 * decisions go through the workflow's `decide` Update, whose validator has the last word.
 */
export function taskRoutes(api: ApiRouter, deps: AppDeps) {
  const holders = createHolderCrypto(deps.masterKey);

  async function loadWorkable(ctx: Context, id: number, action = 'task.read'): Promise<TaskRow> {
    const task = await getTask(deps.db, id);
    if (!task) throw notFound(`No task ${id}`);
    if (!mayWork(ctx.state.actor, task) && !hasRole(ctx.state.actor, 'department-admin', task.department)) {
      ctx.state.denial = { action, reason: `needs the ${task.role} role in ${task.department}`, department: task.department };
      throw forbidden(`Task ${id} belongs to the ${task.role}s of ${task.department}`);
    }
    return task;
  }

  api.route(
    {
      method: 'get',
      path: '/tasks',
      summary: 'My tasks (claimed by me) or my role\'s queue in my departments, sorted by due time',
      tag: 'inbox',
      auth: 'staff',
      query: z.object({
        view: z.enum(['mine', 'queue', 'all']).default('queue'),
        status: z.enum(['open', 'done', 'cancelled']).default('open'),
        typeCode: z.string().max(8).optional(),
        overdue: z.enum(['true', 'false']).optional(),
        limit: z.coerce.number().int().min(1).max(500).default(100),
      }),
    },
    async (ctx, { query }) => {
      const actor = ctx.state.actor;
      if (actor.kind !== 'user') throw forbidden('Only staff have an inbox');
      const q = deps.db('tasks').where('tasks.status', query.status);
      if (query.typeCode) q.where('tasks.type_code', query.typeCode);
      if (query.overdue) q.where('tasks.overdue', query.overdue === 'true');
      if (query.view === 'mine') {
        q.where('tasks.assignee_id', actor.id);
      } else {
        // Every (role, department) the user holds opens that queue; department admins also see escalated tasks.
        q.where((w) => {
          for (const role of new Set(actor.roles.map((r) => r.role))) {
            const depts = roleDepartments(actor, role);
            w.orWhere((x) => {
              x.where('tasks.role', role);
              if (depts) x.whereIn('tasks.department', depts);
            });
          }
          const adminDepts = roleDepartments(actor, 'department-admin');
          w.orWhere((x) => {
            x.where('tasks.escalated', true);
            if (adminDepts) x.whereIn('tasks.department', adminDepts);
          });
        });
        if (query.view === 'queue' && query.status === 'open') q.where((w) => w.whereNull('tasks.assignee_id').orWhere('tasks.assignee_id', actor.id));
      }
      // Tasks without a deadline sort last.
      const rows = await q
        .join('applications as a', 'a.id', 'tasks.application_id')
        .select('tasks.*', 'a.holder_name', 'a.status as application_status')
        .orderByRaw('CASE WHEN tasks.due_at IS NULL THEN 1 ELSE 0 END, tasks.due_at, tasks.id')
        .limit(query.limit);
      const counts = await deps.db('tasks').where({ status: 'open' }).whereIn('department', actor.roles.map((r) => r.department).filter((d): d is string => !!d)).select(deps.db.raw('SUM(CASE WHEN assignee_id = ? THEN 1 ELSE 0 END) as mine', [actor.id]), deps.db.raw('SUM(CASE WHEN overdue THEN 1 ELSE 0 END) as overdue')).first();
      return {
        items: rows.map((r: Record<string, unknown>) => ({ ...toTask(r), holderName: r.holder_name, applicationStatus: r.application_status })),
        counts: { mine: Number(counts?.mine ?? 0), overdue: Number(counts?.overdue ?? 0) },
      };
    },
  );

  api.route(
    { method: 'get', path: '/tasks/:id', summary: 'A task with the application\'s face data and history', tag: 'inbox', auth: 'staff', params: z.object({ id: z.coerce.number().int().positive() }) },
    async (ctx, { params }) => {
      const task = await loadWorkable(ctx, params.id);
      const app = (await getApplication(deps.db, task.applicationId))!;
      const [faceData, history, type] = await Promise.all([faceDataOf(deps.db, app.id, app.revision), eventsOf(deps.db, app.id), getTypeVersion(deps.db, app.typeCode, app.typeVersion)]);
      return {
        task,
        application: {
          id: app.id,
          typeCode: app.typeCode,
          typeName: type?.name,
          typeVersion: app.typeVersion,
          status: app.status,
          holder: { kind: app.holderKind, name: app.holderName, id: maskHolderId(holders.decrypt(app.holderIdEncrypted)) },
          submitter: app.submitter,
          revision: app.revision,
          faceFields: type?.faceFields.map((f) => ({ key: f.key, label: f.label, type: f.type, required: f.required })) ?? [],
          faceData,
        },
        history,
      };
    },
  );

  api.route(
    {
      method: 'post',
      path: '/tasks/:id/claim',
      summary: 'Claim a queued task (one person at a time); `release: true` puts it back',
      tag: 'inbox',
      auth: 'staff',
      params: z.object({ id: z.coerce.number().int().positive() }),
      body: z.object({ release: z.boolean().default(false) }),
    },
    async (ctx, { params, body }) => {
      const actor = ctx.state.actor as Extract<Actor, { kind: 'user' }>;
      const task = await loadWorkable(ctx, params.id);
      if (!mayWork(actor, task)) throw forbidden(`Claiming needs the ${task.role} role in ${task.department}`);
      if (task.status !== 'open') throw conflict(`Task ${task.id} is ${task.status}`);
      // Optimistic: the update only matches while nobody else holds it.
      const changed = body.release
        ? await deps.db('tasks').where({ id: task.id, status: 'open', assignee_id: actor.id }).update({ assignee_id: null, assignee_name: null })
        : await deps.db('tasks').where({ id: task.id, status: 'open' }).where((w) => w.whereNull('assignee_id').orWhere('assignee_id', actor.id)).update({ assignee_id: actor.id, assignee_name: actor.username });
      if (changed !== 1) {
        const now = (await getTask(deps.db, task.id))!;
        throw conflict(body.release ? `Task ${task.id} is not claimed by you` : `Task ${task.id} is already claimed by ${now.assignee?.name}`);
      }
      return getTask(deps.db, task.id);
    },
  );

  api.route(
    {
      method: 'post',
      path: '/tasks/:id/decision',
      summary: 'Approve, reject (with reason) or return for correction (with comments)',
      tag: 'inbox',
      auth: 'staff',
      params: z.object({ id: z.coerce.number().int().positive() }),
      body: z.object({ decision: z.enum(DECISIONS), comment: z.string().trim().max(2000).optional() }),
      responses: { 200: 'Recorded; the application\'s new state', 403: 'Not your step, or four-eyes', 409: 'Not the current step, or claimed by someone else' },
    },
    async (ctx, { params, body }) => {
      const task = await loadWorkable(ctx, params.id, 'task.decide');
      const actor = ctx.state.actor as Extract<Actor, { kind: 'user' }>;
      if (task.status !== 'open') throw conflict(`Task ${task.id} is ${task.status}`);
      if (task.assignee && task.assignee.id !== actor.id) throw conflict(`Task ${task.id} is claimed by ${task.assignee.name}`);
      const app = (await getApplication(deps.db, task.applicationId))!;
      try {
        const state = await deps.temporal.workflow
          .getHandle(app.workflowId)
          .executeUpdate(decideUpdate, { args: [{ taskId: task.id, decision: body.decision, comment: body.comment, actor }] });
        return state;
      } catch (err) {
        const problem = updateProblem(err);
        if (problem?.status === 403) ctx.state.denial = { action: 'task.decide', reason: problem.detail ?? 'refused', department: task.department };
        throw problem ?? err;
      }
    },
  );
}
