/**
 * Face fields (照面信息): what a certificate type prints on its face, as configured by
 * a department admin, and the validation of face data that fillers and business
 * systems submit against them. Messages are English for integrators; each error also
 * carries the field's Chinese label so a UI can show it.
 */
import { z } from 'zod';
import { isIsoDate } from './calendar';
import { parseHolderId } from './holder';
import { invalid, valid, type Validation } from './result';
import { unprintableReason } from './text';
import { PATTERN_VALUE_MAX_LENGTH, unsafePatternReason } from './safe-pattern';

/** `list`: several short texts (e.g. 经营项目), rendered by a template loop where `{.}` is the item. */
export const FACE_FIELD_TYPES = ['text', 'date', 'number', 'enum', 'idNumber', 'creditCode', 'image', 'list'] as const;
export type FaceFieldType = (typeof FACE_FIELD_TYPES)[number];

/** Text without its own maxLength is still bounded: face data is signed and stored forever. */
export const DEFAULT_TEXT_MAX_LENGTH = 4000;
/** Photos and signatures on a face are small; larger images belong in the template. */
export const MAX_FACE_IMAGE_BYTES = 1024 * 1024;
export const MAX_FACE_FIELDS = 200;

const KEY = /^[a-zA-Z][a-zA-Z0-9_]*$/;

const fieldShape = z.strictObject({
  key: z
    .string()
    .max(64, 'key must be at most 64 characters')
    .regex(KEY, 'key must start with a letter and contain only letters, digits and _'),
  label: z.string().trim().min(1, 'label is required').max(100, 'label must be at most 100 characters'),
  type: z.enum(FACE_FIELD_TYPES, { error: `type must be one of ${FACE_FIELD_TYPES.join(', ')}` }),
  required: z.boolean({ error: 'required must be true or false' }),
  maxLength: z.int().positive().optional(),
  minLength: z.int().nonnegative().optional(),
  pattern: z.string().min(1).max(500).optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  options: z.array(z.string().trim().min(1, 'options must not be empty strings')).min(1).optional(),
  /** For list fields: at most this many items (default 50). */
  maxItems: z.int().positive().max(500).optional(),
  /** Registered in the catalog metadata (元数据) as well as printed. */
  catalog: z.boolean().optional(),
  /** Belongs to the duplicate copy (副本) rather than the original. */
  duplicate: z.boolean().optional(),
});

const ONLY_FOR: Partial<Record<keyof z.infer<typeof fieldShape>, FaceFieldType>> = {
  maxLength: 'text',
  minLength: 'text',
  pattern: 'text',
  min: 'number',
  max: 'number',
  options: 'enum',
  maxItems: 'list',
};

export const faceFieldSchema = fieldShape.superRefine((f, ctx) => {
  const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  for (const [prop, type] of Object.entries(ONLY_FOR)) {
    if (f[prop as keyof typeof f] !== undefined && f.type !== type)
      issue(prop, `${prop} applies only to ${type} fields`);
  }
  if (f.type === 'enum' && !f.options) issue('options', 'enum fields need a list of options');
  if (f.options && new Set(f.options).size !== f.options.length) issue('options', 'options must not repeat');
  if (f.minLength !== undefined && f.maxLength !== undefined && f.minLength > f.maxLength) {
    issue('minLength', 'minLength must not exceed maxLength');
  }
  if (f.min !== undefined && f.max !== undefined && f.min > f.max) issue('min', 'min must not exceed max');
  if (f.pattern !== undefined) {
    try {
      new RegExp(`^(?:${f.pattern})$`, 'u');
      const unsafe = unsafePatternReason(f.pattern);
      if (unsafe) issue('pattern', `pattern is refused: ${unsafe} (see docs/security.md)`);
    } catch {
      issue('pattern', 'pattern is not a valid regular expression');
    }
    if (f.maxLength !== undefined && f.maxLength > PATTERN_VALUE_MAX_LENGTH) {
      issue('maxLength', `a field with a pattern takes at most ${PATTERN_VALUE_MAX_LENGTH} characters`);
    }
  }
});

export type FaceField = z.infer<typeof faceFieldSchema>;

export const faceFieldListSchema = z
  .array(faceFieldSchema)
  .min(1, 'a certificate type needs at least one face field')
  .max(MAX_FACE_FIELDS, `a certificate type has at most ${MAX_FACE_FIELDS} face fields`)
  .superRefine((fields, ctx) => {
    // Case-insensitive: keys become template placeholders and column names, where Name and name collide.
    const seen = new Map<string, string>();
    fields.forEach((f, i) => {
      const first = seen.get(f.key.toLowerCase());
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: [i, 'key'], message: `key '${f.key}' repeats '${first}'` });
      } else seen.set(f.key.toLowerCase(), f.key);
    });
  });

