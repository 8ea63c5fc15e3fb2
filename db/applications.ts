import type { Db } from './knex';
import { toIso } from './knex';
import type { ApplicationStatus, IssuanceMode } from '../domain/issuance';
import type { HolderKind } from '../domain/holder';
import type { FaceData } from '../domain/face-fields';
import type { ApplicationKind } from '../domain/certificate-change';

/** Applications, their face-data revisions and events (inbox tasks: db/tasks.ts). */

/** A timestamp column as stored: mysql2 gives a Date, better-sqlite3 the number written. */
type DbTime = Date | string | number;

/** A row of `applications` as the drivers return it. */
export interface ApplicationRecord {
  id: string;
  type_code: string;
  type_version: number | string;
  department: string;
  mode: string;
  status: string;
  holder_kind: string;
  holder_name: string;
  holder_id_hash: string;
  holder_id_encrypted: string;
  revision: number | string;
  submitter_type: string;
  submitter_id: string;
  submitter_name: string | null;
  dedupe_key: string | null;
  external_ref: string | null;
  callback_url: string | null;
  workflow_id: string;
  certificate_number: string | null;
  /** Migration 019; absent only in rows read by a query that names its columns. */
  kind?: string;
  replaces_number?: string | null;
  kind_reason?: string | null;
  created_at: DbTime;
  updated_at: DbTime;
}

interface EventRecord {
  id: number | string;
  application_id: string;
  event_key: string;
  kind: string;
  actor: string | null;
  step: string | null;
  comment: string | null;
  at: DbTime;
}

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
  /** A first issue, or a change / renewal / reissue of `replacesNumber` (docs/lifecycle.md). */
  kind: ApplicationKind;
  replacesNumber: string | null;
  /** Why: required for a reissue (lost, damaged …), optional otherwise. */
  kindReason: string | null;
  createdAt: string;
  updatedAt: string;
}

/** The one mapper of `applications` rows (db/certificates.ts's sealing view uses it too). */
export function toApplication(r: ApplicationRecord): ApplicationRow {
  return {
    id: r.id,
    typeCode: r.type_code,
    typeVersion: Number(r.type_version),
    department: r.department,
    mode: r.mode as IssuanceMode,
    status: r.status as ApplicationStatus,
    holderKind: r.holder_kind as HolderKind,
    holderName: r.holder_name,
    holderIdHash: r.holder_id_hash,
    holderIdEncrypted: r.holder_id_encrypted,
    revision: Number(r.revision),
    submitter: { type: r.submitter_type, id: r.submitter_id, name: r.submitter_name ?? null },
    externalRef: r.external_ref ?? null,
    callbackUrl: r.callback_url ?? null,
    workflowId: r.workflow_id,
    certificateNumber: r.certificate_number ?? null,
    kind: (r.kind ?? 'new') as ApplicationKind,
    replacesNumber: r.replaces_number ?? null,
    kindReason: r.kind_reason ?? null,
    createdAt: toIso(r.created_at),
    updatedAt: toIso(r.updated_at),
  };
}

const applications = (db: Db) => db<ApplicationRecord>('applications');

export async function getApplication(db: Db, id: string): Promise<ApplicationRow | undefined> {
  const r = (await applications(db).where({ id }).first()) as ApplicationRecord | undefined;
  return r ? toApplication(r) : undefined;
}

export async function findByDedupeKey(db: Db, key: string): Promise<ApplicationRow | undefined> {
  const r = (await applications(db).where({ dedupe_key: key }).first()) as ApplicationRecord | undefined;
  return r ? toApplication(r) : undefined;
}

export interface NewApplication extends Omit<
  ApplicationRow,
  'status' | 'revision' | 'certificateNumber' | 'createdAt' | 'updatedAt' | 'kind' | 'replacesNumber' | 'kindReason'
> {
  kind?: ApplicationKind;
  replacesNumber?: string | null;
  kindReason?: string | null;
  /** Default in-review; `sealing` when there is no step to review (domain/issuance.ts initialStatus). */
  status?: ApplicationStatus;
  dedupeKey: string | null;
  faceData: FaceData;
}

/**
 * Removes an application whose workflow could not be started (Temporal unreachable at submission,
 * services/issuance/submit.ts): nothing else refers to it yet.
 */
