import type { ServiceDeps } from './deps';
import { appendAudit } from '../db/audit';
import { addNotice, dueForReminder, endCertificate, expireBatch, getNotice, recordNoticeAttempt, type EndStatus } from '../db/lifecycle';
import { getCertificate } from '../db/certificates';
import { getApplication } from '../db/applications';
import { invalidateCertificate } from '../db/certificate-cache';
import { bodySha256, callbackSigningKey, postJson, signCallbackBody } from './outbound';
import type { ActorRef } from '../domain/issuance';

/**
 * A certificate's life after issue: the expiry sweep, reminders before expiry, revocation
 * and cancellation, and telling the business system. Every status change deletes the
 * certificate's cache entry, so verification sees it at once. activities/lifecycle.ts
 * adapts these to Temporal (workflows/lifecycle.ts).
 */
export function lifecycleSteps({ db, cache, config, masterKey }: ServiceDeps) {
  const system = { type: 'system', id: null, name: 'expiry-sweep' };

  return {
    /** One batch of the expiry sweep; returns how many it expired. */
    async expireCertificates(input: { asOf: string; limit: number }): Promise<number> {
      const numbers = await expireBatch(db, input.asOf, input.limit);
      if (numbers.length === 0) return 0;
      await invalidateCertificate(cache, ...numbers);
      await appendAudit(db, {
        category: 'operation',
        action: 'certificate.expire',
        outcome: 'success',
        actor: system,
        detail: { asOf: input.asOf, count: numbers.length, numbers },
      });
      return numbers.length;
    },

    /** Records an `expiring` notice for certificates ending within the window; returns how many. */
    async remindExpiring(input: { from: string; to: string; limit: number }): Promise<number> {
      const due = await dueForReminder(db, input.from, input.to, input.limit);
      for (const c of due) {
        const dueOn = c.valid_until instanceof Date ? c.valid_until.toISOString().slice(0, 10) : String(c.valid_until).slice(0, 10);
        await addNotice(db, { number: c.number, event: 'expiring', applicationId: c.application_id, callbackUrl: c.callback_url, dueOn });
      }
      if (due.length) {
        await appendAudit(db, { category: 'operation', action: 'certificate.remind-expiry', outcome: 'success', actor: system, detail: { window: [input.from, input.to], count: due.length, numbers: due.map((c) => c.number) } });
      }
      return due.length;
    },

    async revokeCertificate(input: { number: string; status: EndStatus; reason: string; actor: ActorRef }) {
      const result = await endCertificate(db, input.number, input.status, input.reason);
      if (!result) return undefined;
      await invalidateCertificate(cache, input.number);
      if (result.changed) {
        const cert = (await getCertificate(db, input.number))!;
        const app = await getApplication(db, cert.applicationId);
        await addNotice(db, { number: input.number, event: input.status, applicationId: cert.applicationId, callbackUrl: app?.callbackUrl ?? null });
        await appendAudit(db, {
          category: 'revocation',
          action: `certificate.${input.status === 'revoked' ? 'revoke' : input.status === 'cancelled' ? 'cancel' : 'withdraw'}`,
          outcome: 'success',
          actor: { type: input.actor.type, id: input.actor.id, name: input.actor.name },
          department: cert.department,
          object: { type: 'certificate', id: input.number },
          detail: { reason: input.reason, previous: result.previous },
        });
      }
      return result;
    },

    /** Tells the application's business system about a status change; throws (and is retried) until it answers 2xx. */
    async notifyStatusChange(input: { number: string; event: string }): Promise<{ delivered: boolean; skipped?: string }> {
      const notice = await getNotice(db, input.number, input.event);
      if (!notice?.callback_url) return { delivered: false, skipped: 'no callback URL' };
      if (notice.delivered_at) return { delivered: true, skipped: 'already delivered' };
      const cert = (await getCertificate(db, input.number))!;
      const app = (await getApplication(db, cert.applicationId))!;
      const body = JSON.stringify({
        applicationId: app.id,
        externalRef: app.externalRef,
        certificateNumber: cert.number,
        status: cert.status,
        reason: cert.statusReason,
        changedAt: cert.statusChangedAt,
      });
      const key = callbackSigningKey(masterKey, app.submitter.type === 'api-client' ? { kind: 'api-client', id: app.submitter.id } : { kind: 'department', code: app.department });
      try {
        const res = await postJson(notice.callback_url, body, { 'x-certflow-signature': signCallbackBody(key, body), 'x-certflow-event': `certificate.${input.event}`, 'x-certflow-body-sha256': bodySha256(body) }, config.callbacks.timeoutMs);
        if (res.status < 200 || res.status > 299) throw new Error(`callback answered ${res.status}`);
      } catch (err) {
        await recordNoticeAttempt(db, input.number, input.event, { ok: false, error: (err as Error).message });
        throw err;
      }
      await recordNoticeAttempt(db, input.number, input.event, { ok: true });
      return { delivered: true };
    },
  };
}
