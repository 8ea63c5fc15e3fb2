import { ApplicationFailure } from '@temporalio/activity';
import type { ActivityDeps } from './index';
import type { ApprovalStep } from '../domain/certificate-type';
import type { ActorRef, ApplicationStatus, Decision, HistoryEntry } from '../domain/issuance';
import { validateFaceData } from '../domain/face-fields';
import { appendAudit } from '../db/audit';
import { addEvent, faceDataOf, getApplication } from '../db/applications';
import { getTypeVersion } from '../db/certificate-types';

/**
 * What the issuance workflow asks of the world while the chain runs: keep the inbox
 * (tasks table) and the application's history in step, and audit every decision.
 * Each is idempotent, keyed by application, round and step, so a retry changes nothing.
 */
export function issuanceActivities({ db, masterKey }: ActivityDeps) {
  const audit = (applicationId: string, department: string, action: string, actor: ActorRef, detail: Record<string, unknown>) =>
    appendAudit(db, {
      category: 'operation',
      action,
      outcome: 'success',
      actor: { type: actor.type, id: actor.id, name: actor.name },
      department,
      object: { type: 'application', id: applicationId },
      detail,
    }, masterKey);

  return {
    async markApplication(input: { applicationId: string; status: ApplicationStatus; event: (Omit<HistoryEntry, 'at'> & { key: string }) | null }) {
      await db('applications').where({ id: input.applicationId }).update({ status: input.status, updated_at: new Date() });
      if (input.event) {
        await addEvent(db, { applicationId: input.applicationId, key: input.event.key, kind: input.event.kind, actor: input.event.actor?.name, step: input.event.step, comment: input.event.comment });
      }
    },

    async openTask(input: { applicationId: string; typeCode: string; department: string; round: number; stepIndex: number; step: ApprovalStep; deadlineMs: number | null }) {
      const existing = await db('tasks').where({ application_id: input.applicationId, round: input.round, step_index: input.stepIndex }).first();
      if (existing) return { taskId: Number(existing.id), dueAt: existing.due_at ? new Date(existing.due_at).toISOString() : null };
      const now = new Date();
      const dueAt = input.deadlineMs === null ? null : new Date(now.getTime() + input.deadlineMs);
      await db('tasks')
        .insert({
          application_id: input.applicationId,
          round: input.round,
          step_index: input.stepIndex,
          step_key: input.step.key,
          step_name: input.step.name,
          role: input.step.role,
          department: input.department,
          type_code: input.typeCode,
          status: 'open',
          due_at: dueAt,
          created_at: now,
        })
        .onConflict(['application_id', 'round', 'step_index'])
        .ignore();
      const row = await db('tasks').where({ application_id: input.applicationId, round: input.round, step_index: input.stepIndex }).first();
      await addEvent(db, { applicationId: input.applicationId, key: `task:${row.id}`, kind: 'task-opened', step: input.step.name });
      return { taskId: Number(row.id), dueAt: row.due_at ? new Date(row.due_at).toISOString() : null };
    },

    async recordDecision(input: { applicationId: string; taskId: number; decision: Decision; comment: string | null; actor: ActorRef; step: string }) {
      const task = await db('tasks').where({ id: input.taskId }).first();
      if (task.status === 'open') {
        await db('tasks').where({ id: input.taskId, status: 'open' }).update({
          status: 'done',
          decision: input.decision,
          decided_by: input.actor.name,
          comment: input.comment,
          decided_at: new Date(),
        });
        await audit(input.applicationId, task.department, `task.${input.decision}`, input.actor, { taskId: input.taskId, step: input.step, comment: input.comment });
      }
      const kind = input.decision === 'approve' ? 'approved' : input.decision === 'reject' ? 'rejected' : 'returned';
      await addEvent(db, { applicationId: input.applicationId, key: `decision:${input.taskId}`, kind, actor: input.actor.name, step: input.step, comment: input.comment });
    },

    async markOverdue(input: { applicationId: string; taskId: number; step: string; escalate: boolean }) {
      const task = await db('tasks').where({ id: input.taskId }).first();
      if (!task.overdue) {
        await db('tasks').where({ id: input.taskId }).update({ overdue: true, escalated: input.escalate });
        await audit(input.applicationId, task.department, input.escalate ? 'task.escalate' : 'task.remind', { type: 'system', id: 'deadline', name: 'deadline' }, {
          taskId: input.taskId,
          step: input.step,
          dueAt: task.due_at ? new Date(task.due_at).toISOString() : null,
        });
      }
      await addEvent(db, { applicationId: input.applicationId, key: `overdue:${input.taskId}`, kind: 'overdue', step: input.step, comment: 'reminder: past the deadline' });
      if (input.escalate) await addEvent(db, { applicationId: input.applicationId, key: `escalated:${input.taskId}`, kind: 'escalated', step: input.step, comment: 'escalated to the department admin' });
    },

    /** Makes a proposed revision current, after checking it again against the type version. */
    async applyAmendment(input: { applicationId: string; revision: number; actor: ActorRef }) {
      const app = await getApplication(db, input.applicationId);
      if (!app) throw ApplicationFailure.nonRetryable(`no application ${input.applicationId}`);
      if (app.revision >= input.revision) return; // already applied by an earlier attempt
      const faceData = await faceDataOf(db, input.applicationId, input.revision);
      const type = await getTypeVersion(db, app.typeCode, app.typeVersion);
      const check = faceData && type ? validateFaceData(type.faceFields, faceData) : undefined;
      if (!check?.ok) throw ApplicationFailure.nonRetryable(`revision ${input.revision} of ${input.applicationId} does not validate`);
      await db('applications').where({ id: input.applicationId }).update({ revision: input.revision, updated_at: new Date() });
      await addEvent(db, { applicationId: input.applicationId, key: `amended:${input.revision}`, kind: 'amended', actor: input.actor.name });
      await audit(input.applicationId, app.department, 'application.amend', input.actor, { revision: input.revision });
    },

    async closeOpenTasks(input: { applicationId: string; reason: string }) {
      await db('tasks').where({ application_id: input.applicationId, status: 'open' }).update({ status: 'cancelled', comment: input.reason, decided_at: new Date() });
    },

    /** Stands in for the sealing pipeline until it is wired in: records that sealing happened. */
    async recordSealedPlaceholder(input: { applicationId: string }): Promise<string | null> {
      await addEvent(db, { applicationId: input.applicationId, key: 'sealed-placeholder', kind: 'sealed', comment: 'sealing pipeline placeholder' });
      return null;
    },
  };
}
