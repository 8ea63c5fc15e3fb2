/**
 * The holder (持证主体) of a certificate: a person, keyed by resident ID number, or a
 * legal entity, keyed by unified social credit code. The ID is the catalog's key
 * ("one number, a record for life"), so it is stored in one canonical spelling.
 */
import { z } from 'zod';
import { validateCreditCode, validateResidentId } from './check-digits';
import { InvalidValueError, invalid, valid, type Validation } from './result';
import { unprintableReason } from './text';

export type HolderKind = 'person' | 'entity';
export const HOLDER_KINDS = ['person', 'entity'] as const satisfies readonly HolderKind[];

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

// ---- The holder ID value object ----

declare const HOLDER_ID: unique symbol;

/**
 * A holder ID that passed its check (GB 11643 for a person, GB 32100 for an entity), in
 * its one canonical spelling: trimmed, upper-case. Only the parsers below make one (and
 * decryption in platform/holder-crypto.ts, which only ever encrypted HolderIds), so code
 * that takes a HolderId (the lookup hash, the encryption, the record binding) never
 * normalises again: `…002x` and `…002X` are one key. A plain string at runtime, so it
 * travels through JSON, Temporal payloads and the database unchanged.
 */
export type HolderId = string & { readonly [HOLDER_ID]: true };

/** What the ID is called in error messages, per kind of holder. */
export const HOLDER_ID_NAMES = {
  person: 'resident ID number',
  entity: 'unified social credit code',
} as const satisfies Record<HolderKind, string>;

/**
 * Parses the ID of a holder of the given kind, at the edge (request body, query, claim).
 * The reason names the kind of ID and what is wrong with it, ready for a field error:
 * "resident ID number check digit is wrong".
 */
export function parseHolderId(kind: HolderKind, raw: unknown): Validation<HolderId> {
  const v = check(kind, raw);
  return v.ok ? v : invalid(`${HOLDER_ID_NAMES[kind]} ${v.reason}`);
}

/**
 * Parses an ID whose holder kind the caller did not say (a catalog search by ID alone).
 * Both kinds normalise alike, so an ID valid as either is one and the same lookup key.
 */
export function parseAnyHolderId(raw: unknown): Validation<HolderId> {
  const person = check('person', raw);
  if (person.ok) return person;
  const entity = check('entity', raw);
  if (entity.ok) return entity;
  const { person: p, entity: e } = HOLDER_ID_NAMES;
  if (person.reason === entity.reason) return invalid(`${p} or ${e} ${person.reason}`);
  return invalid(`neither a ${p} (${person.reason}) nor a ${e} (${entity.reason})`);
}

/** The check-digit validation of the trimmed input; the reason does not name the kind of ID. */
function check(kind: HolderKind, raw: unknown): Validation<HolderId> {
  const input = typeof raw === 'string' ? raw.trim() : raw;
  const v = kind === 'person' ? validateResidentId(input) : validateCreditCode(input);
  if (!v.ok) return v;
  return valid(('id' in v.value ? v.value.id : v.value.code) as HolderId);
}

/**
 * For IDs that are ours already (decrypted from the database, fixtures, benchmarks):
 * a bad one is a bug to surface, not a user error to report.
 */
export function holderIdOf(kind: HolderKind, raw: string): HolderId {
  const v = parseHolderId(kind, raw);
  if (!v.ok) throw new InvalidValueError('holder ID', v.reason);
  return v.value;
}

/** The route schema for the ID of a holder of a known kind: the same check and message everywhere. */
export function holderIdSchema(kind: HolderKind) {
  return z.string({ error: `${HOLDER_ID_NAMES[kind]} must be a string` }).transform((value, ctx) => {
    const v = parseHolderId(kind, value);
    if (v.ok) return v.value;
    ctx.addIssue({ code: 'custom', message: v.reason });
    return z.NEVER;
  });
}

/** The route schema for an ID of either kind (see parseAnyHolderId). */
export const anyHolderIdSchema = z
  .string({ error: `must be a ${HOLDER_ID_NAMES.person} or ${HOLDER_ID_NAMES.entity}` })
  .transform((value, ctx) => {
    const v = parseAnyHolderId(value);
    if (v.ok) return v.value;
    ctx.addIssue({ code: 'custom', message: v.reason });
    return z.NEVER;
  });

// Long enough for any registered entity name; bounded so a bad request cannot bloat the catalog.
export const holderNameSchema = z
  .string({ error: 'name must be a string' })
  .trim()
  .min(1, 'name is required')
  .max(200, 'name must be at most 200 characters')
  .superRefine((s, ctx) => {
    const why = unprintableReason(s);
    if (why) ctx.addIssue({ code: 'custom', message: `name ${why}` });
  });

export const holderSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('person'), id: holderIdSchema('person'), name: holderNameSchema }),
    z.strictObject({ kind: z.literal('entity'), id: holderIdSchema('entity'), name: holderNameSchema }),
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

/**
 * The public face's mask of a resident ID (the verify page anyone reaches by QR code):
 * only the first 2 and last 2 characters (`11**************2X`). The staff mask above keeps
 * region and last four, leaving only the birth date unknown — few enough guesses that the
 * mask plus a compare oracle gave the whole number away (docs/security.md).
 */
export function maskHolderIdPublic(id: string): string {
  const chars = [...id];
  if (chars.length <= 4) return '*'.repeat(chars.length);
  return chars.slice(0, 2).join('') + '*'.repeat(chars.length - 4) + chars.slice(-2).join('');
}
