import { z } from 'zod';
import type { Context } from 'koa';
import type { AppDeps } from '../app';
import type { ApiRouter } from '../routing';
import { conflict, forbidden, notFound, problemOf } from '../problem';
import { DECISIONS } from '../../domain/issuance';
import { hasRole, type Actor, type Role } from '../../domain/access';
import { eventsOf, faceDataOf, getApplication } from '../../db/applications';
import { createFaceCrypto } from '../../platform/face-crypto';
import { claimTask, getTask, inboxCounts, listInbox, releaseTask, type TaskRow } from '../../db/tasks';
import { getTypeVersion } from '../../db/certificate-types';
import { maskHolderId } from '../../domain/holder';
import { createHolderCrypto } from '../../platform/holder-crypto';
import { decideUpdate } from '../../workflows/issuance';
import { ApplicationState, Inbox, Task, TaskDetail } from '../schemas/work';

/** Departments where the actor holds the role (null: everywhere). */
function roleDepartments(actor: Actor, role: Role): string[] | null {
  if (actor.kind !== 'user') return [];
  const held = actor.roles.filter((r) => r.role === role);
  return held.some((r) => r.department === null) ? null : held.map((r) => r.department as string);
}

/** May this person act on the task: its role in its department, or the department admin once it escalated. */
function mayWork(actor: Actor, task: TaskRow): boolean {
  return (
    hasRole(actor, task.role as Role, task.department) ||
    (task.escalated && hasRole(actor, 'department-admin', task.department))
  );
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
      summary: "My tasks (claimed by me) or my role's queue in my departments, sorted by due time",
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
        assigneeId: mine ? actor.id : undefined,
        queues: [...new Set(actor.roles.map((r) => r.role))].map((role) => ({
          role,
          departments: roleDepartments(actor, role),
        })),
        escalatedDepartments: roleDepartments(actor, 'department-admin'),
        unclaimedOrBy: !mine && query.view === 'queue' && query.status === 'open' ? actor.id : undefined,
        limit: query.limit,
      });
      const departments = actor.roles.map((r) => r.department).filter((d): d is string => !!d);
      return {
        items,
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
      const actor = ctx.state.actor as Extract<Actor, { kind: 'user' }>;
      if (task.requestId !== null) {
        throw conflict(
          `Task ${task.id} is a holder's request: decide it at /holder-requests/${task.requestId}/decision`,
        );
      }
      if (task.status !== 'open') throw conflict(`Task ${task.id} is ${task.status}`);
      if (task.assignee && task.assignee.id !== actor.id)
        throw conflict(`Task ${task.id} is claimed by ${task.assignee.name}`);
      const app = (await getApplication(deps.db, task.applicationId))!;
      try {
        const state = await deps.temporal.workflow.getHandle(app.workflowId).executeUpdate(decideUpdate, {
          args: [{ taskId: task.id, decision: body.decision, comment: body.comment, actor }],
        });
        return state;
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
