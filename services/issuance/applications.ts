import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { conflictError, invalidError } from '../errors';
import type { AuditTrail, IssuanceDeps } from './submit';
import type { Actor } from '../../domain/access';
import { validateFaceData } from '../../domain/face-fields';
import { maskHolderId } from '../../domain/holder';
import { actorRef, FINAL_STATUSES, type ApplicationState } from '../../domain/issuance';
import { holderFaceMismatches } from '../../domain/certificate-type';
import { getTypeVersion } from '../../db/certificate-types';
import { addRevision, eventsOf, faceDataOf, removeProposedRevision, type ApplicationRow } from '../../db/applications';
import { createHolderCrypto } from '../../platform/holder-crypto';
import { createFaceCrypto, idNumberFields } from '../../platform/face-crypto';
import { amendUpdate, applicationStateQuery, withdrawUpdate } from '../../workflows/issuance';
import type { ServiceDeps } from '../deps';

/**
 * Following, amending and withdrawing an application. Refusals by the workflow's Update
 * validators are thrown as the Temporal client reports them; api/problem.ts maps them.
 */

type Deps = IssuanceDeps & Pick<ServiceDeps, 'logger'>;

/**
 * The workflow's own view. A query needs a live worker; when none answers within a few
 * seconds (workers down, a crashed sticky worker) the database's view is shown instead.
 */
export async function applicationState(deps: Deps, app: ApplicationRow): Promise<ApplicationState | null> {
  // An imported certificate's row has no issuance workflow to ask (docs/import.md).
  if ((app.mode as string) === 'import') return null;
  try {
    const handle = deps.temporal.workflow.getHandle(app.workflowId);
    return await deps.temporal.connection.withDeadline(Date.now() + 3000, () => handle.query(applicationStateQuery));
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    const detail = { err: (err as Error).message, workflowId: app.workflowId };
    deps.logger.warn(detail, 'workflow query failed; answering from the database');
    return null;
  }
}

/**
 * The application as the API shows it: the workflow's state where it answers, else the
 * database's. ID numbers (the holder's, idNumber face fields) are masked unless `reveal`:
 * the caller checked the permission and audits the reason (api/routes/applications.ts).
 */
export async function applicationView(deps: Deps, app: ApplicationRow, viewer: Actor, reveal = false) {
  const holders = createHolderCrypto(deps.masterKey);
  const [state, stored, events, type] = await Promise.all([
    applicationState(deps, app),
    faceDataOf(deps.db, app.id, app.revision),
    eventsOf(deps.db, app.id),
    getTypeVersion(deps.db, app.typeCode, app.typeVersion),
  ]);
  const faces = createFaceCrypto(deps.masterKey);
  const fields = type?.faceFields ?? [];
  const faceData = stored && (reveal ? faces.open(fields, stored) : faces.masked(fields, stored));
  const holderId = holders.decrypt(app.holderIdEncrypted);
  return {
    id: app.id,
    workflowId: app.workflowId,
    typeCode: app.typeCode,
    typeVersion: app.typeVersion,
    department: app.department,
    mode: app.mode,
    status: state?.status ?? app.status,
    holder: {
      kind: app.holderKind,
      name: app.holderName,
      id: viewer.kind === 'anonymous' ? null : reveal ? holderId : maskHolderId(holderId),
    },
    faceData,
    idNumbersMasked: !reveal,
    revision: app.revision,
    externalRef: app.externalRef,
    certificateNumber: state?.certificateNumber ?? app.certificateNumber,
    // A change, renewal or reissue names the certificate it supersedes (docs/lifecycle.md).
    kind: app.kind,
    replaces: app.replacesNumber,
    kindReason: app.kindReason,
    // Why a failed sealing stopped, and the fix (docs/runbook.md); from the events when no worker answers.
    error: state
      ? state.error
      : app.status === 'failed'
        ? (events.filter((e) => e.kind === 'failed').at(-1)?.comment ?? null)
        : null,
    currentStep: state?.currentStep ?? null,
    round: state?.round ?? null,
    history: state?.history ?? events,
    submitter: app.submitter,
    createdAt: app.createdAt,
    updatedAt: app.updatedAt,
  };
}

/** Proposes corrected face data; the workflow's `amend` Update accepts it (and restarts the chain) or refuses. */
export async function amendApplication(
  deps: Deps,
  app: ApplicationRow,
  faceData: Record<string, unknown>,
  actor: Actor,
): Promise<void> {
  const version = (await getTypeVersion(deps.db, app.typeCode, app.typeVersion))!;
  const faces = createFaceCrypto(deps.masterKey);
  const current = faces.open(version.faceFields, (await faceDataOf(deps.db, app.id, app.revision)) ?? {});
  // The form shows ID numbers masked; sent back unchanged, a mask means "keep the current value".
  const kept = Object.fromEntries(
    Object.entries(faceData).map(([k, v]) => {
      const now = current[k];
      const isKept = idNumberFields(version.faceFields).has(k) && typeof now === 'string' && v === maskHolderId(now);
      return [k, isKept ? now : v];
    }),
  );
  const face = validateFaceData(version.faceFields, kept);
  if (!face.ok) {
    const errors = face.errors.map((e) => ({
      field: e.field ? `faceData.${e.field}` : 'faceData',
      message: e.message,
    }));
    throw invalidError('The amendment has invalid fields', errors);
  }
  const holder = { id: createHolderCrypto(deps.masterKey).decrypt(app.holderIdEncrypted), name: app.holderName };
  const mismatches = holderFaceMismatches(version, holder, face.data);
  if (mismatches.length) throw invalidError('The amendment names another holder than the application', mismatches);
  if (FINAL_STATUSES.includes(app.status)) throw conflictError(`The application is ${app.status}`);
  const sealed = faces.seal(version.faceFields, face.data) as typeof face.data;
  const revision = await addRevision(deps.db, app.id, sealed, actorRef(actor).name);
  try {
    await deps.temporal.workflow.getHandle(app.workflowId).executeUpdate(amendUpdate, { args: [{ revision, actor }] });
  } catch (err) {
    // A refused amendment leaves nothing behind: the row was only a proposal the workflow turned down.
    if (isRefusal(err)) await removeProposedRevision(deps.db, app.id, revision);
    throw err;
  }
}

/** The workflow said no (or is gone); anything else (a timeout) may still have been accepted. */
const isRefusal = (err: unknown) => err instanceof WorkflowUpdateFailedError || err instanceof WorkflowNotFoundError;

export async function withdrawApplication(
  deps: Deps,
  app: ApplicationRow,
  actor: Actor,
  reason: string | undefined,
  audit: AuditTrail,
): Promise<void> {
  if (FINAL_STATUSES.includes(app.status)) {
    throw conflictError(`An application that is ${app.status} cannot be withdrawn`);
  }
  await deps.temporal.workflow.getHandle(app.workflowId).executeUpdate(withdrawUpdate, { args: [{ actor, reason }] });
  const object = { type: 'application', id: app.id };
  const detail = { reason: reason ?? null };
  const department = app.department;
  await audit({
    category: 'operation',
    action: 'application.withdraw',
    outcome: 'success',
    department,
    object,
    detail,
  });
}
