import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { ServiceDeps } from '../deps';
import { invalidError, ServiceError, type FieldError } from '../errors';
import type { AuditInput } from '../../db/audit';
import { holderFaceMismatches } from '../../domain/certificate-type';
import { getType, getTypeVersion, type CertificateTypeSummary } from '../../db/certificate-types';
import {
  deleteUnstartedApplication,
  findByDedupeKey,
  getApplication,
  insertApplication,
  type ApplicationRow,
} from '../../db/applications';
import { validateFaceData, type FaceData } from '../../domain/face-fields';
import { chainForMode, initialStatus, type ActorRef, type IssuanceMode } from '../../domain/issuance';
import { parseHolderId, type HolderKind } from '../../domain/holder';
import { issuanceRunText } from '../../domain/operations';
import { chainForKind, type ApplicationKind } from '../../domain/certificate-change';
import { prepareReplacement } from './replacement';
import { createHolderCrypto } from '../../platform/holder-crypto';
import { createFaceCrypto } from '../../platform/face-crypto';
import { findApiClient } from '../../db/org';
import { checkCallbackUrl } from '../callback-target';
import { issuanceWorkflow, type IssuanceInput } from '../../workflows/issuance';

/**
 * Submitting an application (the use case behind `POST /applications`): idempotency,
 * validation of holder and face data, the encrypted holder ID, the row, the workflow and the
 * audit entry. Who may submit is the caller's question (api/routes/applications.ts); the
 * type is loaded first because that answer depends on its department.
 */

export type IssuanceDeps = Pick<ServiceDeps, 'db' | 'masterKey' | 'config'> & { temporal: Client };

/** Writes an audit entry with who/where filled in by the caller (the API takes them from the request). */
export type AuditTrail = (entry: Omit<AuditInput, 'actor' | 'requestId' | 'ip'>) => Promise<void>;

export interface Submission {
  submitter: ActorRef;
  typeCode: string;
  /** Required for a first issue; a change, renewal or reissue keeps the replaced certificate's holder. */
  holder?: { kind: HolderKind; id: string; name: string };
  faceData: Record<string, unknown>;
  /** A first issue (default), or a change / renewal / reissue of `replaces` (docs/lifecycle.md). */
  kind?: ApplicationKind;
  replaces?: string;
  /** Why a reissue (required) or a change / renewal (optional). */
  reason?: string;
  externalRef?: string;
  callbackUrl?: string;
  mode: IssuanceMode;
  /** The request's Idempotency-Key header ('' when none). */
  idempotencyKey: string;
}

/** The certificate type named by a submission. */
export async function submissionType(deps: Pick<ServiceDeps, 'db'>, typeCode: string): Promise<CertificateTypeSummary> {
  const type = await getType(deps.db, typeCode);
  if (!type)
    throw invalidError('Unknown certificate type', [{ field: 'typeCode', message: `no certificate type ${typeCode}` }]);
  return type;
}

/**
 * A retried request (same Idempotency-Key, or the same external reference) returns what the
 * first one made, with `created: false`.
 */
