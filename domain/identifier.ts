/**
 * The certificate identifier (证照标识, GB/T 36904):
 *
 *   1.2.156.3005.2.<type code>.<issuer code>.<serial>.<version>.<check>
 *
 * - type code: the defining authority's USCC + a 3-digit sequence (21 characters)
 * - issuer code: the issuing body's USCC (18 characters)
 * - serial: chosen by the issuer, 7–32 characters of 0-9 A-Z
 * - version: 3 digits, 001–999
 * - check: ISO/IEC 7064 MOD 37,36 over type code + issuer code + serial + version,
 *   joined without dots. The root OID is NOT part of the checked string: that is the
 *   reading under which the published example
 *   `1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U`
 *   checks out (with the root digits included it would end in 7).
 *
 * Parsing accepts lower-case letters and answers with the upper-case form, so one
 * certificate always has one spelling in the store.
 */
import { mod37_36CheckChar, validateCreditCode } from './check-digits';
import { invalid, orThrow, valid, type Validation } from './result';

export const IDENTIFIER_ROOT = '1.2.156.3005.2';

export interface IdentifierParts {
  /** Defining authority's USCC + 3-digit sequence, e.g. `11100000000013338W032`. */
  typeCode: string;
  /** Issuing body's USCC. */
  issuerCode: string;
  serial: string;
  /** 1–999, written as 3 digits. */
  version: number;
}

export interface ParsedIdentifier extends IdentifierParts {
  identifier: string;
  definingAuthorityCode: string;
  typeSequence: string;
  check: string;
}

const SERIAL = /^[0-9A-Z]{7,32}$/;

export function validateTypeCode(input: unknown): Validation<string> {
  if (typeof input !== 'string') return invalid('type code must be a string');
  if (input.length !== 21) {
    return invalid(`type code must be 21 characters (a credit code and a 3-digit sequence), got ${input.length}`);
  }
  const code = input.toUpperCase();
  const authority = validateCreditCode(code.slice(0, 18));
  if (!authority.ok) return invalid(`type code: defining authority code ${authority.reason}`);
  if (!/^\d{3}$/.test(code.slice(18))) return invalid('type code must end in a 3-digit sequence');
  return valid(code);
}

/** Type code from the defining authority's USCC and the type's sequence (1–999). */
export function buildTypeCode(definingAuthorityCode: string, sequence: number): string {
  if (!Number.isInteger(sequence) || sequence < 1 || sequence > 999) {
    return orThrow('type code', invalid('sequence must be an integer from 1 to 999'));
  }
  return orThrow('type code', validateTypeCode(definingAuthorityCode + String(sequence).padStart(3, '0')));
}

function checkParts(parts: IdentifierParts): Validation<IdentifierParts> {
  const typeCode = validateTypeCode(parts.typeCode);
  if (!typeCode.ok) return typeCode;
  const issuer = validateCreditCode(parts.issuerCode);
  if (!issuer.ok) return invalid(`issuer code ${issuer.reason}`);
  if (typeof parts.serial !== 'string' || !SERIAL.test(parts.serial.toUpperCase())) {
    return invalid('serial must be 7 to 32 characters of 0-9 and A-Z');
  }
  if (!Number.isInteger(parts.version) || parts.version < 1 || parts.version > 999) {
    return invalid('version must be an integer from 1 to 999');
  }
  return valid({
    typeCode: typeCode.value,
    issuerCode: issuer.value.code,
    serial: parts.serial.toUpperCase(),
    version: parts.version,
  });
}

const checkedString = (p: IdentifierParts): string =>
  p.typeCode + p.issuerCode + p.serial + String(p.version).padStart(3, '0');

/** The identifier for these parts; throws InvalidValueError naming the bad part. */
export function buildIdentifier(parts: IdentifierParts): string {
  const p = orThrow('identifier parts', checkParts(parts));
  const version = String(p.version).padStart(3, '0');
  return [IDENTIFIER_ROOT, p.typeCode, p.issuerCode, p.serial, version, mod37_36CheckChar(checkedString(p))].join('.');
}

export function parseIdentifier(input: unknown): Validation<ParsedIdentifier> {
  if (typeof input !== 'string') return invalid('must be a string');
  const identifier = input.toUpperCase();
  if (!identifier.startsWith(IDENTIFIER_ROOT + '.')) return invalid(`must start with ${IDENTIFIER_ROOT}.`);
  const rest = identifier.slice(IDENTIFIER_ROOT.length + 1).split('.');
  if (rest.length !== 5) {
    return invalid('must have 5 dot-separated parts after the root: type code, issuer code, serial, version, check');
  }
  const [typeCode, issuerCode, serial, version, check] = rest as [string, string, string, string, string];
  if (!/^\d{3}$/.test(version)) return invalid(`version must be 3 digits, got '${version}'`);
  const parts = checkParts({ typeCode, issuerCode, serial, version: Number(version) });
  if (!parts.ok) return parts;
  if (!/^[0-9A-Z]$/.test(check)) return invalid('check must be one character, 0-9 or A-Z');
  const expected = mod37_36CheckChar(checkedString(parts.value));
  if (check !== expected) return invalid('check character is wrong');
  return valid({
    ...parts.value,
    identifier,
    definingAuthorityCode: typeCode.slice(0, 18),
    typeSequence: typeCode.slice(18),
    check,
  });
}

export const isValidIdentifier = (input: unknown): boolean => parseIdentifier(input).ok;
