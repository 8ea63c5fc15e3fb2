import type { Config } from '../platform/config';
import { getApplication, type ApplicationRow } from '../db/applications';
import {
  getCertificate,
  getCertificateByApplication,
  wasCallbackDelivered,
  type CertificateRow,
} from '../db/certificates';
import { getNotice } from '../db/lifecycle';
import { getSuspension, type Suspension } from '../db/suspensions';
import { expiryRemindersToEnqueue, findOutboxMessageByKey, type OutboxMessage } from '../db/outbox';
import { dedupeKey, deliver, enqueue, relayPending, type OutboxDeps, type SigningOwner } from './outbox';
import { OutboundError } from './outbound';
import { badGatewayError, ServiceError } from './errors';

/**
 * What the business system that submitted an application is told, all through the outbox
 * (services/outbox.ts): the certificate was issued, it was revoked/cancelled/withdrawn, or it
 * is about to expire. The bodies' fields are what integrators parse: add, never rename.
 */

export interface CallbackDeps extends OutboxDeps {
  config: Pick<Config, 'callbacks' | 'http'>;
}

export type NotifyOutcome = { delivered: boolean; skipped?: string };

/** The message cannot be built: a retry will not change that (its code is the activity's failure type). */
export class CallbackUnavailable extends ServiceError {
  constructor(message: string, code: 'NotFound' | 'NotIssued' | 'UnknownEvent') {
    super(code === 'UnknownEvent' ? 'invalid' : 'not-found', message, { code });
    this.name = 'CallbackUnavailable';
  }
}

export const STATUS_EVENTS = [
  'revoked',
  'cancelled',
  'withdrawn',
  'expiring',
  'superseded',
  'suspended',
  'reinstated',
] as const;
/** Events that can happen to a certificate more than once: one message per suspension (docs/lifecycle.md). */
const PER_SUSPENSION: readonly StatusEvent[] = ['suspended', 'reinstated'];
export type StatusEvent = (typeof STATUS_EVENTS)[number];

const NO_URL: NotifyOutcome = { delivered: false, skipped: 'no callback URL' };
const ALREADY: NotifyOutcome = { delivered: true, skipped: 'already delivered' };

/** API clients' callbacks are signed with their own key, staff-entered applications' with the department's. */
export function signingOwner(app: ApplicationRow): SigningOwner {
  return app.submitter.type === 'api-client'
    ? { kind: 'api-client', id: app.submitter.id }
    : { kind: 'department', code: app.department };
}

/** `certificate.issued`, once per application; throws (retry) until the receiver answers 2xx. */
export async function notifyIssued(deps: CallbackDeps, applicationId: string): Promise<NotifyOutcome> {
  const app = await getApplication(deps.db, applicationId);
  if (!app) throw new CallbackUnavailable(`no application ${applicationId}`, 'NotFound');
  if (!app.callbackUrl) return NO_URL;
  let msg = await findOutboxMessageByKey(deps.db, dedupeKey('certificate.issued', applicationId));
  if (!msg) {
    // Delivered before the outbox existed (migration 008): callback_deliveries says so.
    if (await wasCallbackDelivered(deps.db, applicationId)) return ALREADY;
    const cert = await getCertificateByApplication(deps.db, applicationId);
    if (!cert) throw new CallbackUnavailable(`application ${applicationId} has no certificate`, 'NotIssued');
    msg = await enqueue(deps.db, {
      event: 'certificate.issued',
      subject: applicationId,
      targetUrl: app.callbackUrl,
      owner: signingOwner(app),
      body: {
        applicationId,
        externalRef: app.externalRef,
        certificateNumber: cert.number,
        downloadUrl: downloadUrl(deps.config.http.publicUrl, cert.number, applicationId),
        status: 'issued',
      },
    });
  }
  return send(deps, msg);
}

/**
 * The PDF link in `certificate.issued`. Business systems must state a reason for use (用证事由,
 * api/routes/certificates.ts) on every read; the link carries one naming this callback, so
 * following it as is works for the receiver (with certificates:read) and the audit entry of that
 * read says why: to collect the certificate it applied for (docs/api.md, "Callbacks").
 */
export function downloadUrl(publicUrl: string, number: string, applicationId: string): string {
  const reason = `certificate.issued callback: collect the certificate issued for application ${applicationId}`;
  return `${publicUrl}/api/v1/certificates/${number}/pdf?reason=${encodeURIComponent(reason)}`;
}

/**
 * `certificate.<event>` for a status change, once per certificate and event (per suspension for
 * suspended / reinstated: `suspensionId`); throws (retry) until 2xx.
 */
