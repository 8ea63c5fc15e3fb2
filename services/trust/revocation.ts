import type { Db } from '../../db/knex';
import {
  getSeal,
  insertSealRevocation,
  findSealRevocation,
  type RevocationReason,
  type SealRevocationRow,
} from '../../db/trust';
import { conflictError, invalidError, notFoundError } from '../errors';
import type { Check } from './pki';

/**
 * Seal revocation (docs/trust.md, "Revocation"): a platform admin revokes a department's seal
 * certificate for key compromise — from a "compromised since" time — or because it was
 * superseded. The seal stops signing at once; the root's CRL lists it; verification keeps
 * signatures whose timestamp proves they were made before the cut-off.
 */

export async function revokeSeal(
  db: Db,
  input: { sealId: number; reason: RevocationReason; compromisedSince?: Date; comment?: string; revokedBy: string },
  now = new Date(),
): Promise<SealRevocationRow> {
  const seal = await getSeal(db, input.sealId);
  if (!seal) throw notFoundError(`no seal ${input.sealId}`);
  if (input.reason === 'keyCompromise' && !input.compromisedSince) {
    throw invalidError('a key compromise needs the time since when the key is compromised', [
      { field: 'compromisedSince', message: 'required when reason is keyCompromise' },
    ]);
  }
  if (input.compromisedSince && input.compromisedSince.getTime() > now.getTime()) {
    throw invalidError('compromisedSince is in the future', [
      { field: 'compromisedSince', message: 'must not be in the future' },
    ]);
  }
  const row: SealRevocationRow = {
    sealId: seal.id,
    serial: seal.serial,
    reason: input.reason,
    compromisedAt: input.reason === 'keyCompromise' ? input.compromisedSince!.toISOString() : null,
    revokedAt: new Date(Math.floor(now.getTime() / 1000) * 1000).toISOString(),
    revokedBy: input.revokedBy,
    comment: input.comment ?? null,
  };
  if (!(await insertSealRevocation(db, row))) throw conflictError(`seal ${seal.id} is already revoked`);
  return (await findSealRevocation(db, seal.serial))!;
}

/**
 * Whether a signature by the certificate `serial` still counts. Signatures made before the
 * cut-off (the compromise time, or the revocation for a superseded seal) stay valid — but
 * only a timestamp proves when a signature was made; the signer's own claim does not.
 */
export async function revocationCheck(db: Db, serial: string, provenTime: Date | undefined): Promise<Check> {
  const r = await findSealRevocation(db, serial);
  if (!r) return { ok: true, reason: `the signer certificate (serial ${serial}) is not revoked` };
  const cutoff = new Date(r.reason === 'keyCompromise' ? r.compromisedAt! : r.revokedAt);
  const what =
    r.reason === 'keyCompromise'
      ? `revoked for key compromise, compromised since ${cutoff.toISOString()}`
      : `revoked as superseded on ${cutoff.toISOString()}`;
  if (!provenTime)
    return { ok: false, reason: `the signer certificate was ${what}, and no timestamp proves the signature older` };
  return provenTime.getTime() < cutoff.getTime()
    ? {
        ok: true,
        reason: `the signer certificate was ${what}; the timestamp proves the signature was made before, at ${provenTime.toISOString()}`,
      }
    : {
        ok: false,
        reason: `the signer certificate was ${what}; the signature was timestamped after, at ${provenTime.toISOString()}`,
      };
}
