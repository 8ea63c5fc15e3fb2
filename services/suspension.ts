import type { ServiceDeps } from './deps';
import { appendAudit } from '../db/audit';
import { reinstateCertificate, suspendCertificate } from '../db/suspensions';
import type { ActorRef } from '../domain/issuance';
import { statusChanged } from './status-hooks';

/**
 * Suspension (暂停) and reinstatement (恢复) by the issuing department's admin
 * (docs/lifecycle.md). Each step is the status change with its audit entry in one transaction,
 * then the cache drop; activities/suspension.ts adapts them to workflows/suspension.ts, which
 * holds the timer.
 */

export interface SuspendInput {
  number: string;
  reason: string;
  /** The last day of the suspension (China date); null: until reinstated by hand. */
  until: string | null;
  actor: ActorRef;
  /** The workflow run: a retried activity finds its suspension. */
  key: string;
}

export interface ReinstateInput {
  suspensionId: number;
  number: string;
  reason: string;
  /** Who reinstated; the timer is the system actor `suspension-timer`. */
  actor: ActorRef;
}

export type SuspendResult =
  | { changed: true; suspensionId: number; suspendedAt: string; until: string | null }
  | { changed: false; previous: string }
  | null;

export type ReinstateResult = { changed: boolean; status: string; reinstatedAt: string } | null;

const auditActor = (a: ActorRef) => ({ type: a.type, id: a.type === 'system' ? null : a.id, name: a.name });

export function suspensionSteps(deps: ServiceDeps) {
  const { db, masterKey } = deps;
  return {
    async suspendCertificate(input: SuspendInput): Promise<SuspendResult> {
      const out = await suspendCertificate(
        db,
        { number: input.number, reason: input.reason, until: input.until, by: input.actor.name, key: input.key },
        async (trx, s, department) => {
          await appendAudit(
            trx,
            {
              category: 'revocation',
              action: 'certificate.suspend',
              outcome: 'success',
              actor: auditActor(input.actor),
              department,
              object: { type: 'certificate', id: input.number },
              detail: { reason: input.reason, until: input.until, suspensionId: s.id },
            },
            masterKey,
          );
        },
      );
      if (!out) return null;
      if (!out.changed) return { changed: false, previous: out.previous };
      await statusChanged(deps, { number: input.number, status: 'suspended', reason: input.reason });
      const s = out.suspension;
      return { changed: true, suspensionId: s.id, suspendedAt: s.suspendedAt, until: s.until };
    },

    async reinstateCertificate(input: ReinstateInput): Promise<ReinstateResult> {
      const out = await reinstateCertificate(
        db,
        { id: input.suspensionId, reason: input.reason, by: input.actor.name },
        async (trx, department) => {
          await appendAudit(
            trx,
            {
              category: 'revocation',
              action: 'certificate.reinstate',
              outcome: 'success',
              actor: auditActor(input.actor),
              department,
              object: { type: 'certificate', id: input.number },
              detail: { reason: input.reason, suspensionId: input.suspensionId },
            },
            masterKey,
          );
        },
      );
      if (out) await statusChanged(deps, { number: input.number, status: 'valid', reason: input.reason });
      return out ?? null;
    },
  };
}
