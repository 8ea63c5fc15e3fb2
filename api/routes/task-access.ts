import type { AppDeps } from '../app';
import { conflict, forbidden, notFound } from '../problem';
import { userActor } from '../auth';
import { hasRole, type Actor, type Role } from '../../domain/access';
import type { ApplicationState, Decision } from '../../domain/issuance';
import { getApplication } from '../../db/applications';
import { getTask, type TaskRow } from '../../db/tasks';
import { getUser } from '../../db/org';
import { principalsOf } from '../../db/delegations';
import { decideUpdate } from '../../workflows/issuance';

/** Who may see and work which task (docs/issuance.md, "The task inbox"); shared by the inbox routes. */

export type StaffActor = Extract<Actor, { kind: 'user' }>;

/** Departments where the actor holds the role (null: everywhere). */
export function roleDepartments(actor: Actor, role: Role): string[] | null {
  if (actor.kind !== 'user') return [];
  const held = actor.roles.filter((r) => r.role === role);
  return held.some((r) => r.department === null) ? null : held.map((r) => r.department as string);
}

/** May this person act on the task: its role in its department, or the department admin once it escalated. */
export function mayWork(actor: Actor, task: TaskRow): boolean {
  return (
    hasRole(actor, task.role as Role, task.department) ||
    (task.escalated && hasRole(actor, 'department-admin', task.department))
  );
}

/**
 * The principal a delegate works this task for: its assignee, when that person has a delegation
 * to the actor in force. Undefined when the actor works it in their own name.
 */
export async function principalFor(deps: AppDeps, actor: StaffActor, task: TaskRow): Promise<StaffActor | undefined> {
  if (!task.assignee || task.assignee.id === actor.id) return undefined;
  if (!(await principalsOf(deps.db, actor.id)).includes(task.assignee.id)) return undefined;
  const user = await getUser(deps.db, task.assignee.id);
  return user?.active ? (userActor(user) as StaffActor) : undefined;
}

export interface DecisionRequest {
  taskId: number;
  decision: Decision;
  comment?: string;
}

/**
 * One decision, as `POST /tasks/:id/decision` and each item of `POST /tasks/decisions` take it:
 * checked here for what the tasks table knows, then the workflow's `decide` Update, whose
 * validator has the last word (four-eyes, the current step). Throws an HttpProblem or the
 * Update's failure (problemOf maps it).
 */
export async function decideAs(deps: AppDeps, actor: StaffActor, req: DecisionRequest): Promise<ApplicationState> {
  const task = await getTask(deps.db, req.taskId);
  if (!task) throw notFound(`No task ${req.taskId}`);
  const principal = await principalFor(deps, actor, task);
  if (!mayWork(principal ?? actor, task))
    throw forbidden(`Task ${task.id} belongs to the ${task.role}s of ${task.department}`);
  if (task.requestId !== null) {
    throw conflict(`Task ${task.id} is a holder's request: decide it at /holder-requests/${task.requestId}/decision`);
  }
  if (task.status !== 'open') throw conflict(`Task ${task.id} is ${task.status}`);
  if (task.assignee && task.assignee.id !== actor.id && !principal)
    throw conflict(`Task ${task.id} is claimed by ${task.assignee.name}`);
  const app = (await getApplication(deps.db, task.applicationId))!;
  const input = { taskId: task.id, decision: req.decision, comment: req.comment, actor, onBehalfOf: principal };
  return deps.temporal.workflow.getHandle(app.workflowId).executeUpdate(decideUpdate, { args: [input] });
}
