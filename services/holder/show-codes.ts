import { createHmac, randomInt } from 'node:crypto';
import QRCode from 'qrcode';
import type { Actor } from '../../domain/access';
import { describeActor } from '../../domain/access';
import { getCertificate } from '../../db/certificates';
import { getCertificateCached } from '../../db/certificate-cache';
import { insertShowCode, redeemShowCode as redeem, type ShowCode } from '../../db/holders';
import { keysOf } from '../../platform/keys';
import type { ServiceDeps } from '../deps';
import { conflictError, invalidError, notFoundError } from '../errors';
import { certificateRecord, certificateView } from '../certificate-view';

/**
 * Show-codes (亮证, docs/holders.md): the holder shows one certificate at a counter as a QR code
 * or 8 characters, valid 5 minutes, redeemable once. 32 symbols without look-alikes (no 0/O,
 * 1/I) make 40 bits; guessing is throttled per caller (api/routes/holder.ts). Only an HMAC of
 * the code is stored, under a key derived from the master key (platform/keys.ts `showCode`).
 */

export const SHOW_CODE_TTL_MS = 5 * 60_000;
export const SHOW_CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
export const SHOW_CODE_PATTERN = /^[A-HJ-NP-Z2-9]{8}$/;

type HolderActor = Extract<Actor, { kind: 'holder' }>;

export function showCodeHash(masterKey: Buffer, code: string): string {
  return createHmac('sha256', keysOf(masterKey).key('showCode')).update(code, 'utf8').digest('hex');
}

/** Codes as typed at a counter: spaces and dashes dropped, upper case. */
export function normaliseShowCode(raw: string): string {
  return raw.replace(/[\s-]/g, '').toUpperCase();
}

export async function createShowCode(
  deps: Pick<ServiceDeps, 'db' | 'masterKey'>,
  holder: HolderActor,
  number: string,
  matter: string | null,
): Promise<{ code: string; expiresAt: string; qrSvg: string; number: string; matter: string | null }> {
  const cert = await getCertificate(deps.db, number);
  if (!cert || cert.holderIdHash !== holder.holderHash) throw notFoundError(`No certificate ${number} of yours`);
  if (cert.status !== 'valid') throw conflictError(`The certificate is ${cert.status}; only a valid one can be shown`);
  const code = Array.from({ length: 8 }, () => SHOW_CODE_ALPHABET[randomInt(SHOW_CODE_ALPHABET.length)]).join('');
  const expiresAt = new Date(Date.now() + SHOW_CODE_TTL_MS).toISOString();
  const row: ShowCode = { certificateNumber: number, holderHash: holder.holderHash, matter, expiresAt };
  await insertShowCode(deps.db, showCodeHash(deps.masterKey, code), row);
  const qrSvg = await QRCode.toString(code, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return { code, expiresAt, qrSvg, number, matter };
}

export type RedeemFailure = 'unknown' | 'expired' | 'used';

/**
 * Redeems a code for this actor: the full certificate (holder ID shown: the holder presented it),
 * its signed record and the PDF, once. Failures say which, so the clerk can ask for a new code.
 */
export async function redeemShowCode(
  deps: Pick<ServiceDeps, 'db' | 'masterKey' | 'cache' | 'blobs' | 'config'>,
  actor: Actor,
  rawCode: string,
) {
  const code = normaliseShowCode(rawCode);
  if (!SHOW_CODE_PATTERN.test(code)) {
    throw invalidError('Not a show-code', [{ field: 'code', message: 'eight letters and digits (no 0, 1, I, O)' }]);
  }
  const who = describeActor(actor);
  const result = await redeem(deps.db, showCodeHash(deps.masterKey, code), `${who.type}:${who.name}`);
  if (!result.ok) return { ok: false as const, reason: result.reason };
  const cert = (await getCertificateCached(deps.db, deps.cache, result.code.certificateNumber))!;
  const base = `${deps.config.http.publicUrl}/api/v1/certificates/${cert.number}`;
  const pdf = await deps.blobs.get(cert.pdfSha256);
  return {
    ok: true as const,
    holderHash: result.code.holderHash,
    matter: result.code.matter,
    certificate: await certificateView(deps, cert, { reveal: true, documentsBase: base }),
    record: await certificateRecord(deps, cert.number),
    pdf: { contentType: 'application/pdf', sha256: cert.pdfSha256, base64: pdf.toString('base64') },
  };
}

export const redeemFailureMessage: Record<RedeemFailure, string> = {
  unknown: 'No such show-code: check the characters, or ask the holder for a new code',
  expired: 'The show-code has expired (5 minutes): ask the holder for a new one',
  used: 'The show-code was used already: ask the holder for a new one',
};
