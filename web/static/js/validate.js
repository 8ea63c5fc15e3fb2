/**
 * Face data validation in the browser, mirroring domain/face-fields.ts and
 * domain/check-digits.ts on the server, so a filler hears about a wrong check digit before
 * submitting. The server still decides; this only saves a round trip. Problems are
 * { key, params } for the dictionary (v.*), not sentences.
 */

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK_CHARS = '10X98765432';
export const USCC_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

export const DEFAULT_TEXT_MAX_LENGTH = 4000;
export const DEFAULT_LIST_MAX_ITEMS = 50;
export const LIST_ITEM_MAX_LENGTH = 500;
export const MAX_FACE_IMAGE_BYTES = 1024 * 1024;
export const HOLDER_NAME_MAX = 200;

const problem = (key, params = {}) => ({ key, params });
const chars = (s) => [...s].length;

function isLeap(y) {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}
export function isRealDate(y, m, d) {
  if (![y, m, d].every(Number.isInteger) || y < 1 || y > 9999 || m < 1 || m > 12 || d < 1) return false;
  const days = m === 2 ? (isLeap(y) ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31;
  return d <= days;
}
export function isIsoDate(s) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  return !!m && isRealDate(Number(m[1]), Number(m[2]), Number(m[3]));
}

/** GB 11643-1999: weights 7 9 10 5 8 4 2 1 6 3 …, sum mod 11 → 1 0 X 9 8 7 6 5 4 3 2. */
export function residentIdCheckChar(first17) {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * ID_WEIGHTS[i];
  return ID_CHECK_CHARS[sum % 11];
}

/** null when valid, else the problem. */
export function residentIdProblem(input) {
  if (input.length !== 18) return problem('v.length18', { got: input.length });
  const id = input.toUpperCase();
  const nonDigit = id.slice(0, 17).search(/\D/);
  if (nonDigit >= 0) return problem('v.idDigit', { n: nonDigit + 1 });
  if (!/^[\dX]$/.test(id[17])) return problem('v.idLast');
  if (id.startsWith('0')) return problem('v.idRegion', { region: id.slice(0, 6) });
  const [y, m, d] = [id.slice(6, 10), id.slice(10, 12), id.slice(12, 14)];
  if (!isRealDate(Number(y), Number(m), Number(d))) return problem('v.idBirth', { value: `${y}${m}${d}` });
  if (Number(y) < 1800) return problem('v.idBirthYear', { year: y });
  const expected = residentIdCheckChar(id.slice(0, 17));
  if (id[17] !== expected) return problem('v.idCheck', { expected, got: id[17] });
  return null;
}

/** GB 32100-2015: 31-character alphabet, weights 3^i mod 31, check = 31 − (sum mod 31). */
export function creditCodeCheckChar(first17) {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += USCC_ALPHABET.indexOf(first17[i]) * USCC_WEIGHTS[i];
  return USCC_ALPHABET[(31 - (sum % 31)) % 31];
}

export function creditCodeProblem(input) {
  if (input.length !== 18) return problem('v.length18', { got: input.length });
  const code = input.toUpperCase();
  for (let i = 0; i < 18; i++)
    if (!USCC_ALPHABET.includes(code[i])) return problem('v.creditChar', { n: i + 1, c: input[i] });
  if (!/^\d{6}$/.test(code.slice(2, 8))) return problem('v.creditRegion', { region: code.slice(2, 8) });
  const expected = creditCodeCheckChar(code.slice(0, 17));
  if (code[17] !== expected) return problem('v.creditCheck', { expected, got: code[17] });
  return null;
}

/** A data: URL or bare base64 holding a PNG or JPEG of at most 1 MiB. */
export function imageProblem(s) {
  let declared;
  let data = s;
  if (s.startsWith('data:')) {
    const m = /^data:([^;,]*)(;base64)?,/.exec(s);
    if (!m || !m[2]) return problem('v.imageFormat');
    if (m[1] !== 'image/png' && m[1] !== 'image/jpeg') return problem('v.imageFormat');
    declared = m[1];
    data = s.slice(m[0].length);
  }
  const bytes = (data.length / 4) * 3 - (data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0);
  if (bytes > MAX_FACE_IMAGE_BYTES)
    return problem('v.imageSize', { max: MAX_FACE_IMAGE_BYTES / 1024, got: Math.ceil(bytes / 1024) });
  if (data.length === 0 || data.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(data))
    return problem('v.imageFormat');
  const actual = data.startsWith('iVBORw0KGgo') ? 'image/png' : data.startsWith('/9j/') ? 'image/jpeg' : undefined;
  if (!actual || (declared && declared !== actual)) return problem('v.imageFormat');
  return null;
}

