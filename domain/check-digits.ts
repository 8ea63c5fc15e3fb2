import { isRealDate } from './calendar';
import { InvalidValueError, invalid, valid, type Validation } from './result';

/**
 * Check characters of the codes a certificate carries: the resident ID number
 * (GB 11643-1999), the unified social credit code (GB 32100-2015) and ISO/IEC 7064
 * MOD 37,36, which guards our identifiers and certificate numbers.
 */

// ---- Resident ID number (公民身份号码), GB 11643-1999 ----

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const ID_CHECK_CHARS = '10X98765432';
// 1880 is the birth year in the standard's own example; older is a typo, not a person.
const ID_MIN_BIRTH_YEAR = 1800;

export interface ResidentId {
  /** Upper-case X: the same person must map to one key in the catalog. */
  id: string;
  region: string;
  birthDate: string;
  sequence: string;
  /** The sequence is odd for men and even for women (GB 11643 §4.3). */
  sex: 'male' | 'female';
}

/** Check character for the first 17 digits. */
export function residentIdCheckChar(first17: string): string {
  if (!/^\d{17}$/.test(first17)) throw new InvalidValueError('resident ID body', 'must be 17 digits');
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * ID_WEIGHTS[i]!;
  return ID_CHECK_CHARS[sum % 11]!;
}

export function validateResidentId(input: unknown): Validation<ResidentId> {
  if (typeof input !== 'string') return invalid('must be a string');
  if (input.length !== 18) return invalid(`must be 18 characters, got ${input.length}`);
  const id = input.toUpperCase();
  const nonDigit = id.slice(0, 17).search(/\D/);
  if (nonDigit >= 0) return invalid(`character ${nonDigit + 1} must be a digit`);
  if (!/^[\dX]$/.test(id[17]!)) return invalid('last character must be a digit or X');

  const region = id.slice(0, 6);
  if (region.startsWith('0')) return invalid(`region code ${region} is not valid: region codes do not start with 0`);
  const [y, m, d] = [id.slice(6, 10), id.slice(10, 12), id.slice(12, 14)];
  if (!isRealDate(Number(y), Number(m), Number(d))) return invalid(`birth date ${y}${m}${d} is not a real date`);
  if (Number(y) < ID_MIN_BIRTH_YEAR) return invalid(`birth year ${y} is before ${ID_MIN_BIRTH_YEAR}`);

  const expected = residentIdCheckChar(id.slice(0, 17));
  if (id[17] !== expected) return invalid('check digit is wrong');
  const sequence = id.slice(14, 17);
  return valid({
    id,
    region,
    birthDate: `${y}-${m}-${d}`,
    sequence,
    sex: Number(sequence) % 2 === 1 ? 'male' : 'female',
  });
}

export const isValidResidentId = (input: unknown): boolean => validateResidentId(input).ok;

// ---- Unified social credit code (统一社会信用代码), GB 32100-2015 ----

/** I, O, Z, S and V are left out because they read like 1, 0, 2, 5 and U. */
export const USCC_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] as const;

export interface CreditCode {
  /** Upper-case: codes are printed that way, people often type them lower-case. */
  code: string;
  /** 登记管理部门, e.g. 9 = market regulation (工商), 5 = civil affairs. */
  registrationAuthority: string;
  /** 机构类别, e.g. 1 = enterprise under authority 9. */
  kind: string;
  /** GB/T 2260 region of the registering office. */
  region: string;
  /** The organisation code (GB 11714) the entity had or was given, with its own check. */
  organizationCode: string;
}

/** Check character for the first 17 characters (upper-case). */
export function creditCodeCheckChar(first17: string): string {
  if (first17.length !== 17) throw new InvalidValueError('credit code body', 'must be 17 characters');
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const v = USCC_ALPHABET.indexOf(first17[i]!);
    if (v < 0) throw new InvalidValueError('credit code body', `character ${i + 1} is not allowed`);
    sum += v * USCC_WEIGHTS[i]!;
  }
  return USCC_ALPHABET[(31 - (sum % 31)) % 31]!;
}

export function validateCreditCode(input: unknown): Validation<CreditCode> {
  if (typeof input !== 'string') return invalid('must be a string');
  if (input.length !== 18) return invalid(`must be 18 characters, got ${input.length}`);
  const code = input.toUpperCase();
  for (let i = 0; i < 18; i++) {
    if (!USCC_ALPHABET.includes(code[i]!)) {
      return invalid(
        `character ${i + 1} ('${input[i]}') is not allowed: use 0-9 and capital letters except I, O, S, V and Z`,
      );
    }
  }
  const region = code.slice(2, 8);
  if (!/^\d{6}$/.test(region)) return invalid(`region code (characters 3-8) must be 6 digits, got ${region}`);
  const expected = creditCodeCheckChar(code.slice(0, 17));
  if (code[17] !== expected) return invalid('check character is wrong');
  return valid({
    code,
    registrationAuthority: code[0]!,
    kind: code[1]!,
    region,
    organizationCode: code.slice(8, 17),
  });
}

export const isValidCreditCode = (input: unknown): boolean => validateCreditCode(input).ok;

// ---- ISO/IEC 7064 MOD 37,36 (hybrid system) ----

export const MOD37_36_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function mod37_36Product(chars: string): number {
  // Hybrid system with M = 36: P starts at M; S = (P + a) mod M, with 0 read as M; P = 2S mod (M+1).
  let p = 36;
  for (let i = 0; i < chars.length; i++) {
    const v = MOD37_36_ALPHABET.indexOf(chars[i]!);
    if (v < 0) throw new InvalidValueError('MOD 37,36 input', `character ${i + 1} ('${chars[i]}') is not 0-9 or A-Z`);
    p = (((p + v) % 36 || 36) * 2) % 37;
  }
  return p;
}

/** The character that, appended to `body` (0-9, A-Z), makes it pass MOD 37,36. */
export function mod37_36CheckChar(body: string): string {
  if (body.length === 0) throw new InvalidValueError('MOD 37,36 input', 'is empty');
  return MOD37_36_ALPHABET[(37 - mod37_36Product(body)) % 36]!;
}

/** `value` = body followed by its check character; upper-case only. */
export function validateMod37_36(value: unknown): Validation<string> {
  if (typeof value !== 'string') return invalid('must be a string');
  if (value.length < 2) return invalid('must be at least 2 characters: a body and a check character');
  const bad = value.search(/[^0-9A-Z]/);
  if (bad >= 0) return invalid(`character ${bad + 1} ('${value[bad]}') is not 0-9 or A-Z`);
  const expected = mod37_36CheckChar(value.slice(0, -1));
  const actual = value.slice(-1);
  if (actual !== expected) return invalid('check character is wrong');
  return valid(value);
}
