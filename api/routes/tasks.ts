import { z } from 'zod';
import type { Context } from 'koa';
import type { AppDeps } from '../app';
import type { ApiRouter } from '../routing';
import { conflict, forbidden, notFound, problemOf } from '../problem';
import { DECISIONS } from '../../domain/issuance';
import { hasRole, type Actor } from '../../domain/access';
import { eventsOf, faceDataOf, getApplication } from '../../db/applications';
import { createFaceCrypto } from '../../platform/face-crypto';
import { claimTask, getTask, inboxCounts, listInbox, releaseTask, type TaskRow } from '../../db/tasks';
import { principalsOf } from '../../db/delegations';
import { getTypeVersion } from '../../db/certificate-types';
import { maskHolderId } from '../../domain/holder';
import { createHolderCrypto } from '../../platform/holder-crypto';
import { ApplicationState, Inbox, Task, TaskDetail } from '../schemas/work';
import { decideAs, mayWork, principalFor, roleDepartments, type StaffActor } from './task-access';

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
    const actor = ctx.state.actor;
    const delegated = actor.kind === 'user' && (await principalFor(deps, actor, task)) !== undefined;
    if (!mayWork(actor, task) && !hasRole(actor, 'department-admin', task.department) && !delegated) {
      ctx.state.denial = {
        action,
        reason: `needs the ${task.role} role in ${task.department}`,
        department: task.department,
      };
      throw forbidden(`Task ${id} belongs to the ${task.role}s of ${task.department}`);
    }
    return task;
  }

  api.route(
    {
      method: 'get',
      path: '/tasks',
      operationId: 'listTasks',
      responses: { 200: { description: 'The tasks of this view, and the inbox counts', schema: Inbox } },
      summary:
        "My tasks (claimed by or assigned to me, and those of colleagues I stand in for) or my role's queue in my departments, sorted by due time",
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
      const mine = query.view === 'mine';
      // Every (role, department) the user holds opens that queue; department admins also see escalated tasks.
      const items = await listInbox(deps.db, {
        status: query.status,
        typeCode: query.typeCode,
        overdue: query.overdue ? query.overdue === 'true' : undefined,
        // A delegate's "mine" holds the tasks of the colleagues they stand in for, too.
        assigneeIds: mine ? [actor.id, ...(await principalsOf(deps.db, actor.id))] : undefined,
        queues: [...new Set(actor.roles.map((r) => r.role))].map((role) => ({
          role,
          departments: roleDepartments(actor, role),
        })),
        escalatedDepartments: roleDepartments(actor, 'department-admin'),
        // A department admin's "all": every task of their departments, to reassign them.
        wholeDepartments: query.view === 'all' ? (roleDepartments(actor, 'department-admin') ?? undefined) : undefined,
        unclaimedOrBy: !mine && query.view === 'queue' && query.status === 'open' ? actor.id : undefined,
        limit: query.limit,
      });
      const departments = actor.roles.map((r) => r.department).filter((d): d is string => !!d);
      return {
        // standIn: in "mine", the colleague whose task the caller works as their delegate.
        items: items.map((t) => ({
          ...t,
          standIn: mine && t.assignee && t.assignee.id !== actor.id ? t.assignee.name : null,
        })),
        counts: await inboxCounts(deps.db, actor.id, departments),
      };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/tasks/:id',
      operationId: 'getTask',
      responses: { 200: { description: 'The task, its application and history', schema: TaskDetail } },
      summary: "A task with the application's face data and history",
      tag: 'inbox',
      auth: 'staff',
      params: z.object({ id: z.coerce.number().int().positive() }),
    },
    async (ctx, { params }) => {
      const task = await loadWorkable(ctx, params.id);
      const app = (await getApplication(deps.db, task.applicationId))!;
      const [faceData, history, type] = await Promise.all([
        faceDataOf(deps.db, app.id, app.revision),
        eventsOf(deps.db, app.id),
        getTypeVersion(deps.db, app.typeCode, app.typeVersion),
      ]);
      return {
        task,
        application: {
          id: app.id,
          typeCode: app.typeCode,
          typeName: type?.name,
          typeVersion: app.typeVersion,
          status: app.status,
          holder: {
            kind: app.holderKind,
            name: app.holderName,
            id: maskHolderId(holders.decrypt(app.holderIdEncrypted)),
          },
          submitter: app.submitter,
          revision: app.revision,
          faceFields:
            type?.faceFields.map((f) => ({ key: f.key, label: f.label, type: f.type, required: f.required })) ?? [],
          // idNumber values masked; GET /applications/:id?reveal=true&reason=… shows them, audited.
          faceData: faceData && type ? createFaceCrypto(deps.masterKey).masked(type.faceFields, faceData) : faceData,
        },
        history,
      };
    },
  );

  api.route(
    {
      method: 'post',
      path: '/tasks/:id/claim',
      operationId: 'claimTask',
      responses: { 200: { description: 'The task, now claimed', schema: Task } },
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
        ? await releaseTask(deps.db, task.id, actor.id)
        : await claimTask(deps.db, task.id, { id: actor.id, name: actor.username });
      if (!changed) {
        const now = (await getTask(deps.db, task.id))!;
        throw conflict(
          body.release
            ? `Task ${task.id} is not claimed by you`
            : `Task ${task.id} is already claimed by ${now.assignee?.name}`,
        );
      }
      return getTask(deps.db, task.id);
    },
  );

  api.route(
    {
      method: 'post',
      path: '/tasks/:id/decision',
      operationId: 'decideTask',
      summary: 'Approve, reject (with reason) or return for correction (with comments)',
      tag: 'inbox',
      auth: 'staff',
      params: z.object({ id: z.coerce.number().int().positive() }),
      body: z.object({ decision: z.enum(DECISIONS), comment: z.string().trim().max(2000).optional() }),
      responses: {
        200: { description: "Recorded; the application's new state", schema: ApplicationState },
        403: 'Not your step, or four-eyes',
        409: 'Not the current step, or claimed by someone else',
      },
    },
    async (ctx, { params, body }) => {
      const task = await loadWorkable(ctx, params.id, 'task.decide');
      const actor = ctx.state.actor as StaffActor;
      try {
        return await decideAs(deps, actor, { taskId: task.id, decision: body.decision, comment: body.comment });
      } catch (err) {
        const problem = problemOf(err);
        if (problem?.status === 403)
          ctx.state.denial = {
            action: 'task.decide',
            reason: problem.detail ?? 'refused',
            department: task.department,
          };
        throw err;
      }
    },
  );
}
