import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  defineQuery,
  defineUpdate,
  patched,
  proxyActivities,
  setHandler,
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
}

export const applicationStateQuery = defineQuery<ApplicationState>('applicationState');
export const decideUpdate = defineUpdate<ApplicationState, [DecideInput]>('decide');
export const amendUpdate = defineUpdate<ApplicationState, [{ revision: number; actor: Actor }]>('amend');
export const withdrawUpdate = defineUpdate<ApplicationState, [{ actor: Actor; reason?: string }]>('withdraw');

/** Validator refusals carry their kind as the failure type, so the API can answer 403/409/422. */
function refuse(v: RuleViolation | undefined): void {
  if (v) throw ApplicationFailure.create({ type: v.kind, message: v.message, nonRetryable: true });
}

export async function issuanceWorkflow(input: IssuanceInput): Promise<ApplicationState> {
  const state: ApplicationState = {
    applicationId: input.applicationId,
    typeCode: input.typeCode,
    typeVersion: input.typeVersion,
    department: input.department,
    mode: input.mode,
    status: 'in-review',
    round: 1,
    revision: 1,
    filler: input.filler,
    chain: input.chain,
    currentStep: null,
    approvers: [],
    history: [{ at: input.submittedAt, kind: 'submitted', actor: input.filler }],
    certificateNumber: null,
    error: null,
  };
  let decision: DecideInput | undefined;
  let deciding = false;
  /** Bumped when the main loop has acted on a decision, so `decide` can answer with the new state. */
  let settled = 0;
  let amendedTo: number | undefined;
  let withdrawn: { actor: Actor; reason?: string } | undefined;
  const log = (e: Omit<HistoryEntry, 'at'>) => state.history.push({ at: new Date().toISOString(), ...e });

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
        actor: actorRef(d.actor),
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

  async function setStatus(status: ApplicationStatus, entry?: Omit<HistoryEntry, 'at'>) {
    state.status = status;
    if (entry) log(entry);
    upsertSearchAttributes([
      { key: CertType, value: state.typeCode },
      { key: Department, value: state.department },
      { key: StatusKey, value: status },
    ]);
    await inbox.markApplication({ applicationId: state.applicationId, status, event: entry ? { ...entry, key: `${status}:${state.round}:${state.history.length}` } : null });
  }

  /** Runs the chain once; the answer says how it ended. */
  async function runChain(): Promise<'approved' | 'rejected' | 'returned' | 'withdrawn'> {
    state.approvers = [];
    for (const [index, step] of state.chain.entries()) {
      const deadlineMs = step.deadlineHours ? Math.round(step.deadlineHours * 3_600_000) : undefined;
      const { taskId, dueAt } = await inbox.openTask({
        applicationId: state.applicationId,
        typeCode: state.typeCode,
        department: state.department,
        round: state.round,
        stepIndex: index,
        step,
        deadlineMs: deadlineMs ?? null,
      });
      state.currentStep = { index, key: step.key, name: step.name, role: step.role, taskId, dueAt, overdue: false, escalated: false };
      decision = undefined;
      deciding = false;
      settled++;

      const answered = () => decision !== undefined || withdrawn !== undefined;
      if (deadlineMs !== undefined && !(await condition(answered, deadlineMs))) {
        // Past the deadline: remind, and hand the task to the department admin as well if configured.
        await inbox.markOverdue({ applicationId: state.applicationId, taskId, step: step.name, escalate: step.escalate ?? false });
        state.currentStep.overdue = true;
        state.currentStep.escalated = step.escalate ?? false;
        log({ kind: 'overdue', step: step.name });
        if (step.escalate) log({ kind: 'escalated', step: step.name });
      }
      await condition(answered);
      if (withdrawn) return 'withdrawn';
      const d = decision!;
      const who = actorRef(d.actor);
      log({ kind: d.decision === 'approve' ? 'approved' : d.decision === 'reject' ? 'rejected' : 'returned', actor: who, step: step.name, comment: d.comment });
      if (d.decision === 'reject') return 'rejected';
      if (d.decision === 'return') return 'returned';
      state.approvers.push(who);
    }
    return 'approved';
  }

  // With nothing to review the submission already answered `sealing`: do not flip it back to in-review.
  if (state.chain.length > 0 || !patched('no-review-status-for-empty-chain')) await setStatus('in-review');
  for (;;) {
    const outcome = await runChain();
    state.currentStep = null;
    if (outcome === 'approved') break;
    if (outcome === 'rejected') {
      await setStatus('rejected');
      settled++;
      return finish();
    }
    if (outcome === 'withdrawn') return withdraw();
    // Returned for correction: wait for the filler's amendment (or withdrawal), then start over.
    await setStatus('returned');
    settled++;
    await condition(() => amendedTo !== undefined || withdrawn !== undefined);
    if (withdrawn) return withdraw();
    state.revision = amendedTo!;
    amendedTo = undefined;
    state.round++;
    log({ kind: 'amended', actor: state.filler });
    await setStatus('in-review');
  }

  await setStatus('sealing', { kind: 'sealing' });
  settled++;
  if (!patched('sealing-pipeline')) {
    // Runs started before the sealing pipeline existed finish the way they began.
    state.certificateNumber = await sealing.recordSealedPlaceholder({ applicationId: state.applicationId });
    await setStatus('issued', { kind: 'issued' });
    return finish();
  }
  try {
    state.certificateNumber = await seal();
  } catch (err) {
    // A failure no retry can mend (a broken template, a seal gone): stop for an operator,
    // who fixes the cause and resets the run from the Web UI. Nothing half-issued remains.
    state.error = failureMessage(err);
    await setStatus('failed', { kind: 'failed', comment: state.error });
    return finish();
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
    const number = await sealing.allocateCertificateNumber(id);
    const docxSha = await sealing.renderCertificate(id);
    const pdfSha = await render.convertCertificate(docxSha);
    const signed = await sealing.signCertificate(id, pdfSha);
    await sealing.storeCertificate(id, { ...signed, docxSha });
    return number;
  }

  /**
   * Register in the catalog, warm the cache, call the business system back: failures here never
   * undo the certificate.
   */
  async function afterIssue(number: string) {
    try {
      await catalog.registerInCatalog(number);
    } catch (err) {
      log({ kind: 'catalog-failed', comment: `listed for re-registration: ${failureMessage(err)}` });
    }
    await sealing.warmCache(number).catch(() => undefined);
    try {
      await callbacks.notifyCallback(state.applicationId);
    } catch (err) {
      log({ kind: 'callback-failed', comment: failureMessage(err) });
    }
  }

  function failureMessage(err: unknown): string {
    return err instanceof ActivityFailure ? (err.cause?.message ?? err.message) : String(err);
  }

  async function withdraw(): Promise<ApplicationState> {
    await inbox.closeOpenTasks({ applicationId: state.applicationId, reason: 'withdrawn' });
    state.currentStep = null;
    await setStatus('withdrawn', { kind: 'withdrawn', actor: actorRef(withdrawn!.actor), comment: withdrawn!.reason });
    settled++;
    return finish();
  }

  async function finish(): Promise<ApplicationState> {
    // Let in-flight Update handlers return their answer before the run closes.
    await condition(allHandlersFinished);
    return state;
  }
}
