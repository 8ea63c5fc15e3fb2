import type { Config } from '../../platform/config';
import { getCertificate, type CertificateRow } from '../../db/certificates';
import { getHolderContact, getHolderRequest, holderRemindersToEnqueue } from '../../db/holder-requests';
import { findOutboxMessageByKey, type OutboxMessage } from '../../db/outbox';
import { dedupeKey, deliver, enqueue, relayPending, type OutboxDeps } from '../outbox';
import { OutboundError } from '../outbound';
import { badGatewayError } from '../errors';

/**
 * Notifications to the holder (docs/holders.md, "Notifications to the holder"): expiry reminders
 * and the outcome of the holder's requests, POSTed through the outbox (services/outbox.ts:
 * stored once, signed, every attempt recorded) to the city's SMS/app gateway, HOLDER_NOTIFY_URL.
 *
 * The gateway learns whom to reach by the identity provider's issuer and subject of the holder's
 * last sign-in (holder_contacts) — never the ID number or the name — and what to say: the type of
 * certificate, its number, the date or the outcome, and a link into the portal. A holder who has
 * never signed in has no subject: their reminders wait in the portal (and are sent once they do).
 */

export const HOLDER_EVENTS = {
  expiring: 'holder.certificate-expiring',
  requestDecided: 'holder.request-decided',
} as const;

export interface HolderNotifyDeps extends OutboxDeps {
  config: Pick<Config, 'callbacks' | 'http' | 'holder'>;
}

export type HolderNotifyOutcome = { delivered: boolean; skipped?: string };

const KIND_TEXT = { cancel: '注销申请', correct: '更正申请（异议）' } as const;

function certificatePart(cert: CertificateRow) {
  return {
    number: cert.number,
    typeName: cert.typeName,
    issuer: cert.issuerName,
    department: cert.department,
  };
}

async function enqueueFor(
  deps: HolderNotifyDeps,
  event: string,
  subject: string,
  holderHash: string,
  body: (recipient: Record<string, unknown>) => Record<string, unknown>,
): Promise<OutboxMessage | HolderNotifyOutcome> {
  const notify = deps.config.holder.notify;
  if (!notify) return { delivered: false, skipped: 'HOLDER_NOTIFY_URL is not set' };
  const known = await findOutboxMessageByKey(deps.db, dedupeKey(event, subject));
  if (known) return known;
  const contact = await getHolderContact(deps.db, holderHash);
  if (!contact) return { delivered: false, skipped: 'the holder has not signed in yet: no subject to reach' };
  const recipient = { issuer: contact.issuer, subject: contact.subject, holderKind: contact.holderKind };
  return enqueue(deps.db, {
    event,
    subject,
    targetUrl: notify.url,
    owner: { kind: 'holder-gateway' },
    body: { event, recipient, ...body(recipient) },
  });
}

async function enqueueReminder(deps: HolderNotifyDeps, number: string) {
  const cert = await getCertificate(deps.db, number);
  if (!cert) return { delivered: false, skipped: `no certificate ${number}` };
  return enqueueFor(deps, HOLDER_EVENTS.expiring, number, cert.holderIdHash, () => ({
    certificate: certificatePart(cert),
    validUntil: cert.validUntil,
    message: `您的电子证照《${cert.typeName}》（${cert.number}）将于 ${cert.validUntil} 到期，请及时向${cert.issuerName}办理延续。`,
    portalUrl: `${deps.config.http.publicUrl}/holder/reminders`,
  }));
}

/** Reminders go out from the expiry sweep, retried by later sweeps for about a day (like business systems'). */
const REMINDER_ATTEMPTS = 16;

/**
 * The expiry sweep's step for holders: enqueues up to `limit` recorded expiry reminders whose
 * holder can be reached, then tries the due ones once each within `budgetMs`.
 */
export async function relayHolderReminders(
  deps: HolderNotifyDeps,
  opts: { limit: number; budgetMs: number },
): Promise<{ enqueued: number; attempted: number; delivered: number }> {
  if (!deps.config.holder.notify) return { enqueued: 0, attempted: 0, delivered: 0 };
  const due = await holderRemindersToEnqueue(deps.db, opts.limit);
  for (const r of due) await enqueueReminder(deps, r.number);
  const relayed = await relayPending(deps, HOLDER_EVENTS.expiring, {
    limit: opts.limit,
    giveUpAfter: REMINDER_ATTEMPTS,
    budgetMs: opts.budgetMs,
  });
  return { enqueued: due.length, ...relayed };
}

/** Tells the holder how their request was decided; throws (Temporal retries) until the gateway answers 2xx. */
export async function notifyRequestDecided(deps: HolderNotifyDeps, requestId: number): Promise<HolderNotifyOutcome> {
  const request = await getHolderRequest(deps.db, requestId);
  if (!request) return { delivered: false, skipped: `no request ${requestId}` };
  const cert = await getCertificate(deps.db, request.certificateNumber);
  if (!cert) return { delivered: false, skipped: `no certificate ${request.certificateNumber}` };
  const verdict = request.status === 'accepted' ? '已受理' : '未予受理';
  const msg = await enqueueFor(
    deps,
    HOLDER_EVENTS.requestDecided,
    `holder-request-${request.id}`,
    request.holderHash,
    () => ({
      certificate: certificatePart(cert),
      request: { id: request.id, kind: request.kind, status: request.status, outcome: request.outcome },
      message: `您对电子证照《${cert.typeName}》（${cert.number}）提交的${KIND_TEXT[request.kind]}${verdict}：${request.outcome ?? ''}`,
      portalUrl: `${deps.config.http.publicUrl}/holder/requests`,
    }),
  );
  if (!('id' in msg)) return msg;
  if (msg.status === 'delivered') return { delivered: true, skipped: 'already delivered' };
  try {
    await deliver(deps, msg.id);
  } catch (err) {
    // The gateway refused the content (a 4xx other than 408/429): sending it again will not help.
    if (err instanceof OutboundError && err.permanent) throw badGatewayError(err.message, 'NotificationRefused');
    throw err;
  }
  return { delivered: true };
}
