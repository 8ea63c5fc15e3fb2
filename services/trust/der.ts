/**
 * Just enough DER to write and read CMS SignedData. Hand-written because no installed
 * library models the ESS signing-certificate-v2 attribute, and writing the bytes
 * ourselves keeps signatures byte-for-byte reproducible (idempotent sealing).
 * Definite lengths only: everything we read is DER we wrote, or DER from a CA.
 */

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  SEQUENCE: 0x30,
  SET: 0x31,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
} as const;

/** [n] for constructed context-specific tags (EXPLICIT, or IMPLICIT over a SEQUENCE/SET). */
export const context = (n: number) => 0xa0 | n;

export class DerError extends Error {
  constructor(message: string) {
    super(`malformed DER: ${message}`);
    this.name = 'DerError';
  }
}

// ---------------------------------------------------------------- writing

function encodeLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

export const sequence = (...items: Buffer[]) => tlv(TAG.SEQUENCE, Buffer.concat(items));

/** DER SET OF: elements sorted by their encodings (X.690 §11.6), which is what gets signed. */
export const setOf = (...items: Buffer[]) => tlv(TAG.SET, Buffer.concat([...items].sort(Buffer.compare)));

export const octetString = (b: Buffer) => tlv(TAG.OCTET_STRING, b);

export const nullValue = () => Buffer.from([TAG.NULL, 0]);

export const explicit = (n: number, inner: Buffer) => tlv(context(n), inner);

/** Same content, another tag: IMPLICIT tagging of an already encoded element. */
export function retag(encoded: Buffer, tag: number): Buffer {
  const node = parse(encoded);
  return tlv(tag, node.content);
}

export function integer(value: number | Buffer): Buffer {
  let bytes: Buffer;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`integer: ${value}`);
    const hex = value.toString(16);
    bytes = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
  } else {
    bytes = value;
  }
  // Minimal two's complement, non-negative: strip leading zeros, add one back if the top bit is set.
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0 && (bytes[i + 1]! & 0x80) === 0) i++;
  bytes = bytes.subarray(i);
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return tlv(TAG.INTEGER, bytes);
}

/** Arcs as BigInt: UUID-derived OIDs (2.25.<128-bit>) do not fit a double. */
export function oid(dotted: string): Buffer {
  const parts = dotted.split('.');
  if (parts.length < 2 || parts.some((p) => !/^\d+$/.test(p))) throw new RangeError(`not an OID: ${dotted}`);
  const big = parts.map(BigInt);
  const out: number[] = [];
  const arcs = [big[0]! * 40n + big[1]!, ...big.slice(2)];
  for (const arc of arcs) {
    const chunk: number[] = [];
    let v = arc;
    do {
      chunk.unshift(Number(v & 0x7fn));
      v >>= 7n;
    } while (v > 0n);
    for (let j = 0; j < chunk.length - 1; j++) chunk[j]! |= 0x80;
    out.push(...chunk);
  }
  return tlv(TAG.OID, Buffer.from(out));
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; always whole seconds, Z. */
export function time(date: Date): Buffer {
  const iso = date.toISOString(); // 2025-03-01T08:00:00.000Z
  const digits = iso.slice(0, 19).replace(/[-:T]/g, '');
  const year = date.getUTCFullYear();
  return year >= 1950 && year < 2050
    ? tlv(TAG.UTC_TIME, Buffer.from(`${digits.slice(2)}Z`, 'ascii'))
    : tlv(TAG.GENERALIZED_TIME, Buffer.from(`${digits}Z`, 'ascii'));
}

// ---------------------------------------------------------------- reading

export interface DerNode {
  tag: number;
  /** The whole element, header included: what gets hashed or re-signed. */
  raw: Buffer;
  content: Buffer;
}

/** Parses the element at the start of `buf`; bytes after it are ignored (PDF /Contents padding). */
export function parse(buf: Buffer): DerNode {
  if (buf.length < 2) throw new DerError('truncated header');
  const tag = buf[0]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not used here');
  let length = buf[1]!;
  let header = 2;
  if (length === 0x80) throw new DerError('indefinite length (BER) is not DER');
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n > 4 || buf.length < 2 + n) throw new DerError('bad length');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf[2 + i]!;
    header += n;
  }
  if (buf.length < header + length) throw new DerError('element runs past the end of its container');
  return { tag, raw: buf.subarray(0, header + length), content: buf.subarray(header, header + length) };
}

export function children(node: DerNode): DerNode[] {
  if ((node.tag & 0x20) === 0) throw new DerError(`tag 0x${node.tag.toString(16)} is not constructed`);
  const out: DerNode[] = [];
  let rest = node.content;
  while (rest.length > 0) {
    const child = parse(rest);
    out.push(child);
    rest = rest.subarray(child.raw.length);
  }
  return out;
}

/** Children, checking the tag on the way: the shape errors then say what was expected. */
export function expect(node: DerNode | undefined, tag: number, what: string): DerNode {
  if (!node) throw new DerError(`${what} is missing`);
  if (node.tag !== tag)
    throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, got 0x${node.tag.toString(16)}`);
  return node;
}

export function readOid(node: DerNode): string {
  expect(node, TAG.OID, 'object identifier');
  const bytes = node.content;
  const arcs: bigint[] = [];
  let v = 0n;
  for (const b of bytes) {
    v = (v << 7n) | BigInt(b & 0x7f);
    if ((b & 0x80) === 0) {
      arcs.push(v);
      v = 0n;
    }
  }
  const first = arcs.shift() ?? 0n;
  const head = first < 80n ? [first / 40n, first % 40n] : [2n, first - 80n];
  return [...head, ...arcs].join('.');
}

export function readTime(node: DerNode): Date {
  const date = parseTime(node);
  if (Number.isNaN(date.getTime())) throw new DerError('invalid time');
  return date;
}

function parseTime(node: DerNode): Date {
  const s = node.content.toString('ascii');
  let m: RegExpMatchArray | null;
  if (node.tag === TAG.UTC_TIME && (m = s.match(/^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/))) {
    const yy = Number(m[1]);
    return new Date(Date.UTC(yy < 50 ? 2000 + yy : 1900 + yy, Number(m[2]) - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
  }
  if (node.tag === TAG.GENERALIZED_TIME && (m = s.match(/^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.\d+)?Z$/))) {
    return new Date(Date.UTC(+m[1]!, Number(m[2]) - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
  }
  throw new DerError(`not a UTC time: ${s}`);
}