export async function notifyStatus(
  deps: CallbackDeps,
  number: string,
  event: string,
  suspensionId?: number,
): Promise<NotifyOutcome> {
  if (!(STATUS_EVENTS as readonly string[]).includes(event)) {
    const known = STATUS_EVENTS.join(', ');
    throw new CallbackUnavailable(`no callback for event ${JSON.stringify(event)}: one of ${known}`, 'UnknownEvent');
  }
  const perSuspension = PER_SUSPENSION.includes(event as StatusEvent);
  if (perSuspension !== (suspensionId !== undefined))
    throw new CallbackUnavailable(
      `certificate.${event} needs a suspension id exactly when it is per suspension`,
      'UnknownEvent',
    );
  const msg = await enqueueStatus(deps, number, event as StatusEvent, suspensionId);
  return 'id' in msg ? send(deps, msg) : msg;
}

/** The stored message, or why there is none to send. */
async function enqueueStatus(
  deps: CallbackDeps,
  number: string,
  event: StatusEvent,
  suspensionId?: number,
): Promise<OutboxMessage | NotifyOutcome> {
  const cert = await getCertificate(deps.db, number);
  if (!cert) throw new CallbackUnavailable(`no certificate ${number}`, 'NotFound');
  const app = await getApplication(deps.db, cert.applicationId);
  if (!app?.callbackUrl) return NO_URL;
  const occurrence = suspensionId === undefined ? undefined : String(suspensionId);
  const known = await findOutboxMessageByKey(deps.db, dedupeKey(`certificate.${event}`, number, occurrence));
  if (known) return known;
  // Delivered before the outbox existed (migration 008): the notice row says so.
  if (!occurrence && (await getNotice(deps.db, number, event))?.delivered_at) return ALREADY;
  let body = statusBody(cert, app, event);
  if (suspensionId !== undefined) {
    // Built from the suspension, not the row as it is now: a later change must not alter this message.
    const s = await getSuspension(deps.db, suspensionId);
    if (!s || s.number !== number)
      throw new CallbackUnavailable(`no suspension ${suspensionId} of ${number}`, 'NotFound');
    body = suspensionBody(body, s, event as 'suspended' | 'reinstated');
  }
  return enqueue(deps.db, {
    event: `certificate.${event}`,
    subject: number,
    occurrence,
    targetUrl: app.callbackUrl,
    owner: signingOwner(app),
    body,
  });
}

function suspensionBody(base: Record<string, unknown>, s: Suspension, event: 'suspended' | 'reinstated') {
  if (event === 'suspended')
    return { ...base, status: 'suspended', reason: s.reason, changedAt: s.suspendedAt, suspendedUntil: s.until };
  return { ...base, status: 'valid', reason: s.reinstateReason, changedAt: s.reinstatedAt, suspendedUntil: null };
}

function statusBody(cert: CertificateRow, app: ApplicationRow, event: StatusEvent): Record<string, unknown> {
  const body: Record<string, unknown> = {
    applicationId: app.id,
    externalRef: app.externalRef,
    certificateNumber: cert.number,
    status: cert.status,
    reason: cert.statusReason,
    changedAt: cert.statusChangedAt,
  };
  // A reminder is about the end date, not a status change.
  if (event === 'expiring') body.validUntil = cert.validUntil;
  if (event === 'superseded') body.supersededBy = cert.supersededBy;
  return body;
}

async function send(deps: CallbackDeps, msg: OutboxMessage): Promise<NotifyOutcome> {
  if (msg.status === 'delivered') return ALREADY;
  try {
    await deliver(deps, msg.id);
  } catch (err) {
    // The receiver refused the content (a 4xx other than 408/429): sending it again will not help.
    if (err instanceof OutboundError && err.permanent) throw badGatewayError(err.message, 'CallbackRefused');
    throw err;
  }
  return { delivered: true };
}

/** A reminder keeps being retried by later sweeps for about a day (10 s doubling to 2 h), like the notify workflow. */
const REMINDER_ATTEMPTS = 16;

/**
 * Expiry reminders: the sweep records them in `status_notices` and has no activity per
 * certificate, so this enqueues up to `limit` of them and then tries the due ones (each once,
 * for at most `budgetMs`); the failed ones wait, backed off, for the next sweep.
 */
export async function relayExpiryReminders(
  deps: CallbackDeps,
  opts: { limit: number; budgetMs: number },
): Promise<{ enqueued: number; attempted: number; delivered: number }> {
  const numbers = await expiryRemindersToEnqueue(deps.db, opts.limit);
  for (const number of numbers) await enqueueStatus(deps, number, 'expiring');
  const relayed = await relayPending(deps, 'certificate.expiring', {
    limit: opts.limit,
    giveUpAfter: REMINDER_ATTEMPTS,
    budgetMs: opts.budgetMs,
  });
  return { enqueued: numbers.length, ...relayed };
}
