import type { ServiceDeps } from './deps';
import { appendAudit } from '../db/audit';
import { addNotice, dueForReminder, endCertificate, expireBatch, type EndStatus } from '../db/lifecycle';
import { getCertificate } from '../db/certificates';
import { getApplication } from '../db/applications';
import { invalidateCertificate } from '../db/certificate-cache';
import { notifyStatus, relayExpiryReminders } from './callbacks';
import { relayHolderReminders } from './holder/notify';
import { recordCatalogStatusChange } from './sharing/catalog-sync';
import type { ActorRef } from '../domain/issuance';
import { setCredentialStatus } from './credentials/issue';

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
      // For the external catalog (services/sharing/catalog-sync.ts); the sweep relays them.
      await recordCatalogStatusChange(db, numbers, 'expired');
      await invalidateCertificate(cache, ...numbers);
      await appendAudit(
        db,
        {
          category: 'operation',
          action: 'certificate.expire',
          outcome: 'success',
          actor: system,
          detail: { asOf: input.asOf, count: numbers.length, numbers },
        },
        masterKey,
      );
      return numbers.length;
    },

    /** Records an `expiring` notice for certificates ending within the window; returns how many. */
    async remindExpiring(input: { from: string; to: string; limit: number }): Promise<number> {
      const due = await dueForReminder(db, input.from, input.to, input.limit);
      for (const c of due) {
        const dueOn =
          c.valid_until instanceof Date ? c.valid_until.toISOString().slice(0, 10) : String(c.valid_until).slice(0, 10);
        await addNotice(db, {
          number: c.number,
          event: 'expiring',
          applicationId: c.application_id,
          callbackUrl: c.callback_url,
          dueOn,
        });
      }
      if (due.length) {
        await appendAudit(
          db,
          {
            category: 'operation',
            action: 'certificate.remind-expiry',
            outcome: 'success',
            actor: system,
            detail: { window: [input.from, input.to], count: due.length, numbers: due.map((c) => c.number) },
          },
          masterKey,
        );
      }
      return due.length;
    },

    async revokeCertificate(input: { number: string; status: EndStatus; reason: string; actor: ActorRef }) {
      const result = await endCertificate(db, input.number, input.status, input.reason);
      if (!result) return undefined;
      // The credential status list too (docs/trust.md); also on a retry that finds it already ended.
      await setCredentialStatus({ db }, input.number, 'revocation', true);
      await invalidateCertificate(cache, input.number);
      // Also on a retry after the change: the catalog must hear of it (services/sharing/catalog-sync.ts).
      if (result.changed || result.previous === input.status)
        await recordCatalogStatusChange(db, [input.number], input.status);
      if (result.changed) {
        const cert = (await getCertificate(db, input.number))!;
        const app = await getApplication(db, cert.applicationId);
        await addNotice(db, {
          number: input.number,
          event: input.status,
          applicationId: cert.applicationId,
          callbackUrl: app?.callbackUrl ?? null,
        });
        await appendAudit(
          db,
          {
            category: 'revocation',
            action: `certificate.${input.status === 'revoked' ? 'revoke' : input.status === 'cancelled' ? 'cancel' : 'withdraw'}`,
            outcome: 'success',
            actor: { type: input.actor.type, id: input.actor.id, name: input.actor.name },
            department: cert.department,
            object: { type: 'certificate', id: input.number },
            detail: { reason: input.reason, previous: result.previous },
          },
          masterKey,
        );
      }
      return result;
    },

    /** Tells the application's business system about a status change; throws (and is retried) until it answers 2xx. */
    async notifyStatusChange(input: {
      number: string;
      event: string;
      /** Only for suspended / reinstated: which suspension (docs/lifecycle.md). */
      suspensionId?: number;
    }): Promise<{ delivered: boolean; skipped?: string }> {
      return notifyStatus({ db, config, masterKey }, input.number, input.event, input.suspensionId);
    },

    /** Sends the recorded expiry reminders through the outbox; failed ones wait for the next sweep. */
    async notifyExpiring(input: {
      limit: number;
    }): Promise<{ enqueued: number; attempted: number; delivered: number }> {
      return relayExpiryReminders({ db, config, masterKey }, { limit: input.limit, budgetMs: 60_000 });
    },

    /** The same reminders to the holders, through the notification gateway (docs/holders.md); failed ones wait too. */
    async notifyHolderReminders(input: {
      limit: number;
    }): Promise<{ enqueued: number; attempted: number; delivered: number }> {
      return relayHolderReminders({ db, config, masterKey }, { limit: input.limit, budgetMs: 60_000 });
    },
  };
}
