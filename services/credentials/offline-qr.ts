import { createHash, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalBytes } from '../../domain/canonical-json';
import { departmentKey } from './keys';

/**
 * The signature printed in a certificate's QR code (docs/trust.md, "Offline QR"): the verify
 * page checks it with WebCrypto against the department's published key, with no round trip.
 *
 * It is made at render time, so it cannot name the PDF's hash (the PDF contains the QR code).
 * It signs what is fixed before rendering instead: the number, the holder's name (masked for a
 * person, as the public verify page shows it), the validity, the issuing department, and the
 * SHA-256 of the face data as the signed record carries it (canonical JSON of record.faceData,
 * truncated to 128 bits) — a relying party holding the record or the credential can match it.
 *
 * Token: `cf1.<base64url payload>.<base64url signature>`, placed after `#` in the verify URL
 * so browsers never send it to the server. The payload is a JSON array
 * `[1, number, holderName, validFrom, validUntil|null, department, faceHash]`; the signature is
 * ES256 (P-256, SHA-256, raw r||s as JWS) over the ASCII bytes `cf1.<base64url payload>`.
 */
export const QR_TOKEN_PREFIX = 'cf1';

export interface OfflineFacts {
  number: string;
  /** As printed for the public: a person's name masked (services/verify.ts maskPersonName). */
  holderName: string;
  validFrom: string;
  validUntil: string | null;
  department: string;
  /** faceDataHash of the record's faceData. */
  faceHash: string;
}

/** base64url of the first 16 bytes of SHA-256 over the canonical JSON of the record's face data. */
export function faceDataHash(recordFaceData: Record<string, unknown>): string {
  return createHash('sha256').update(canonicalBytes(recordFaceData)).digest().subarray(0, 16).toString('base64url');
}

export function signOfflineFacts(masterKey: Buffer, facts: OfflineFacts): string {
  const payload = [
    1,
    facts.number,
    facts.holderName,
    facts.validFrom,
    facts.validUntil,
    facts.department,
    facts.faceHash,
  ];
  const input = `${QR_TOKEN_PREFIX}.${Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url')}`;
  const key = departmentKey(masterKey, facts.department, 'qr');
  const signature = sign('sha256', Buffer.from(input, 'ascii'), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

/** Checks a token as the verify page does (web/static/js/offline-check.js): the facts, or why not. */
export function verifyOfflineToken(
  token: string,
  publicKeyOf: (department: string) => KeyObject | undefined,
): { ok: true; facts: OfflineFacts } | { ok: false; reason: string } {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== QR_TOKEN_PREFIX) return { ok: false, reason: 'not a cf1 token' };
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'payload is not JSON' };
  }
  if (!Array.isArray(payload) || payload[0] !== 1 || payload.length !== 7) return { ok: false, reason: 'bad payload' };
  const [, number, holderName, validFrom, validUntil, department, faceHash] = payload as [
    number,
    string,
    string,
    string,
    string | null,
    string,
    string,
  ];
  const key = publicKeyOf(department);
  if (!key) return { ok: false, reason: `no key for department ${department}` };
  const good = verify(
    'sha256',
    Buffer.from(`${parts[0]}.${parts[1]}`, 'ascii'),
    { key, dsaEncoding: 'ieee-p1363' },
    Buffer.from(parts[2]!, 'base64url'),
  );
  if (!good) return { ok: false, reason: 'signature does not match' };
  return { ok: true, facts: { number, holderName, validFrom, validUntil, department, faceHash } };
}

/** The published keys (GET /api/v1/trust/offline-keys): JWK, kid = department code. */
export function offlineQrKeys(masterKey: Buffer, departments: { code: string; name: string }[]) {
  return departments.map(({ code, name }) => ({
    kid: code,
    name,
    ...departmentKey(masterKey, code, 'qr').publicJwk,
    alg: 'ES256' as const,
    use: 'sig' as const,
  }));
}
