import { timingSafeEqual } from 'node:crypto';
import type { Db } from '../db/knex';
import type { Cache } from '../platform/cache';
import { createHolderCrypto, holderIdBinding } from '../platform/holder-crypto';
import { createFaceCrypto } from '../platform/face-crypto';
import type { CachedCertificate } from '../db/certificate-cache';
import { getTypeVersion } from '../db/certificate-types';
import { getRegisteredRecord } from '../db/verification';
import { validateFaceData } from '../domain/face-fields';
import type { CertificateRecord } from '../domain/certificate-record';
import { parseHolderId, type HolderId } from '../domain/holder';
import { chinaDate } from '../domain/calendar';
import type { Config } from '../platform/config';
import { ServiceError, unavailableError } from './errors';

/**
 * Compare (比对, docs/standards.md "Sharing rules"): a relying party states what it was told — "the holder's ID is
 * X, the legal representative is Y" — and learns, per field, whether the certificate says the
 * same. It never learns the stored value: the answer is one bit per field it already named.
 *
 * Claims are normalised exactly as face data was when it was submitted (validateFaceData:
 * trimmed text, upper-case ID numbers and credit codes, real dates), so `  91350100m000100y43 `
 * matches the stored code. A claim that could not have been valid face data at all (a credit
 * code with a wrong check character, an unknown field) is an input error naming the field,
 * not a silent "no match": the type's field definitions are no secret.
 *
 * holderId for a person is compared through the signed record's idBinding (HMAC of number and
 * ID under a key derived from the master key, see domain/certificate-record.ts): the signed
 * record decides, not a database row. For an entity, through the keyed lookup hash.
 */

export const HOLDER_KEYS = ['holderId', 'holderName'] as const;

export interface CompareDeps {
  db: Db;
  cache: Cache;
  masterKey: Buffer;
  config: Pick<Config, 'compare'>;
}

/** Who compares (the key of their budget) and how to raise the alert when a budget runs out. */
export interface CompareCaller {
  /** Stable per caller: `user:12`, `api-client:ab12…`. */
  key: string;
  /** Writes the alert audit entry; called once per caller, certificate and day. */
  alert(detail: Record<string, unknown>): Promise<void>;
}

export class CompareInputError extends Error {
  constructor(readonly errors: { field: string; message: string }[]) {
    super(errors.map((e) => `${e.field}: ${e.message}`).join('; '));
    this.name = 'CompareInputError';
  }
}

export type CompareResults = Record<string, { match: boolean }>;

export async function compareCertificateFields(
  deps: CompareDeps,
  cert: CachedCertificate,
  claims: Record<string, unknown>,
  caller: CompareCaller,
): Promise<CompareResults> {
  const type = await getTypeVersion(deps.db, cert.typeCode, cert.typeVersion);
  const fields = type?.faceFields ?? [];
  const errors: { field: string; message: string }[] = [];

  const faceKeys = Object.keys(claims).filter((k) => !(HOLDER_KEYS as readonly string[]).includes(k));
  for (const k of faceKeys) {
    if (!fields.some((f) => f.key === k))
      errors.push({
        field: `fields.${k}`,
        message: `is not a face field of ${cert.typeCode} (nor holderId / holderName)`,
      });
  }
  // Required: an empty claim says nothing; the caller should leave the key out.
  const claimedFields = fields.filter((f) => faceKeys.includes(f.key)).map((f) => ({ ...f, required: true }));
  let normalised: Record<string, unknown> = {};
  if (claimedFields.length) {
    const v = validateFaceData(claimedFields, Object.fromEntries(claimedFields.map((f) => [f.key, claims[f.key]])));
    if (v.ok) normalised = v.data;
    else errors.push(...v.errors.map((e) => ({ field: `fields.${e.field}`, message: e.message })));
  }

  let holderId: HolderId | undefined;
  if ('holderId' in claims) {
    const v = parseHolderId(cert.holderKind, claims.holderId);
    if (v.ok) holderId = v.value;
    else errors.push({ field: 'fields.holderId', message: v.reason });
  }
  let holderName: string | undefined;
  if ('holderName' in claims) {
    const raw = claims.holderName;
    if (typeof raw !== 'string' || !raw.trim() || [...raw.trim()].length > 200)
      errors.push({ field: 'fields.holderName', message: 'must be a name of 1 to 200 characters' });
    else holderName = raw.trim();
  }
  if (errors.length) throw new CompareInputError(errors);

  const budget = await reserveAttempt(deps, cert.number, caller);
  const results: CompareResults = {};
  const stored = createFaceCrypto(deps.masterKey).open(fields, cert.faceData);
  for (const f of claimedFields) results[f.key] = { match: sameValue(normalised[f.key], stored[f.key]) };
  if (holderId !== undefined) results.holderId = { match: await holderIdMatches(deps, cert, holderId) };
  if (holderName !== undefined) results.holderName = { match: holderName === cert.holderName.trim() };
  // Only answers with a "no" spend the budget: a caller who knows the values never runs out.
  if (Object.values(results).every((r) => r.match)) await budget.release();
  return results;
}