export type FaceData = Record<string, string | number | string[]>;

/** A stored field definition that today's rules refuse, e.g. a pattern saved before the ReDoS check. */
export interface DefinitionProblem {
  /** `faceFields.3.pattern`, as a save of the type would name it. */
  path: string;
  /** The face field's key, '' when the list as a whole is wrong. */
  key: string;
  message: string;
}

/**
 * What today's rules refuse in a stored list of face fields. Types saved before a rule existed
 * (the safe-pattern check, docs/security.md) keep their definition in the database; this names
 * what has to change so that operators can list them and submissions can say so (422, not 500).
 */
export function definitionProblems(fields: readonly FaceField[]): DefinitionProblem[] {
  const parsed = faceFieldListSchema.safeParse(fields);
  if (parsed.success) return [];
  return parsed.error.issues.map((issue) => {
    const at = typeof issue.path[0] === 'number' ? issue.path[0] : undefined;
    const key = at === undefined ? '' : String((fields[at] as { key?: unknown } | undefined)?.key ?? '');
    const pattern = issue.path[1] === 'pattern' && at !== undefined ? fields[at]?.pattern : undefined;
    const message = pattern === undefined ? issue.message : `${issue.message} (the stored pattern is ${pattern})`;
    return { path: ['faceFields', ...issue.path].join('.'), key, message };
  });
}

const DEFAULT_LIST_MAX_ITEMS = 50;
const LIST_ITEM_MAX_LENGTH = 500;

function validateImage(s: string): Validation<string> {
  let declared: string | undefined;
  let data = s;
  if (s.startsWith('data:')) {
    const m = /^data:([^;,]*)(;base64)?,/.exec(s);
    if (!m || !m[2]) return invalid('must be a base64 data URL, e.g. data:image/png;base64,...');
    if (m[1] !== 'image/png' && m[1] !== 'image/jpeg') {
      return invalid('must be a PNG or JPEG image (image/png or image/jpeg)');
    }
    declared = m[1];
    data = s.slice(m[0].length);
  }
  // Size first, so an oversized upload is refused before we scan it.
  const bytes = (data.length / 4) * 3 - (data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0);
  if (bytes > MAX_FACE_IMAGE_BYTES) {
    return invalid(`image must be at most ${MAX_FACE_IMAGE_BYTES / 1024} KiB, got ${Math.ceil(bytes / 1024)} KiB`);
  }
  if (data.length === 0 || data.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(data)) {
    return invalid('must be base64-encoded image data');
  }
  // The base64 of the PNG signature and of the JPEG SOI marker.
  const actual = data.startsWith('iVBORw0KGgo') ? 'image/png' : data.startsWith('/9j/') ? 'image/jpeg' : undefined;
  if (!actual) return invalid('must be a PNG or JPEG image');
  if (declared && declared !== actual) return invalid(`is labelled ${declared} but holds ${actual} data`);
  return valid(s);
}

/** Checks one present value; the value is already trimmed if it is a string. */
function checkValue(f: FaceField, v: unknown, pattern: RegExp | undefined): Validation<string | number | string[]> {
  if (f.type === 'list') {
    if (!Array.isArray(v)) return invalid('must be a list of texts');
    const items = v.map((x) => (typeof x === 'string' ? x.trim() : x));
    const max = f.maxItems ?? DEFAULT_LIST_MAX_ITEMS;
    if (items.length > max) return invalid(`must have at most ${max} items, got ${items.length}`);
    const bad = items.findIndex((x) => typeof x !== 'string' || x === '' || [...x].length > LIST_ITEM_MAX_LENGTH);
    if (bad >= 0)
      return invalid(`item ${bad + 1} must be a non-empty text of at most ${LIST_ITEM_MAX_LENGTH} characters`);
    for (const [i, x] of (items as string[]).entries()) {
      const why = unprintableReason(x);
      if (why) return invalid(`item ${i + 1} ${why}`);
    }
    return valid(items as string[]);
  }
  if (f.type === 'number') {
    if (typeof v !== 'number' || !Number.isFinite(v)) return invalid('must be a finite number');
    if (f.min !== undefined && v < f.min) return invalid(`must be at least ${f.min}`);
    if (f.max !== undefined && v > f.max) return invalid(`must be at most ${f.max}`);
    return valid(v);
  }
  if (typeof v !== 'string') return invalid('must be a string');
  // Before any other check: such text passes both approvals and then fails at sealing.
  const unprintable = unprintableReason(v);
  if (unprintable) return invalid(unprintable);
  switch (f.type) {
    case 'text': {
      const length = [...v].length; // characters as people count them, not UTF-16 units
      // A patterned value is capped so that even a polynomial pattern stays fast (domain/safe-pattern.ts).
      const max = f.maxLength ?? (f.pattern === undefined ? DEFAULT_TEXT_MAX_LENGTH : PATTERN_VALUE_MAX_LENGTH);
      if (f.minLength !== undefined && length < f.minLength)
        return invalid(`must be at least ${f.minLength} characters`);
      if (length > max) return invalid(`must be at most ${max} characters, got ${length}`);
      if (pattern && !pattern.test(v)) return invalid(`must match the pattern ${f.pattern}`);
      return valid(v);
    }
    case 'date':
      if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) return invalid('must be a date written YYYY-MM-DD');
      return isIsoDate(v) ? valid(v) : invalid(`${v} is not a real date`);
    case 'enum':
      return f.options?.includes(v) ? valid(v) : invalid(`must be one of: ${f.options?.join(', ')}`);
    // The same check and spelling as the holder's own ID, so a face field and the holder compare equal.
    case 'idNumber':
      return parseHolderId('person', v);
    case 'creditCode':
      return parseHolderId('entity', v);
    case 'image':
      return validateImage(v);
  }
}

