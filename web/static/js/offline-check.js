/**
 * The offline check of a printed QR code (docs/trust.md, "Offline QR"): the QR code's URL carries
 * after `#` a token `cf1.<payload>.<signature>` — ES256 by the issuing department over the
 * certificate's essential facts. The browser checks it with WebCrypto against the department's
 * published key (GET /api/v1/trust/offline-keys, kept in localStorage), so the answer needs no
 * round trip once the keys are cached, and the token never reaches the server (a fragment is not sent).
 */
const KEYS = 'certflow.offlineKeys';
const KEYS_URL = '/api/v1/trust/offline-keys';

function fromBase64url(text) {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

/** The token in a location hash, split; null when there is none. */
export function parseToken(hash) {
  const token = decodeURIComponent(String(hash || '').replace(/^#/, ''));
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== 'cf1') return null;
  try {
    const p = JSON.parse(new TextDecoder().decode(fromBase64url(parts[1])));
    if (!Array.isArray(p) || p[0] !== 1 || p.length !== 7) return { parts, facts: null };
    const [, number, holderName, validFrom, validUntil, department, faceHash] = p;
    return { parts, facts: { number, holderName, validFrom, validUntil, department, faceHash } };
  } catch {
    return { parts, facts: null };
  }
}

function cachedKeys() {
  try {
    return JSON.parse(localStorage.getItem(KEYS) || 'null');
  } catch {
    return null;
  }
}

/** The department's published key: from this browser's copy, else fetched once (and kept). */
async function keyFor(department) {
  let set = cachedKeys();
  let jwk = set?.keys?.find((k) => k.kid === department);
  if (!jwk) {
    const r = await fetch(KEYS_URL, { headers: { accept: 'application/json' } });
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    set = await r.json();
    localStorage.setItem(KEYS, JSON.stringify({ fetchedAt: new Date().toISOString(), keys: set.keys }));
    jwk = set.keys.find((k) => k.kid === department);
  }
  if (!jwk) return null;
  const { kty, crv, x, y } = jwk;
  const key = await crypto.subtle.importKey('jwk', { kty, crv, x, y }, { name: 'ECDSA', namedCurve: 'P-256' }, false, [
    'verify',
  ]);
  return { key, name: jwk.name || department };
}

/** Today in China (validity dates are China dates). */
function chinaToday() {
  return new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);
}

/**
 * Checks the token for `number`. result: 'passed' (signature good, the number matches, within the
 * printed validity), 'failed' (with reason), or 'unavailable' (no token, no key, no WebCrypto).
 */
export async function offlineCheck(number, hash) {
  const parsed = parseToken(hash);
  if (!parsed) return { result: 'unavailable', reason: 'no-token' };
  if (!parsed.facts) return { result: 'failed', reason: 'malformed' };
  const { facts, parts } = parsed;
  if (!globalThis.crypto?.subtle) return { result: 'unavailable', reason: 'no-webcrypto', facts };
  let found;
  try {
    found = await keyFor(facts.department);
  } catch {
    return { result: 'unavailable', reason: 'no-key', facts };
  }
  if (!found) return { result: 'failed', reason: 'unknown-department', facts };
  const good = await crypto.subtle.verify(
    { name: 'ECDSA', hash: 'SHA-256' },
    found.key,
    fromBase64url(parts[2]),
    new TextEncoder().encode(`${parts[0]}.${parts[1]}`),
  );
  const base = { facts, departmentName: found.name };
  if (!good) return { ...base, result: 'failed', reason: 'signature' };
  if (String(facts.number).toUpperCase() !== String(number).toUpperCase()) {
    return { ...base, result: 'failed', reason: 'number' };
  }
  const today = chinaToday();
  if (today < facts.validFrom || (facts.validUntil && today > facts.validUntil)) {
    return { ...base, result: 'failed', reason: 'dates' };
  }
  return { ...base, result: 'passed' };
}
