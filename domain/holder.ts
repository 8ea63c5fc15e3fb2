/**
 * The holder (持证主体) of a certificate: a person, keyed by resident ID number, or a
 * legal entity, keyed by unified social credit code. The ID is the catalog's key
 * ("one number, a record for life"), so it is stored in one canonical spelling.
 */
import { z } from 'zod';
import { validateCreditCode, validateResidentId } from './check-digits';
import { valid, type Validation } from './result';

export type HolderKind = 'person' | 'entity';

/** Holder code types used by the catalog and sharing interfaces (docs/standards.md). */
export const HOLDER_CODE_TYPES = { person: '111', entity: '001' } as const satisfies Record<HolderKind, string>;
export type HolderCodeType = (typeof HOLDER_CODE_TYPES)[HolderKind];

export function holderCodeType(kind: HolderKind): HolderCodeType {
  return HOLDER_CODE_TYPES[kind];
}

export function holderKindFromCodeType(codeType: string): HolderKind | undefined {
  if (codeType === HOLDER_CODE_TYPES.person) return 'person';
  if (codeType === HOLDER_CODE_TYPES.entity) return 'entity';
  return undefined;
}

// Long enough for any registered entity name; bounded so a bad request cannot bloat the catalog.
const name = z
  .string({ error: 'name must be a string' })
  .trim()
  .min(1, 'name is required')
  .max(200, 'name must be at most 200 characters');

/** Normalises the ID; on failure the issue says what is wrong with it, for the API error. */
function idSchema(what: string, normalise: (value: string) => Validation<string>) {
  return z.string({ error: 'id must be a string' }).transform((value, ctx) => {
    const v = normalise(value);
    if (v.ok) return v.value;
    ctx.addIssue({ code: 'custom', message: `${what} ${v.reason}` });
    return z.NEVER;
  });
}

const residentId = (s: string): Validation<string> => {
  const v = validateResidentId(s);
  return v.ok ? valid(v.value.id) : v;
};
const creditCode = (s: string): Validation<string> => {
  const v = validateCreditCode(s);
  return v.ok ? valid(v.value.code) : v;
};

export const holderSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('person'), id: idSchema('resident ID number', residentId), name }),
    z.strictObject({ kind: z.literal('entity'), id: idSchema('unified social credit code', creditCode), name }),
  ],
  { error: "kind must be 'person' or 'entity'" },
);

export type Holder = z.infer<typeof holderSchema>;

/**
 * Masks an ID for display and logs: 18-character IDs keep the first 6 and last 4
 * (`330106********123X`), enough to tell records apart without exposing the birth
 * date. Other lengths keep the same proportions (a third in front, a quarter at the end).
 */
export function maskHolderId(id: string): string {
  const chars = [...id];
  const head = Math.min(6, Math.floor(chars.length / 3));
  const tail = Math.min(4, Math.floor(chars.length / 4));
  const hidden = '*'.repeat(chars.length - head - tail);
  return chars.slice(0, head).join('') + hidden + chars.slice(chars.length - tail).join('');
}
