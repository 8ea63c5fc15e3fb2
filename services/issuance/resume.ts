import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import type { IssuanceDeps } from './submit';
import { workflowInput } from './submit';
import { chainForKind } from '../../domain/certificate-change';
import type { Logger } from '../../platform/logger';
import { eventsOf, inFlightApplications, type ApplicationRow } from '../../db/applications';
import { tasksOf } from '../../db/tasks';
import { findUserForLogin } from '../../db/org';
import { getTypeVersion } from '../../db/certificate-types';
import type { ActorRef, HistoryEntry } from '../../domain/issuance';
import { issuanceWorkflow, type IssuanceResume } from '../../workflows/issuance';

/**
 * After a restore (docs/operations.md, "Backup and restore") the database knows which
 * applications were under way, but a fresh Temporal does not: their workflows are gone. Every
 * start of a worker looks for in-flight applications whose workflow (`issuance-<id>`) the
 * namespace does not have and starts a new run that carries on from what the database recorded:
 * the round, the revision, the step whose task is open (found again by (application, round,
 * step), so the inbox keeps the same task) and who already approved in this round.
 */

const WORKFLOW_KINDS = new Set<string>([
  'approved',
  'rejected',
  'returned',
  'amended',
  'withdrawn',
  'overdue',
  'escalated',
  'sealing',
  'issued',
  'failed',
  'catalog-failed',
  'callback-failed',
]);

/** Where the application stands, read from its tasks and events. */
export async function resumePoint(deps: Pick<IssuanceDeps, 'db'>, app: ApplicationRow): Promise<IssuanceResume> {
  const tasks = await tasksOf(deps.db, app.id);
  const round = tasks.reduce((r, t) => Math.max(r, t.round), 1);
  const inRound = tasks.filter((t) => t.round === round);
  const open = inRound.find((t) => t.status === 'open');
  // Tasks and events record the actor's username; four-eyes compares user ids.
  const actors = new Map<string, ActorRef | undefined>();
  const actorNamed = async (name: string): Promise<ActorRef | undefined> => {
    if (!actors.has(name)) {
      const user = await findUserForLogin(deps.db, name);
      actors.set(name, user ? { type: 'user', id: String(user.id), name: user.username } : undefined);
    }
    return actors.get(name);
  };
  const approvers: ActorRef[] = [];
  for (const t of inRound.filter((t) => t.decision === 'approve' && (!open || t.stepIndex < open.stepIndex))) {
    const who = t.decidedBy ? await actorNamed(t.decidedBy) : undefined;
    if (who) approvers.push(who);
  }
  const history: HistoryEntry[] = [];
  for (const e of await eventsOf(deps.db, app.id)) {
    // The workflow's own history has no task-opened entries; 'submitted' it makes itself.
    if (!WORKFLOW_KINDS.has(e.kind)) continue;
    const actor = e.actor ? await actorNamed(e.actor) : undefined;
    history.push({
      at: e.at,
      kind: e.kind as HistoryEntry['kind'],
      ...(actor ? { actor } : {}),
      ...(e.step ? { step: e.step } : {}),
      ...(e.comment ? { comment: e.comment } : {}),
    });
  }
  const status = app.status as IssuanceResume['status'];
  const stepIndex = status === 'in-review' ? (open?.stepIndex ?? 0) : 0;
  return { status, round, revision: app.revision, stepIndex, approvers, history };
}

/** Starts the runs Temporal lacks; returns the ids of the applications resumed. */
export async function resumeInFlight(deps: IssuanceDeps, logger: Logger): Promise<string[]> {
  const resumed: string[] = [];
  for (const app of await inFlightApplications(deps.db)) {
    try {
      await deps.temporal.workflow.getHandle(app.workflowId).describe();
      continue; // Temporal has it (running, or closed for an operator to look at): not ours to touch.
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
    const version = await getTypeVersion(deps.db, app.typeCode, app.typeVersion);
    if (!version) {
      logger.error({ application: app.id }, 'cannot resume: its certificate type version is missing');
      continue;
    }
    const input = { ...workflowInput(app, chainForKind(app.kind, version)), resume: await resumePoint(deps, app) };
    try {
      await deps.temporal.workflow.start(issuanceWorkflow, {
        taskQueue: deps.config.temporal.taskQueue,
        workflowId: app.workflowId,
        args: [input],
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) continue; // another worker got there first
      throw err;
    }
    logger.info(
      { application: app.id, resume: input.resume },
      'resumed an in-flight application (its workflow was missing)',
    );
    resumed.push(app.id);
  }
  return resumed;
}
