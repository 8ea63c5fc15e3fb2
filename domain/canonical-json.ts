/**
 * Canonical JSON (RFC 8785, JSON Canonicalization Scheme) for the records we sign
 * and hash: the signer and every later verifier must produce the same bytes from
 * the same data, whatever order the keys were built in.
 *
 * - object keys sorted by UTF-16 code units (plain string comparison in JS), no whitespace
 * - numbers as ECMAScript writes them (1e+21, 0.000001, -0 → 0)
 * - strings as JSON.stringify writes them; lone surrogates are rejected (RFC 8785 §3.1
 *   requires I-JSON, which forbids them)
 *
 * Anything JSON.stringify would silently drop or change is rejected instead, with the
 * path of the bad value: undefined, functions, symbols, bigint, NaN, ±Infinity, Date
 * (pass an ISO string: the caller decides precision and zone), Map, Set, class
 * instances, sparse arrays and cycles. A signature over a silently altered record
 * would verify against data nobody meant to sign.
 */

export class CanonicalJsonError extends Error {
  constructor(
    /** JSONPath-like location of the bad value, e.g. `$.face.photo[2]`. */
    public readonly path: string,
    public readonly reason: string,
  ) {
    super(`Cannot canonicalize ${path}: ${reason}`);
    this.name = 'CanonicalJsonError';
  }
}

/**
 * Records are a few levels deep; anything much deeper is an attack on the recursion (a
 * 100 000-deep record posted to the public verify), refused with a path instead of a crash.
 */
export const MAX_JSON_DEPTH = 64;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  const ctor = (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor?.name;
  return ctor ? `a ${ctor}` : 'an object';
}

function childPath(path: string, key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function serializeString(s: string, path: string): string {
  if (LONE_SURROGATE.test(s)) throw new CanonicalJsonError(path, 'string contains a lone UTF-16 surrogate');
  return JSON.stringify(s);
}

function serialize(value: unknown, path: string, ancestors: object[]): string {
  switch (typeof value) {
    case 'string':
      return serializeString(value, path);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(path, `${value} is not a JSON number`);
      // ES Number::toString is exactly the serialisation RFC 8785 §3.2.2.3 requires.
      return String(value === 0 ? 0 : value);
    case 'undefined':
    case 'function':
    case 'symbol':
    case 'bigint':
      throw new CanonicalJsonError(path, `${typeof value} is not a JSON value`);
  }
  if (value === null) return 'null';
  const obj = value as object;
  if (ancestors.includes(obj)) throw new CanonicalJsonError(path, 'value contains a cycle');
  if (ancestors.length >= MAX_JSON_DEPTH)
    throw new CanonicalJsonError(path, `nested more than ${MAX_JSON_DEPTH} levels deep`);
  ancestors.push(obj);
  try {
    if (Array.isArray(obj)) {
      const items: string[] = [];
      for (let i = 0; i < obj.length; i++) {
        if (!(i in obj)) throw new CanonicalJsonError(`${path}[${i}]`, 'array has a hole');
        items.push(serialize(obj[i], `${path}[${i}]`, ancestors));
      }
      return `[${items.join(',')}]`;
    }
    const proto = Object.getPrototypeOf(obj) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      const hint = obj instanceof Date ? ' (pass an ISO 8601 string instead)' : '';
      throw new CanonicalJsonError(path, `${describe(obj)} is not a plain object${hint}`);
    }
    if (Object.getOwnPropertySymbols(obj).length > 0) {
      throw new CanonicalJsonError(path, 'object has symbol keys');
    }
    const record = obj as Record<string, unknown>;
    // Default sort compares UTF-16 code units, which is the order RFC 8785 §3.2.3 asks for.
    const keys = Object.keys(record).sort();
    const members = keys.map((k) => {
      const p = childPath(path, k);
      return `${serializeString(k, p)}:${serialize(record[k], p, ancestors)}`;
    });
    return `{${members.join(',')}}`;
  } finally {
    ancestors.pop();
  }
}

/** RFC 8785 canonical form of `value`; throws CanonicalJsonError naming the bad value. */
export function canonicalize(value: unknown): string {
  return serialize(value, '$', []);
}

/** The UTF-8 bytes to hash or sign. */
export function canonicalBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalize(value));
}

/**
 * Parses JSON text that is to be verified, refusing what JSON.parse would silently accept:
 * a key twice in one object (JSON.parse keeps the last, other parsers the first, so one
 * text would mean two records) and nesting deeper than MAX_JSON_DEPTH. The structure is
 * scanned first, without recursion, so a hostile text cannot exhaust the stack.
 */
export function parseStrictJson(text: string): unknown {
  const stack: { keys: Set<string> | null; expectKey: boolean; path: string }[] = [];
  let lastKey = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        let key: string;
        try {
          key = JSON.parse(text.slice(i, j + 1)) as string;
        } catch {
          throw new CanonicalJsonError('$', 'is not JSON');
        }
        if (top.keys.has(key))
          throw new CanonicalJsonError(childPath(top.path, key), 'the key appears twice in one object');
        top.keys.add(key);
        top.expectKey = false;
        lastKey = key;
      }
      i = j;
    } else if (c === '{' || c === '[') {
      const parent = stack[stack.length - 1];
      const path = !parent ? '$' : parent.keys ? childPath(parent.path, lastKey) : `${parent.path}[]`;
      if (stack.length >= MAX_JSON_DEPTH)
        throw new CanonicalJsonError(path, `nested more than ${MAX_JSON_DEPTH} levels deep`);
      stack.push({ keys: c === '{' ? new Set() : null, expectKey: c === '{', path });
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top?.keys) top.expectKey = true;
    }
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CanonicalJsonError('$', 'is not JSON');
  }
}
