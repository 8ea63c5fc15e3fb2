import {
  ActivityFailure,
  ApplicationFailure,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  defineQuery,
  defineUpdate,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities, RenderActivities } from '../activities';
import type { ApprovalStep } from '../domain/certificate-type';
import {
  actorRef,
  checkAmend,
  checkDecision,
  checkWithdraw,
  type ActorRef,
  type ApplicationState,
  type ApplicationStatus,
  type DecideInput,
  type HistoryEntry,
  type IssuanceMode,
  type RuleViolation,
} from '../domain/issuance';
import type { Actor } from '../domain/access';
import {
  checkCancel,
  checkRetry,
  RUNBOOK,
  SEALING_STAGES,
  stateDetails,
  TEMPORAL_OPERATOR,
  type OperatorRequest,
  type SealingStage,
  statusNoticeRunText,
} from '../domain/operations';
import { notifyStatusChangeWorkflow } from './lifecycle';
import { ApplicationStatus as StatusKey, CertType, Department } from './search-attributes';

/**
 * One application, from submission to a stored certificate (docs/issuance.md):
 * fill → review → seal, with return for correction, four-eyes and deadlines.
 * Face data never enters the workflow: it stays in the database, so Temporal's history
 * (visible to operators in the Web UI) holds no personal data.
 */

const inbox = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});
const sealing = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '15 seconds',
  retry: { initialInterval: '2 seconds', maximumInterval: '5 minutes', maximumAttempts: 20 },
});
/** The catalog is another system: retry for about an hour, then leave it to a sealing officer. */
const catalog = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '15 minutes', maximumAttempts: 8 },
});
/** The business system's callback: retried with backoff for about a day. */
const callbacks = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '2 hours', maximumAttempts: 16 },
});

export interface IssuanceInput {
  applicationId: string;
  typeCode: string;
  typeVersion: number;
  department: string;
  mode: IssuanceMode;
  chain: ApprovalStep[];
  filler: ActorRef;
  /** When the API accepted it (the workflow's own clock starts later). */
  submittedAt: string;
  /** A change, renewal or reissue: the certificate the new one supersedes (docs/lifecycle.md). */
  replaces?: string;
  /**
   * Set when a run is started again for an application already under way — after a restore into
   * a Temporal that never saw it (services/issuance/resume.ts): carry on from what the database
   * recorded instead of from the first step.
   */
  resume?: IssuanceResume;
}

export interface IssuanceResume {
  status: 'in-review' | 'returned' | 'sealing';
  round: number;
  revision: number;
  /** In review: the step whose task is open (its task is found again, not opened anew). */
  stepIndex: number;
  /** Who approved the earlier steps of this round (four-eyes holds across the restart). */
  approvers: ActorRef[];
  /** The history so far, as the database recorded it (application_events). */
  history: HistoryEntry[];
}

export const applicationStateQuery = defineQuery<ApplicationState>('applicationState');
export const decideUpdate = defineUpdate<ApplicationState, [DecideInput]>('decide');
export const amendUpdate = defineUpdate<ApplicationState, [{ revision: number; actor: Actor }]>('amend');
export const withdrawUpdate = defineUpdate<ApplicationState, [{ actor: Actor; reason?: string }]>('withdraw');
/** Operators' repairs (docs/runbook.md): from the Web UI, `temporal workflow update execute`, or the API. */
export const retryUpdate = defineUpdate<ApplicationState, [OperatorRequest]>('retry');
export const cancelUpdate = defineUpdate<ApplicationState, [OperatorRequest]>('cancel');

/**
 * Validator refusals carry their kind as the failure type and the field at fault in the details, so the API
 * answers 403/409/422 naming it (api/problem.ts problemOf). Refused Updates are not in the history.
 */
function refuse(v: RuleViolation | undefined): void {
  if (!v) return;
  const details = v.field ? [{ field: v.field }] : undefined;
  throw ApplicationFailure.create({ type: v.kind, message: v.message, nonRetryable: true, details });
}

