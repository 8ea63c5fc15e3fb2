/**
 * The certificate number printed on the face (证照编号). It is for people to read out
 * and type, so it is short and split by hyphens; the machine identifier
 * (identifier.ts) is kept beside it, not derived from it.
 *
 *   <type>-<region>-<year>-<serial>-<check>     e.g.  BL-330106-2026-0000042-B
 *
 * - type:   2–8 characters of A-Z 0-9, the certificate type's short code (BL = business licence)
 * - region: 6 digits, the issuing region's GB/T 2260 code (330106 = 杭州市西湖区)
 * - year:   4 digits, the year of issue, 1900 or later
 * - serial: 7 digits, zero-padded, 0000001–9999999, counted per (type, region, year)
 * - check:  ISO/IEC 7064 MOD 37,36 over type + region + year + serial without hyphens
 *
 * So one number exists per (type, region, year, serial), and a number is unambiguous
 * without its hyphens too: everything after the type is of fixed length. Parsing
 * accepts lower case and surrounding spaces (people type these) and answers with the
 * canonical upper-case form.
 */
import { mod37_36CheckChar } from './check-digits';
import { invalid, orThrow, valid, type Validation } from './result';

export interface CertificateNumberParts {
  typeCode: string;
  region: string;
  year: number;
  serial: number;
}

export interface ParsedCertificateNumber extends CertificateNumberParts {
  number: string;
  check: string;
}

/** What parseCertificateNumber accepts, as a JSON-schema pattern for /openapi.json (the check character aside). */
export const CERTIFICATE_NUMBER_PATTERN = '^\\s*[A-Za-z0-9]{2,8}-[1-9][0-9]{5}-[0-9]{4}-[0-9]{7}-[0-9A-Za-z]\\s*$';

export const MAX_CERTIFICATE_SERIAL = 9_999_999;
const SERIAL_DIGITS = 7;

function checkParts(p: CertificateNumberParts): Validation<CertificateNumberParts> {
  if (typeof p.typeCode !== 'string' || !/^[A-Z0-9]{2,8}$/.test(p.typeCode)) {
    return invalid('type code must be 2 to 8 characters of A-Z and 0-9');
  }
  if (typeof p.region !== 'string' || !/^[1-9]\d{5}$/.test(p.region)) {
    return invalid('region must be a 6-digit GB/T 2260 code, not starting with 0');
  }
  if (!Number.isInteger(p.year) || p.year < 1900 || p.year > 9999) {
    return invalid('year must be a 4-digit year, 1900 or later');
  }
  if (!Number.isInteger(p.serial) || p.serial < 1 || p.serial > MAX_CERTIFICATE_SERIAL) {
    return invalid(`serial must be an integer from 1 to ${MAX_CERTIFICATE_SERIAL}`);
  }
  return valid(p);
}

const body = (p: CertificateNumberParts): [string, string, string, string] => [
  p.typeCode,
  p.region,
  String(p.year),
  String(p.serial).padStart(SERIAL_DIGITS, '0'),
];

/** The printed number for these parts; throws InvalidValueError naming the bad part. */
export function formatCertificateNumber(parts: CertificateNumberParts): string {
  const b = body(orThrow('certificate number parts', checkParts(parts)));
  return [...b, mod37_36CheckChar(b.join(''))].join('-');
}

export function parseCertificateNumber(input: unknown): Validation<ParsedCertificateNumber> {
  if (typeof input !== 'string') return invalid('must be a string');
  const number = input.trim().toUpperCase();
  const pieces = number.split('-');
  if (pieces.length !== 5) return invalid('must be type-region-year-serial-check, e.g. BL-330106-2026-0000042-B');
  const [typeCode, region, year, serial, check] = pieces as [string, string, string, string, string];
  if (!/^\d{4}$/.test(year)) return invalid(`year must be 4 digits, got '${year}'`);
  if (!/^\d{7}$/.test(serial)) return invalid(`serial must be ${SERIAL_DIGITS} digits, got '${serial}'`);
  const parts = checkParts({ typeCode, region, year: Number(year), serial: Number(serial) });
  if (!parts.ok) return parts;
  if (!/^[0-9A-Z]$/.test(check)) return invalid('check must be one character, 0-9 or A-Z');
  const expected = mod37_36CheckChar(typeCode + region + year + serial);
  if (check !== expected) return invalid('check character is wrong');
  return valid({ ...parts.value, number, check });
}

export const isValidCertificateNumber = (input: unknown): boolean => parseCertificateNumber(input).ok;