function compilePattern(p) {
  try {
    return new RegExp(`^(?:${p})$`, 'u');
  } catch {
    return null;
  }
}

/**
 * One field's value as the form holds it (string, or string[] for lists, number-as-string for
 * numbers) → { value } normalised as the server would store it (undefined: not filled in),
 * or { problem }.
 */
export function checkField(f, raw) {
  let v = typeof raw === 'string' ? raw.trim() : raw;
  if (Array.isArray(v)) v = v.map((x) => (typeof x === 'string' ? x.trim() : x)).filter((x) => x !== '');
  if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) {
    return f.required ? { problem: problem('v.required') } : { value: undefined };
  }
  switch (f.type) {
    case 'list': {
      const max = f.maxItems ?? DEFAULT_LIST_MAX_ITEMS;
      if (v.length > max) return { problem: problem('v.maxItems', { max, got: v.length }) };
      const bad = v.findIndex((x) => chars(x) > LIST_ITEM_MAX_LENGTH);
      if (bad >= 0) return { problem: problem('v.listItem', { n: bad + 1, max: LIST_ITEM_MAX_LENGTH }) };
      return { value: v };
    }
    case 'number': {
      const n = typeof v === 'number' ? v : /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(v) ? Number(v) : NaN;
      if (!Number.isFinite(n)) return { problem: problem('v.number') };
      if (f.min !== undefined && n < f.min) return { problem: problem('v.min', { min: f.min }) };
      if (f.max !== undefined && n > f.max) return { problem: problem('v.max', { max: f.max }) };
      return { value: n };
    }
    case 'text': {
      const length = chars(v);
      const max = f.maxLength ?? DEFAULT_TEXT_MAX_LENGTH;
      if (f.minLength !== undefined && length < f.minLength)
        return { problem: problem('v.minLength', { min: f.minLength }) };
      if (length > max) return { problem: problem('v.maxLength', { max, got: length }) };
      if (f.pattern) {
        const re = compilePattern(f.pattern);
        if (re && !re.test(v)) return { problem: problem('v.pattern', { pattern: f.pattern }) };
      }
      return { value: v };
    }
    case 'date':
      if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) return { problem: problem('v.dateFormat') };
      return isIsoDate(v) ? { value: v } : { problem: problem('v.notRealDate', { value: v }) };
    case 'enum':
      return (f.options || []).includes(v)
        ? { value: v }
        : { problem: problem('v.oneOf', { options: (f.options || []).join('、') }) };
    case 'idNumber': {
      const p = residentIdProblem(v);
      return p ? { problem: p } : { value: v.toUpperCase() };
    }
    case 'creditCode': {
      const p = creditCodeProblem(v);
      return p ? { problem: p } : { value: v.toUpperCase() };
    }
    case 'image': {
      const p = imageProblem(v);
      return p ? { problem: p } : { value: v };
    }
    default:
      return { value: v };
  }
}

/** All fields: { data, problems: { key → problem } }. */
export function checkFaceData(fields, values) {
  const data = {};
  const problems = {};
  for (const f of fields) {
    const r = checkField(f, values[f.key]);
    if (r.problem) problems[f.key] = r.problem;
    else if (r.value !== undefined) data[f.key] = r.value;
  }
  return { data, problems };
}

/** The holder as POST /applications takes it; kind decides which ID the number must be. */
export function checkHolder(kind, id, name) {
  const problems = {};
  const idValue = (id || '').trim();
  const nameValue = (name || '').trim();
  if (!idValue) problems.id = problem('v.required');
  else {
    const p = kind === 'person' ? residentIdProblem(idValue) : creditCodeProblem(idValue);
    if (p) problems.id = p;
  }
  if (!nameValue) problems.name = problem('v.required');
  else if (chars(nameValue) > HOLDER_NAME_MAX)
    problems.name = problem('v.maxLength', { max: HOLDER_NAME_MAX, got: chars(nameValue) });
  return { holder: { kind, id: idValue.toUpperCase(), name: nameValue }, problems };
}
