import type { Db } from './knex';
import { toIso } from './knex';
import type { ApplicationStatus, IssuanceMode } from '../domain/issuance';
import type { HolderKind } from '../domain/holder';
import type { FaceData } from '../domain/face-fields';

/** Applications, their face-data revisions, inbox tasks and events. */

export interface ApplicationRow {
  id: string;
  typeCode: string;
  typeVersion: number;
  department: string;
  mode: IssuanceMode;
  status: ApplicationStatus;
  holderKind: HolderKind;
  holderName: string;
  holderIdHash: string;
  holderIdEncrypted: string;
  revision: number;
  submitter: { type: string; id: string; name: string | null };
  externalRef: string | null;
  callbackUrl: string | null;
  workflowId: string;
  certificateNumber: string | null;
  createdAt: string;
  updatedAt: string;
}


function toApplication(r: Record<string, unknown>): ApplicationRow {
  return {
    id: r.id as string,
    typeCode: r.type_code as string,
    typeVersion: Number(r.type_version),
    department: r.department as string,
    mode: r.mode as IssuanceMode,
    status: r.status as ApplicationStatus,
    holderKind: r.holder_kind as HolderKind,
    holderName: r.holder_name as string,
    holderIdHash: r.holder_id_hash as string,
    holderIdEncrypted: r.holder_id_encrypted as string,
    revision: Number(r.revision),
    submitter: { type: r.submitter_type as string, id: r.submitter_id as string, name: (r.submitter_name as string | null) ?? null },
    externalRef: (r.external_ref as string | null) ?? null,
    callbackUrl: (r.callback_url as string | null) ?? null,
    workflowId: r.workflow_id as string,
    certificateNumber: (r.certificate_number as string | null) ?? null,
    createdAt: toIso(r.created_at),
    updatedAt: toIso(r.updated_at),
  };
}

export async function getApplication(db: Db, id: string): Promise<ApplicationRow | undefined> {
  const r = await db('applications').where({ id }).first();
  return r ? toApplication(r) : undefined;
}

export async function findByDedupeKey(db: Db, key: string): Promise<ApplicationRow | undefined> {
  const r = await db('applications').where({ dedupe_key: key }).first();
  return r ? toApplication(r) : undefined;
}

export interface NewApplication extends Omit<ApplicationRow, 'status' | 'revision' | 'certificateNumber' | 'createdAt' | 'updatedAt'> {
  dedupeKey: string | null;
  faceData: FaceData;
}

/** The application and its first face-data revision, in one transaction. */
export async function insertApplication(db: Db, a: NewApplication): Promise<void> {
  const now = new Date();
  await db.transaction(async (trx) => {
    await trx('applications').insert({
      id: a.id,
      type_code: a.typeCode,
      type_version: a.typeVersion,
      department: a.department,
      mode: a.mode,
      status: 'in-review',
      holder_kind: a.holderKind,
      holder_name: a.holderName,
      holder_id_hash: a.holderIdHash,
      holder_id_encrypted: a.holderIdEncrypted,
      revision: 1,
      submitter_type: a.submitter.type,
      submitter_id: a.submitter.id,
      submitter_name: a.submitter.name,
      dedupe_key: a.dedupeKey,
      external_ref: a.externalRef,
      callback_url: a.callbackUrl,
      workflow_id: a.workflowId,
      created_at: now,
      updated_at: now,
    });
    await trx('application_revisions').insert({ application_id: a.id, revision: 1, face_data: JSON.stringify(a.faceData), created_by: a.submitter.name ?? a.submitter.id, created_at: now });
    // The inbox's history starts with the submission, as the workflow's own history does.
    await trx('application_events').insert({ application_id: a.id, event_key: `${a.id}:submitted`, kind: 'submitted', actor: a.submitter.name ?? a.submitter.id, at: now });
  });
}

export async function faceDataOf(db: Db, applicationId: string, revision: number): Promise<FaceData | undefined> {
  const r = await db('application_revisions').where({ application_id: applicationId, revision }).first();
  return r ? (JSON.parse(r.face_data) as FaceData) : undefined;
}

/** A proposed amendment; it becomes current only when the workflow accepts it. */
export async function addRevision(db: Db, applicationId: string, faceData: FaceData, createdBy: string): Promise<number> {
  return db.transaction(async (trx) => {
    const last = await trx('application_revisions').where({ application_id: applicationId }).max({ n: 'revision' }).first();
    const revision = Number(last?.n ?? 0) + 1;
    await trx('application_revisions').insert({ application_id: applicationId, revision, face_data: JSON.stringify(faceData), created_by: createdBy, created_at: new Date() });
    return revision;
  });
}

export interface ApplicationListFilter {
  submitter?: { type: string; id: string };
  departments?: string[];
  status?: ApplicationStatus;
  limit: number;
  before?: string;
}

export async function listApplications(db: Db, f: ApplicationListFilter): Promise<ApplicationRow[]> {
  const q = db('applications').orderBy('created_at', 'desc').orderBy('id', 'desc').limit(f.limit);
  if (f.submitter) q.where({ submitter_type: f.submitter.type, submitter_id: f.submitter.id });
  if (f.departments) q.whereIn('department', f.departments);
  if (f.status) q.where('status', f.status);
  if (f.before) q.where('created_at', '<', new Date(f.before));
  return (await q).map(toApplication);
}

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
  status: 'open' | 'done' | 'cancelled';
  assignee: { id: number; name: string } | null;
  dueAt: string | null;
  overdue: boolean;
  escalated: boolean;
  decision: string | null;
  decidedBy: string | null;
  comment: string | null;
  createdAt: string;
  decidedAt: string | null;
}

export function toTask(r: Record<string, unknown>): TaskRow {
  return {
    id: Number(r.id),
    applicationId: r.application_id as string,
    round: Number(r.round),
    stepIndex: Number(r.step_index),
    stepKey: r.step_key as string,
    stepName: r.step_name as string,
    role: r.role as string,
    department: r.department as string,
    typeCode: r.type_code as string,
    status: r.status as TaskRow['status'],
    assignee: r.assignee_id ? { id: Number(r.assignee_id), name: r.assignee_name as string } : null,
    dueAt: r.due_at ? toIso(r.due_at) : null,
    overdue: Boolean(r.overdue),
    escalated: Boolean(r.escalated),
    decision: (r.decision as string | null) ?? null,
    decidedBy: (r.decided_by as string | null) ?? null,
    comment: (r.comment as string | null) ?? null,
    createdAt: toIso(r.created_at),
    decidedAt: r.decided_at ? toIso(r.decided_at) : null,
  };
}

export async function getTask(db: Db, id: number): Promise<TaskRow | undefined> {
  const r = await db('tasks').where({ id }).first();
  return r ? toTask(r) : undefined;
}

export async function eventsOf(db: Db, applicationId: string) {
  const rows = await db('application_events').where({ application_id: applicationId }).orderBy('id');
  return rows.map((r) => ({ at: toIso(r.at), kind: r.kind as string, actor: (r.actor as string | null) ?? null, step: (r.step as string | null) ?? null, comment: (r.comment as string | null) ?? null }));
}

/** Writes an event once, however often the activity that writes it is retried. */
export async function addEvent(db: Db, e: { applicationId: string; key: string; kind: string; actor?: string | null; step?: string | null; comment?: string | null }) {
  await db('application_events')
    .insert({ application_id: e.applicationId, event_key: `${e.applicationId}:${e.key}`, kind: e.kind, actor: e.actor ?? null, step: e.step ?? null, comment: e.comment ?? null, at: new Date() })
    .onConflict('event_key')
    .ignore();
}