export async function deleteUnstartedApplication(db: Db, id: string): Promise<void> {
  await db.transaction(async (trx) => {
    await trx('application_events').where({ application_id: id }).delete();
    await trx('application_revisions').where({ application_id: id }).delete();
    await trx('applications').where({ id }).delete();
  });
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
      status: a.status ?? 'in-review',
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
      kind: a.kind ?? 'new',
      replaces_number: a.replacesNumber ?? null,
      kind_reason: a.kindReason ?? null,
      created_at: now,
      updated_at: now,
    });
    await trx('application_revisions').insert({
      application_id: a.id,
      revision: 1,
      face_data: JSON.stringify(a.faceData),
      created_by: a.submitter.name ?? a.submitter.id,
      created_at: now,
    });
    // The inbox's history starts with the submission, as the workflow's own history does.
    await trx('application_events').insert({
      application_id: a.id,
      event_key: `${a.id}:submitted`,
      kind: 'submitted',
      actor: a.submitter.name ?? a.submitter.id,
      at: now,
    });
  });
}

export async function faceDataOf(db: Db, applicationId: string, revision: number): Promise<FaceData | undefined> {
  const r = (await db('application_revisions')
    .where({ application_id: applicationId, revision })
    .first('face_data')) as { face_data: string } | undefined;
  return r ? (JSON.parse(r.face_data) as FaceData) : undefined;
}

/** A proposed amendment; it becomes current only when the workflow accepts it. */
export async function addRevision(
  db: Db,
  applicationId: string,
  faceData: FaceData,
  createdBy: string,
): Promise<number> {
  return db.transaction(async (trx) => {
    const last = (await trx('application_revisions')
      .where({ application_id: applicationId })
      .max({ n: 'revision' })
      .first()) as { n: number | string | null } | undefined;
    const revision = Number(last?.n ?? 0) + 1;
    await trx('application_revisions').insert({
      application_id: applicationId,
      revision,
      face_data: JSON.stringify(faceData),
      created_by: createdBy,
      created_at: new Date(),
    });
    return revision;
  });
}

/** Takes back a proposed revision the workflow refused; the current one is never removed. */
export async function removeProposedRevision(db: Db, applicationId: string, revision: number): Promise<void> {
  await db('application_revisions')
    .where({ application_id: applicationId, revision })
    .whereNotExists(db('applications').where({ id: applicationId }).where('revision', '>=', revision).select('id'))
    .delete();
}

/**
 * The one writer of an application's status after submission: the workflow's activities (via
 * services/issuance/inbox.ts) and the certificate's store (db/certificates.ts, in its
 * transaction) both come here.
 */
export async function setApplicationStatus(
  db: Db,
  id: string,
  status: ApplicationStatus,
  at = new Date(),
): Promise<void> {
  await db('applications').where({ id }).update({ status, updated_at: at });
}

/** Makes an accepted amendment the current revision. */
export async function setCurrentRevision(db: Db, id: string, revision: number): Promise<void> {
  await db('applications').where({ id }).update({ revision, updated_at: new Date() });
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
  return ((await q) as ApplicationRecord[]).map(toApplication);
}

/** Applications for a successor of `number` that are still under way (not issued, rejected, withdrawn …). */
export async function openReplacements(db: Db, number: string): Promise<ApplicationRow[]> {
  const rows = (await applications(db)
    .where('replaces_number', number)
    .whereIn('status', ['in-review', 'returned', 'sealing', 'failed'])) as ApplicationRecord[];
  return rows.map(toApplication);
}

export async function eventsOf(db: Db, applicationId: string) {
  const rows = (await db('application_events').where({ application_id: applicationId }).orderBy('id')) as EventRecord[];
  return rows.map((r) => ({
    at: toIso(r.at),
    kind: r.kind,
    actor: r.actor ?? null,
    step: r.step ?? null,
    comment: r.comment ?? null,
  }));
}

/** Writes an event once, however often the activity that writes it is retried. */
export async function addEvent(
  db: Db,
  e: {
    applicationId: string;
    key: string;
    kind: string;
    actor?: string | null;
    step?: string | null;
    comment?: string | null;
  },
) {
  await db('application_events')
    .insert({
      application_id: e.applicationId,
      event_key: `${e.applicationId}:${e.key}`,
      kind: e.kind,
      actor: e.actor ?? null,
      step: e.step ?? null,
      comment: e.comment ?? null,
      at: new Date(),
    })
    .onConflict('event_key')
    .ignore();
}

/** How many applications are in each status (GET /metrics; served by the applications_status index). */
export async function countApplicationsByStatus(db: Db): Promise<Record<string, number>> {
  const rows = (await db('applications').select('status').count({ n: '*' }).groupBy('status')) as {
    status: string;
    n: number | string;
  }[];
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

/** Applications whose workflow is still under way: what a restore sets going again (services/issuance/resume.ts). */
export async function inFlightApplications(db: Db): Promise<ApplicationRow[]> {
  const rows = (await db('applications')
    .whereIn('status', ['in-review', 'returned', 'sealing'])
    .orderBy('created_at')) as ApplicationRecord[];
  return rows.map(toApplication);
}