/**
 * The attempt budget (docs/security.md, "Personal data and compare"). A masked resident ID
 * leaves little unknown, so an unlimited yes/no oracle gives the number away; each caller gets
 * maxFailuresPerCaller answers with a "no" per certificate and China day, and all callers
 * together maxFailuresPerCertificate. As at sign-in (api/login-throttle.ts), the attempt takes
 * its place in both counters with an atomic increment BEFORE comparing, so parallel requests
 * cannot all read "4 so far"; a refused or all-matching attempt gives its place back. When the
 * counters cannot be reached compare is refused (503): a budget that stops counting is none.
 */
async function reserveAttempt(deps: CompareDeps, number: string, caller: CompareCaller) {
  const { maxFailuresPerCaller, maxFailuresPerCertificate } = deps.config.compare;
  const day = chinaDate(Date.now());
  const callerKey = `compare-fail:caller:${caller.key}:${number}:${day}`;
  const certKey = `compare-fail:certificate:${number}:${day}`;
  const ttl = 2 * 24 * 3600; // past the end of the China day wherever the server's clock is
  let counts: number[];
  try {
    counts = await Promise.all([deps.cache.incr(callerKey, ttl), deps.cache.incr(certKey, ttl)]);
  } catch {
    throw unavailableError(
      'Compare is unavailable for the moment (its attempt counters cannot be reached); try again shortly',
    );
  }
  const release = async () => {
    await Promise.all([deps.cache.decr(callerKey), deps.cache.decr(certKey)]).catch(() => undefined);
  };
  const [callerCount = 0, certCount = 0] = counts;
  const scope =
    callerCount > maxFailuresPerCaller ? 'caller' : certCount > maxFailuresPerCertificate ? 'certificate' : undefined;
  if (scope) {
    await release();
    const limit = scope === 'caller' ? maxFailuresPerCaller : maxFailuresPerCertificate;
    const alertKey = `compare-alert:${scope === 'caller' ? `caller:${caller.key}` : 'certificate'}:${number}:${day}`;
    const first = await deps.cache.incr(alertKey, ttl).then(
      (n) => n === 1,
      () => true,
    );
    if (first) await caller.alert({ scope, limit, day, certificate: number });
    const who = scope === 'caller' ? 'you have made' : 'callers have made';
    throw new ServiceError(
      'too-many',
      `${who} ${limit} compares of ${number} today that did not match; try again tomorrow`,
      {
        title: 'Too Many Requests',
      },
    );
  }
  return { release };
}

async function holderIdMatches(deps: CompareDeps, cert: CachedCertificate, claimed: HolderId): Promise<boolean> {
  if (cert.holderKind === 'person') {
    const registered = await getRegisteredRecord(deps.db, deps.cache, cert.number);
    const binding = registered ? (JSON.parse(registered.record) as CertificateRecord).holder : undefined;
    if (binding?.kind === 'person')
      return equalHex(holderIdBinding(deps.masterKey, cert.number, claimed), binding.idBinding);
  }
  return equalHex(createHolderCrypto(deps.masterKey).lookupHash(claimed), cert.holderIdHash);
}

/** Constant time: the comparison itself should not hint at how close a guess was. */
function equalHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Lists compare as multisets: 经营项目 in another order are the same items. */
function sameValue(claimed: unknown, stored: unknown): boolean {
  if (Array.isArray(claimed) && Array.isArray(stored)) {
    const norm = (a: unknown[]) => a.map((x) => (typeof x === 'string' ? x.trim() : JSON.stringify(x))).sort();
    const [p, q] = [norm(claimed), norm(stored)];
    return p.length === q.length && p.every((x, i) => x === q[i]);
  }
  if (typeof stored === 'string' && typeof claimed === 'string') return claimed === stored.trim();
  return claimed === stored;
}