function fieldValueSchema(f: FaceField) {
  // Full match: an admin writing \d{6} means "six digits", not "contains six digits".
  const pattern = f.pattern === undefined ? undefined : new RegExp(`^(?:${f.pattern})$`, 'u');
  const schema = z.unknown().transform((raw, ctx) => {
    const v = typeof raw === 'string' ? raw.trim() : raw;
    // Forms send '' and JSON clients send null for "not filled in".
    if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) {
      if (f.required) ctx.addIssue({ code: 'custom', message: 'is required' });
      return undefined;
    }
    const r = checkValue(f, v, pattern);
    if (r.ok) return r.value;
    ctx.addIssue({ code: 'custom', message: r.reason });
    return z.NEVER;
  });
  return f.required ? schema : schema.optional();
}

/**
 * A zod schema for face data under these fields. Throws a ZodError if the field
 * definitions themselves are invalid: that is a configuration bug, not bad input.
 * Issues carry the field key as their path; unknown keys are rejected one by one.
 */
export function faceDataSchema(definitions: readonly FaceField[]): z.ZodType<FaceData> {
  const fields = faceFieldListSchema.parse(definitions);
  const shape: Record<string, z.ZodType> = {};
  for (const f of fields) shape[f.key] = fieldValueSchema(f);
  return z
    .looseObject(shape)
    .superRefine(
      (data, ctx) => {
        for (const key of Object.keys(data)) {
          if (Object.hasOwn(shape, key)) continue;
          ctx.addIssue({ code: 'custom', path: [key], message: 'is not a field of this certificate type' });
        }
      },
      // Also when some fields failed, so one response lists every problem; but not for non-objects.
      { when: ({ value }) => typeof value === 'object' && value !== null && !Array.isArray(value) },
    )
    .transform((data) => {
      const out: FaceData = {};
      for (const f of fields) if (data[f.key] !== undefined) out[f.key] = data[f.key] as FaceData[string];
      return out;
    });
}

export interface FaceDataError {
  /** The field key, or '' when the data as a whole is wrong (e.g. not an object). */
  field: string;
  /** The field's Chinese label, for UIs; absent for unknown keys. */
  label?: string;
  message: string;
}

export type FaceDataValidation = { ok: true; data: FaceData } | { ok: false; errors: FaceDataError[] };

/** Validates and normalises face data (trimmed strings, upper-case codes, no empty optionals). */
export function validateFaceData(fields: readonly FaceField[], data: unknown): FaceDataValidation {
  // A definition stored before a rule existed is never run (a refused pattern may backtrack for
  // seconds): each submission is told which field and what the admin must change.
  const stale = definitionProblems(fields);
  if (stale.length) {
    return {
      ok: false,
      errors: stale.map((p) => ({
        field: p.key,
        message:
          `this certificate type's ${p.path} is no longer accepted: ${p.message}. ` +
          'A department admin must save the type again with a corrected definition (docs/security.md)',
      })),
    };
  }
  const parsed = faceDataSchema(fields).safeParse(data);
  if (parsed.success) return { ok: true, data: parsed.data };
  const labels = new Map(fields.map((f) => [f.key, f.label]));
  return {
    ok: false,
    errors: parsed.error.issues.map((issue) => {
      const field = issue.path.length > 0 ? String(issue.path[0]) : '';
      const message = field === '' && issue.code === 'invalid_type' ? 'face data must be a JSON object' : issue.message;
      const label = labels.get(field);
      return label === undefined ? { field, message } : { field, label, message };
    }),
  };
}