export async function submitApplication(
  deps: IssuanceDeps,
  type: CertificateTypeSummary,
  s: Submission,
  audit: AuditTrail,
): Promise<{ application: ApplicationRow; created: boolean }> {
  const holders = createHolderCrypto(deps.masterKey);
  const me = s.submitter;
  const idempotencyKey = s.idempotencyKey.trim();
  if (idempotencyKey.length > 100)
    throw invalidError('Idempotency-Key is too long', [
      { field: 'Idempotency-Key', message: 'at most 100 characters' },
    ]);
  const dedupeKey = idempotencyKey
    ? `${me.type}:${me.id}:key:${idempotencyKey}`
    : s.externalRef
      ? `${me.type}:${me.id}:ref:${s.externalRef}`
      : null;
  const earlier = dedupeKey ? await findByDedupeKey(deps.db, dedupeKey) : undefined;
  if (earlier) return replay(deps, earlier);

  if (type.status !== 'published' || type.publishedVersion === null) {
    throw invalidError(`Certificate type ${type.code} is ${type.status}; applications need a published type`, [
      { field: 'typeCode', message: type.status },
    ]);
  }
  const version = (await getTypeVersion(deps.db, type.code, type.publishedVersion))!;
  const kind = s.kind ?? 'new';
  // A change, renewal or reissue takes holder and face from the certificate it replaces.
  const replacing = kind === 'new' ? undefined : await prepareReplacement(deps, version, { ...s, kind });
  const holder = replacing?.holder ?? s.holder;
  if (!holder) throw invalidError('A first issue names its holder', [{ field: 'holder', message: 'required' }]);
  const errors: FieldError[] = [];
  if (holder.kind !== version.holderKind)
    errors.push({ field: 'holder.kind', message: `${type.code} is issued to a ${version.holderKind}` });
  const holderId = parseHolderId(holder.kind, holder.id);
  if (!holderId.ok) errors.push({ field: 'holder.id', message: holderId.reason });
  const face = validateFaceData(version.faceFields, replacing?.faceData ?? s.faceData);
  if (!face.ok)
    errors.push(
      ...face.errors.map((e) => ({ field: e.field ? `faceData.${e.field}` : 'faceData', message: e.message })),
    );
  // Only once both are valid: a mismatch between two values that are wrong anyway says nothing new.
  if (face.ok && holderId.ok) {
    errors.push(...holderFaceMismatches(version, { id: holderId.value, name: holder.name }, face.data));
  }
  if (errors.length || !holderId.ok) throw invalidError('The application has invalid fields', errors);
  if (s.callbackUrl) {
    // Only to an origin registered for the submitting API client (SSRF, docs/security.md).
    const client = me.type === 'api-client' ? await findApiClient(deps.db, me.id) : undefined;
    checkCallbackUrl(s.callbackUrl, client ? client.callbackOrigins : null, deps.config.callbacks.allowPrivate);
  }

  const id = randomUUID();
  const app: Parameters<typeof insertApplication>[1] = {
    id,
    typeCode: type.code,
    typeVersion: version.version,
    department: type.department,
    mode: s.mode,
    status: initialStatus(chainForMode(s.mode, chainForKind(kind, version))),
    holderKind: holder.kind,
    holderName: holder.name,
    holderIdHash: holders.lookupHash(holderId.value),
    holderIdEncrypted: holders.encrypt(holderId.value),
    submitter: { type: me.type, id: me.id, name: me.name },
    externalRef: s.externalRef ?? null,
    callbackUrl: s.callbackUrl ?? null,
    workflowId: `issuance-${id}`,
    dedupeKey,
    kind,
    replacesNumber: replacing?.replacesNumber ?? null,
    kindReason: replacing?.kindReason ?? null,
    // idNumber values encrypted at rest, like the holder's ID (platform/face-crypto.ts).
    faceData: face.ok ? (createFaceCrypto(deps.masterKey).seal(version.faceFields, face.data) as FaceData) : {},
  };
  try {
    await insertApplication(deps.db, app);
  } catch (err) {
    // Two identical requests at once: the loser answers with the winner's application.
    const winner = dedupeKey ? await findByDedupeKey(deps.db, dedupeKey) : undefined;
    if (winner) return replay(deps, winner);
    throw err;
  }
  const row = (await getApplication(deps.db, id))!;
  try {
    await ensureStarted(deps, row, workflowInput(row, chainForKind(kind, version)), version.name);
  } catch (err) {
    // No workflow, no application: an `in-review` row nobody can act on would be worse than a retry.
    await deleteUnstartedApplication(deps.db, id);
    throw err;
  }
  const detail = {
    typeCode: type.code,
    mode: s.mode,
    externalRef: s.externalRef,
    ...(replacing ? { kind, replaces: replacing.replacesNumber, reason: replacing.kindReason } : {}),
  };
  const object = { type: 'application', id };
  await audit({
    category: 'operation',
    action: 'application.submit',
    outcome: 'success',
    department: type.department,
    object,
    detail,
  });
  return { application: row, created: true };
}

/** How long a submission waits for Temporal to take the workflow (the SDK alone retries for ≈20 s). */
export const START_DEADLINE_MS = 5000;

/**
 * Starts the workflow; a second start of the same application is a no-op. Temporal out of reach
 * is a ServiceError 'unavailable' (503 with Retry-After) within START_DEADLINE_MS.
 */
async function ensureStarted(deps: IssuanceDeps, app: ApplicationRow, input: IssuanceInput, typeName?: string) {
  try {
    const options = {
      taskQueue: deps.config.temporal.taskQueue,
      workflowId: app.workflowId,
      args: [input] as [IssuanceInput],
      // What the Web UI shows for the run: type, department, mode, ids; no personal data.
      ...issuanceRunText({ ...input, typeName }),
    };
    await deps.temporal.connection.withDeadline(Date.now() + START_DEADLINE_MS, () =>
      deps.temporal.workflow.start(issuanceWorkflow, options),
    );
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return;
    if (err instanceof ServiceError) throw err;
    throw new ServiceError(
      'unavailable',
      `The workflow service is not reachable; try again shortly (${(err as Error).message})`,
      {
        code: 'TemporalUnavailable',
        retryAfter: 10,
      },
    );
  }
}

export function workflowInput(app: ApplicationRow, typeChain: Parameters<typeof chainForMode>[1]): IssuanceInput {
  return {
    applicationId: app.id,
    typeCode: app.typeCode,
    typeVersion: app.typeVersion,
    department: app.department,
    mode: app.mode,
    chain: chainForMode(app.mode, typeChain),
    filler: {
      type: app.submitter.type as 'user' | 'api-client',
      id: app.submitter.id,
      name: app.submitter.name ?? app.submitter.id,
    },
    submittedAt: app.createdAt,
    ...(app.replacesNumber ? { replaces: app.replacesNumber } : {}),
  };
}

/** The earlier application; its workflow is started again if the first request died before starting it. */
async function replay(
  deps: IssuanceDeps,
  app: ApplicationRow,
): Promise<{ application: ApplicationRow; created: boolean }> {
  const version = await getTypeVersion(deps.db, app.typeCode, app.typeVersion);
  if (version) await ensureStarted(deps, app, workflowInput(app, chainForKind(app.kind, version)), version.name);
  return { application: app, created: false };
}