export async function issuanceWorkflow(input: IssuanceInput): Promise<ApplicationState> {
  // Only runs started with `resume` take this path; patched() marks them in their history.
  const resume = input.resume && patched('resume-after-restore') ? input.resume : undefined;
  const state: ApplicationState = {
    applicationId: input.applicationId,
    typeCode: input.typeCode,
    typeVersion: input.typeVersion,
    department: input.department,
    mode: input.mode,
    status: resume?.status ?? 'in-review',
    round: resume?.round ?? 1,
    revision: resume?.revision ?? 1,
    filler: input.filler,
    chain: input.chain,
    currentStep: null,
    approvers: [],
    history: [{ at: input.submittedAt, kind: 'submitted', actor: input.filler }, ...(resume?.history ?? [])],
    certificateNumber: null,
    error: null,
  };
  let decision: DecideInput | undefined;
  let deciding = false;
  /** Bumped when the main loop has acted on a decision, so `decide` can answer with the new state. */
  let settled = 0;
  let amendedTo: number | undefined;
  let withdrawn: { actor: Actor; reason?: string } | undefined;
  let retried: Required<OperatorRequest> | undefined;
  let cancelled: Required<OperatorRequest> | undefined;
  let operating = false;
  /** Bumped when the main flow has acted on an operator's retry or cancel. */
  let operated = 0;
  const log = (e: Omit<HistoryEntry, 'at'>) => state.history.push({ at: new Date().toISOString(), ...e });
  /** Who decided; a delegate's decision names whom they acted for (only new runs see one: patched). */
  const decidedBy = (d: DecideInput): ActorRef => {
    const who = actorRef(d.actor);
    if (!d.onBehalfOf || !patched('acting-for')) return who;
    const { id, name } = actorRef(d.onBehalfOf);
    return { ...who, actingFor: { type: 'user', id, name } };
  };

  setHandler(applicationStateQuery, () => state);

  setHandler(
    decideUpdate,
    async (d) => {
      deciding = true;
      const seen = settled;
      const step = state.currentStep!;
      await inbox.recordDecision({
        applicationId: state.applicationId,
        taskId: d.taskId,
        decision: d.decision,
        comment: d.comment ?? null,
        actor: decidedBy(d),
        step: step.name,
      });
      decision = d;
      await condition(() => settled > seen);
      return state;
    },
    { validator: (d) => refuse(checkDecision(state, d, deciding)) },
  );

  setHandler(
    amendUpdate,
    async ({ revision, actor }) => {
      await inbox.applyAmendment({ applicationId: state.applicationId, revision, actor: actorRef(actor) });
      amendedTo = revision;
      const seen = settled;
      await condition(() => settled > seen);
      return state;
    },
    { validator: ({ actor }) => refuse(checkAmend(state, actor)) },
  );

  setHandler(
    withdrawUpdate,
    async (w) => {
      withdrawn = w;
      const seen = settled;
      await condition(() => settled > seen);
      return state;
    },
    { validator: ({ actor }) => refuse(checkWithdraw(state, actor)) },
  );

  /** Audited first (activities/operations.ts), then acted on by the main flow; answers the state after. */
  async function operate(action: 'retry' | 'cancel', req: OperatorRequest): Promise<ApplicationState> {
    operating = true;
    const request = { reason: req.reason.trim(), operator: req.operator ?? TEMPORAL_OPERATOR };
    try {
      await inbox.recordOperatorAction.executeWithOptions({ summary: `audit operator ${action}` }, [
        {
          applicationId: state.applicationId,
          department: state.department,
          action: `application.${action}`,
          operator: request.operator,
          reason: request.reason,
          detail: { status: state.status, via: req.operator ? 'api' : 'temporal' },
        },
      ]);
      const seen = operated;
      if (action === 'retry') retried = request;
      else cancelled = request;
      await condition(() => operated > seen);
      return state;
    } finally {
      operating = false;
    }
  }
  setHandler(retryUpdate, (req) => operate('retry', req), {
    validator: (r) => refuse(checkRetry(state, r, operating)),
  });
  setHandler(cancelUpdate, (req) => operate('cancel', req), {
    validator: (r) => refuse(checkCancel(state, r, operating)),
  });

  /** What the Web UI shows as the run's current details (no personal data: domain/operations.ts). */
  const show = (stage?: SealingStage) => setCurrentDetails(stateDetails(state, stage));

  async function setStatus(status: ApplicationStatus, entry?: Omit<HistoryEntry, 'at'>) {
    state.status = status;
    if (entry) log(entry);
    upsertSearchAttributes([
      { key: CertType, value: state.typeCode },
      { key: Department, value: state.department },
      { key: StatusKey, value: status },
    ]);
    show();
    const event = entry ? { ...entry, key: `${status}:${state.round}:${state.history.length}` } : null;
    await inbox.markApplication.executeWithOptions({ summary: `application → ${status}` }, [
      { applicationId: state.applicationId, status, event },
    ]);
  }

  /** Runs the chain once; the answer says how it ended. */
  let resumeAtStep = resume?.status === 'in-review' ? resume.stepIndex : 0;
  async function runChain(): Promise<'approved' | 'rejected' | 'returned' | 'withdrawn' | 'cancelled'> {
    state.approvers = resumeAtStep ? [...resume!.approvers] : [];
    const startAt = resumeAtStep;
    resumeAtStep = 0;
    for (const [index, step] of state.chain.entries()) {
      if (index < startAt) continue;
      const deadlineMs = step.deadlineHours ? Math.round(step.deadlineHours * 3_600_000) : undefined;
      const opening = { summary: `open task ${step.name} for ${step.role}` };
      const { taskId, dueAt } = await inbox.openTask.executeWithOptions(opening, [
        {
          applicationId: state.applicationId,
          typeCode: state.typeCode,
          department: state.department,
          round: state.round,
          stepIndex: index,
          step,
          deadlineMs: deadlineMs ?? null,
        },
      ]);
      state.currentStep = {
        index,
        key: step.key,
        name: step.name,
        role: step.role,
        taskId,
        dueAt,
        overdue: false,
        escalated: false,
      };
      decision = undefined;
      deciding = false;
      settled++;
      show();

      const answered = () => decision !== undefined || withdrawn !== undefined || cancelled !== undefined;
      const deadline = { summary: `deadline for step ${step.name}` };
      if (deadlineMs !== undefined && !(await condition(answered, deadlineMs, deadline))) {
        // Past the deadline: remind, and hand the task to the department admin as well if configured.
        await inbox.markOverdue({
          applicationId: state.applicationId,
          taskId,
          step: step.name,
          escalate: step.escalate ?? false,
        });
        state.currentStep.overdue = true;
        state.currentStep.escalated = step.escalate ?? false;
        log({ kind: 'overdue', step: step.name });
        if (step.escalate) log({ kind: 'escalated', step: step.name });
        show();
      }
      await condition(answered);
      if (cancelled) return 'cancelled';
      if (withdrawn) return 'withdrawn';
      const d = decision!;
      const who = decidedBy(d);
      log({
        kind: d.decision === 'approve' ? 'approved' : d.decision === 'reject' ? 'rejected' : 'returned',
        actor: who,
        step: step.name,
        comment: d.comment,
      });
      if (d.decision === 'reject') return 'rejected';
      if (d.decision === 'return') return 'returned';
      state.approvers.push(who);
    }
    return 'approved';
  }

  const resumedPastReview = resume?.status === 'returned' || resume?.status === 'sealing';
  // With nothing to review the submission already answered `sealing`: do not flip it back to in-review.
  const reviews = state.chain.length > 0 || !patched('no-review-status-for-empty-chain');
  if (!resumedPastReview && reviews) await setStatus('in-review');
  // A resumed run that was waiting for the filler's amendment goes straight to that wait.
  let resumeReturned = resume?.status === 'returned';
  while (resume?.status !== 'sealing') {
    const outcome = resumeReturned ? 'returned' : await runChain();
    state.currentStep = null;
    if (outcome === 'approved') break;
    if (outcome === 'rejected') {
      await setStatus('rejected');
      settled++;
      return finish();
    }
    if (outcome === 'withdrawn') return withdraw();
    if (outcome === 'cancelled') return cancel();
    // Returned for correction: wait for the filler's amendment (or withdrawal), then start over.
    if (!resumeReturned) await setStatus('returned');
    resumeReturned = false;
    settled++;
    await condition(() => amendedTo !== undefined || withdrawn !== undefined || cancelled !== undefined);
    if (cancelled) return cancel();
    if (withdrawn) return withdraw();
    state.revision = amendedTo!;
    amendedTo = undefined;
    state.round++;
    log({ kind: 'amended', actor: state.filler });
    await setStatus('in-review');
  }

  // A resumed sealing run already recorded the 'sealing' event.
  await setStatus('sealing', resume?.status === 'sealing' ? undefined : { kind: 'sealing' });
  settled++;
  if (!patched('sealing-pipeline')) {
    // Runs started before the sealing pipeline existed finish the way they began.
    state.certificateNumber = await sealing.recordSealedPlaceholder({ applicationId: state.applicationId });
    await setStatus('issued', { kind: 'issued' });
    return finish();
  }
  for (;;) {
    try {
      state.certificateNumber = await seal();
      break;
    } catch (err) {
      // A failure no automatic retry can mend (a broken template, a seal gone). Nothing
      // half-issued remains; the number, if taken, stays with this application.
      state.error = failureMessage(err);
      await setStatus('failed', { kind: 'failed', comment: state.error });
      // Runs from before operator repair end here (they were reset from the Web UI instead).
      if (!patched('operator-repair')) return finish();
      // Wait for an operator who fixes the cause, then sends `retry` (or `cancel`): docs/runbook.md.
      settled++;
      await condition(() => retried !== undefined || cancelled !== undefined);
      if (cancelled) return cancel();
      const { operator, reason } = retried!;
      retried = undefined;
      state.error = null;
      await setStatus('sealing', { kind: 'retried', actor: operator, comment: reason });
      operated++;
    }
  }
  await setStatus('issued', { kind: 'issued', comment: state.certificateNumber });
  await afterIssue(state.certificateNumber);
  return finish();

  /** Number → render → convert (render queue) → sign → store: the certificate exists after this. */
  async function seal(): Promise<string> {
    const render = proxyActivities<RenderActivities>({
      taskQueue: `${workflowInfo().taskQueue}-render`,
      startToCloseTimeout: '2 minutes',
      retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 10 },
    });
    const id = state.applicationId;
    /** Shows the stage as current details, and names the activity in the Web UI's event history. */
    const at = (stage: SealingStage) => {
      show(stage);
      return { summary: SEALING_STAGES[stage] };
    };
    const number = await sealing.allocateCertificateNumber.executeWithOptions(at('numbering'), [id]);
    const docxSha = await sealing.renderCertificate.executeWithOptions(at('rendering'), [id]);
    const pdfSha = await render.convertCertificate.executeWithOptions(at('converting'), [docxSha]);
    const signed = await sealing.signCertificate.executeWithOptions(at('signing'), [id, pdfSha]);
    await sealing.storeCertificate.executeWithOptions(at('storing'), [id, { ...signed, docxSha }]);
    return number;
  }

  /**
   * Register in the catalog, warm the cache, call the business system back: failures here never
   * undo the certificate.
   */
  async function afterIssue(number: string) {
    setCurrentDetails(`issued ${number} · registering in the catalog`);
    try {
      await catalog.registerInCatalog.executeWithOptions({ summary: `register ${number} in the catalog` }, [number]);
    } catch (err) {
      log({ kind: 'catalog-failed', comment: `listed for re-registration: ${failureMessage(err)}` });
    }
    await sealing.warmCache
      .executeWithOptions({ summary: 'warm the certificate cache' }, [number])
      .catch(() => undefined);
    setCurrentDetails(`issued ${number} · calling the business system back (certificate.issued)`);
    try {
      const callback = { summary: 'callback certificate.issued' };
      await callbacks.notifyCallback.executeWithOptions(callback, [state.applicationId]);
    } catch (err) {
      log({ kind: 'callback-failed', comment: failureMessage(err) });
    }
    if (input.replaces && patched('superseded-callback')) {
      // The old certificate's business system hears that it was superseded, in a run that outlives this one.
      const notice = { number: input.replaces, event: 'superseded' };
      await startChild(notifyStatusChangeWorkflow, {
        ...statusNoticeRunText(notice),
        workflowId: `notify-superseded-${input.replaces}`,
        args: [notice],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        taskQueue: workflowInfo().taskQueue,
      }).catch(() => undefined); // already started by an earlier attempt: nothing more to do
    }
    const trouble = state.history.filter((e) => e.kind === 'catalog-failed' || e.kind === 'callback-failed');
    const followUp = trouble.length ? ` · ${trouble.map((e) => e.kind).join(', ')}: see ${RUNBOOK}` : '';
    setCurrentDetails(`issued ${number}${followUp}`);
  }

  /** "BlobMissing: blob … is missing — fix: …": the failure type names the cause for operators. */
  function failureMessage(err: unknown): string {
    if (!(err instanceof ActivityFailure)) return String(err);
    const cause = err.cause;
    if (cause instanceof ApplicationFailure && cause.type) return `${cause.type}: ${cause.message}`;
    return cause?.message ?? err.message;
  }

  async function withdraw(): Promise<ApplicationState> {
    await inbox.closeOpenTasks({ applicationId: state.applicationId, reason: 'withdrawn' });
    state.currentStep = null;
    await setStatus('withdrawn', { kind: 'withdrawn', actor: actorRef(withdrawn!.actor), comment: withdrawn!.reason });
    settled++;
    return finish();
  }

  async function cancel(): Promise<ApplicationState> {
    await inbox.closeOpenTasks({ applicationId: state.applicationId, reason: 'cancelled by an operator' });
    state.currentStep = null;
    await setStatus('cancelled', { kind: 'cancelled', actor: cancelled!.operator, comment: cancelled!.reason });
    settled++;
    operated++;
    return finish();
  }

  async function finish(): Promise<ApplicationState> {
    // Let in-flight Update handlers return their answer before the run closes.
    await condition(allHandlersFinished);
    return state;
  }
}
