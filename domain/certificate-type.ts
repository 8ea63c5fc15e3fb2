/**
 * A certificate type (证照类型) as a department admin configures it (docs/api.md,
 * "Certificate types"): basic info, holder kind, validity rule, face fields, catalog metadata, the
 * approval chain, the seal and the template. Each saved change is a new immutable version;
 * applications and certificates keep the version they were made under.
 */
import { z } from 'zod';
import { faceFieldListSchema, type FaceField } from './face-fields';
import type { Role } from './access';
import { isIsoDate } from './calendar';

export const TYPE_CODE = /^[A-Z0-9]{2,8}$/;
export const typeCodeSchema = z
  .string()
  .regex(TYPE_CODE, 'type code must be 2 to 8 characters of A-Z and 0-9 (it appears in certificate numbers)');

export const validityRuleSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('term'), months: z.int().min(1).max(1200) }),
  z.strictObject({
    kind: z.literal('until'),
    date: z.string().refine(isIsoDate, 'date must be a real YYYY-MM-DD date'),
  }),
  z.strictObject({ kind: z.literal('permanent') }),
]);
export type ValidityRule = z.infer<typeof validityRuleSchema>;

/** Roles that can hold an approval step; fillers fill, they never approve. */
export const STEP_ROLES = [
  'reviewer',
  'sealing-officer',
  'department-admin',
  'handler',
] as const satisfies readonly Role[];

export const approvalStepSchema = z.strictObject({
  key: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'step key: lower-case letters, digits and dashes'),
  name: z.string().trim().min(1).max(50),
  role: z.enum(STEP_ROLES),
  /**
   * Past this, the task is overdue: a reminder is recorded and, if escalate is set, the department
   * admin is asked too.
   */
  deadlineHours: z
    .number()
    .positive()
    .max(24 * 365)
    .optional(),
  escalate: z.boolean().optional(),
});
export type ApprovalStep = z.infer<typeof approvalStepSchema>;

export const certificateTypeDefinitionSchema = z
  .strictObject({
    name: z.string().trim().min(2).max(100),
    holderKind: z.enum(['person', 'entity']),
    validity: validityRuleSchema,
    faceFields: faceFieldListSchema,
    /** An empty chain means auto-seal: approved the moment it is submitted (docs/issuance.md, "Modes"). */
    approvalChain: z.array(approvalStepSchema).max(10).default([]),
    /**
     * Optional chains for changes, renewals and reissues of an issued certificate (docs/lifecycle.md);
     * a kind without one runs `approvalChain`.
     */
    chainsByKind: z
      .strictObject({
        change: z.array(approvalStepSchema).max(10).optional(),
        renewal: z.array(approvalStepSchema).max(10).optional(),
        reissue: z.array(approvalStepSchema).max(10).optional(),
      })
      .optional(),
    /** The seal used when sealing; null: the department's default seal. */
    sealId: z.int().positive().nullable().default(null),
    description: z.string().max(2000).optional(),
    /**
     * The face field that carries the holder's ID (an idNumber field for a person, creditCode for
     * an entity) and the one that carries the holder's name. Declared, they must equal the holder
     * on submit and amend, so the catalog's holder and the face cannot name two parties
     * (docs/security.md). Optional: versions stored before they existed keep working.
     */
    holderIdField: z.string().max(64).optional(),
    holderNameField: z.string().max(64).optional(),
    /**
     * How a certificate made elsewhere is taken in one at a time (docs/import.md): `register` (the
     * default) as it was, origin `imported`; `reseal` through the sealing pipeline as a new
     * certflow rendition, the original kept as an attachment.
     */
    importMode: z.enum(['register', 'reseal']).optional(),
  })
  .superRefine((d, ctx) => {
    const keys = new Set<string>();
    d.approvalChain.forEach((s, i) => {
      if (keys.has(s.key))
        ctx.addIssue({ code: 'custom', path: ['approvalChain', i, 'key'], message: `step key '${s.key}' repeats` });
      keys.add(s.key);
    });
    const idField =
      d.holderIdField === undefined ? undefined : d.faceFields.findIndex((f) => f.key === d.holderIdField);
    const idType = d.holderKind === 'person' ? 'idNumber' : 'creditCode';
    if (idField === -1)
      ctx.addIssue({ code: 'custom', path: ['holderIdField'], message: `'${d.holderIdField}' is not a face field` });
    else if (idField !== undefined && d.faceFields[idField]!.type !== idType) {
      ctx.addIssue({
        code: 'custom',
        path: ['holderIdField'],
        message: `a ${d.holderKind} holder's ID field must be of type ${idType}`,
      });
    }
    const nameField = d.faceFields.find((f) => f.key === d.holderNameField);
    if (d.holderNameField !== undefined && nameField?.type !== 'text') {
      ctx.addIssue({
        code: 'custom',
        path: ['holderNameField'],
        message: `'${d.holderNameField}' must be a text face field`,
      });
    }
    const reserved = RESERVED_TAGS.filter((t) => d.faceFields.some((f) => f.key === t));
    for (const t of reserved) {
      const i = d.faceFields.findIndex((f) => f.key === t);
      ctx.addIssue({
        code: 'custom',
        path: ['faceFields', i, 'key'],
        message: `'${t}' is filled in by certflow; choose another key`,
      });
    }
  });
export type CertificateTypeDefinition = z.infer<typeof certificateTypeDefinitionSchema>;

/** A stored version: the definition plus the template it renders with. */
export interface CertificateTypeVersion extends CertificateTypeDefinition {
  code: string;
  department: string;
  version: number;
  /** SHA-256 of the DOCX template in the blob store; null until one is uploaded. */
  templateSha256: string | null;
}

/** Tags every template may use besides the face fields; certflow fills them in when sealing. */
export const RESERVED_TAGS = [
  'certificateNumber',
  'identifier',
  'holderName',
  'holderId',
  'issuerName',
  'issuedOn',
  'validFrom',
  'validUntil',
  'typeName',
] as const;
/** Image tags (`{%seal}`, `{%qrCode}`) every template must place. */
export const REQUIRED_IMAGE_TAGS = ['seal', 'qrCode'] as const;

export interface TemplateTags {
  tags: string[];
  loops: string[];
  images: string[];
}

export interface TemplateProblem {
  tag: string;
  message: string;
}

/**
 * Checks a template's tags against a type's fields: every tag must be a face field or
 * a reserved tag, every required face field and both images must appear.
 */
export function checkTemplateTags(fields: readonly FaceField[], found: TemplateTags): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  const known = new Set<string>([...fields.map((f) => f.key), ...RESERVED_TAGS]);
  const imageFields = new Set(fields.filter((f) => f.type === 'image').map((f) => f.key));
  // Tags inside a loop (`businessItems..`, `businessItems.name`) belong to the loop's items.
  for (const tag of found.tags)
    if (!tag.includes('.') && !known.has(tag))
      problems.push({ tag, message: `unknown tag {${tag}}: not a face field of this type` });
  for (const loop of found.loops) {
    if (!fields.some((f) => f.key === loop && f.type === 'list'))
      problems.push({ tag: loop, message: `loop {#${loop}} needs a face field of type list` });
  }
  for (const img of found.images) {
    if (!(REQUIRED_IMAGE_TAGS as readonly string[]).includes(img) && !imageFields.has(img)) {
      problems.push({ tag: img, message: `unknown image tag {%${img}}: not an image face field` });
    }
  }
  const present = new Set([...found.tags, ...found.loops, ...found.images]);
  for (const f of fields) {
    if (f.required && !f.duplicate && !present.has(f.key))
      problems.push({ tag: f.key, message: `required face field ${f.key} (${f.label}) is missing from the template` });
  }
  for (const img of REQUIRED_IMAGE_TAGS)
    if (!found.images.includes(img))
      problems.push({ tag: img, message: `the template must place the {%${img}} image` });
  return problems;
}

/** Validity dates for a certificate issued on `issuedOn` (YYYY-MM-DD). */
export function validityDates(rule: ValidityRule, issuedOn: string): { validFrom: string; validUntil: string | null } {
  if (rule.kind === 'permanent') return { validFrom: issuedOn, validUntil: null };
  if (rule.kind === 'until') return { validFrom: issuedOn, validUntil: rule.date };
  const [y, m, d] = issuedOn.split('-').map(Number) as [number, number, number];
  // Same day N months later, minus one day; clamp to the end of a shorter month.
  const total = y * 12 + (m - 1) + rule.months;
  const ty = Math.floor(total / 12);
  const tm = (total % 12) + 1;
  const lastDay = new Date(Date.UTC(ty, tm, 0)).getUTCDate();
  const end = new Date(Date.UTC(ty, tm - 1, Math.min(d, lastDay)) - 86_400_000);
  return { validFrom: issuedOn, validUntil: end.toISOString().slice(0, 10) };
}

/** Plausible sample face data for template previews: every field filled, every value valid. */
export function sampleFaceData(fields: readonly FaceField[]): Record<string, string | number | string[]> {
  const out: Record<string, string | number | string[]> = {};
  for (const f of fields) {
    switch (f.type) {
      case 'text': {
        const sample = `${f.label}（示例）`;
        out[f.key] = f.maxLength !== undefined ? [...sample].slice(0, f.maxLength).join('') : sample;
        break;
      }
      case 'date':
        out[f.key] = '2026-01-01';
        break;
      case 'number':
        out[f.key] = f.min ?? 100;
        break;
      case 'enum':
        out[f.key] = f.options![0]!;
        break;
      case 'idNumber':
        out[f.key] = '11010519491231002X'; // the example in GB 11643
        break;
      case 'creditCode':
        out[f.key] = '91350100M000100Y43';
        break;
      case 'image':
        out[f.key] = SAMPLE_PNG;
        break;
      case 'list':
        out[f.key] = [`${f.label}示例一`, `${f.label}示例二`];
        break;
    }
  }
  return out;
}

/** A 1×1 transparent PNG. */
const SAMPLE_PNG =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

/**
 * Where face data and holder disagree (holderIdField / holderNameField): one error per field,
 * naming it. `faceData` is validated already (IDs in their canonical spelling, text trimmed);
 * a declared field left empty is reported too, since the face would then name nobody.
 */
export function holderFaceMismatches(
  type: Pick<CertificateTypeDefinition, 'holderIdField' | 'holderNameField'>,
  holder: { id: string; name: string },
  faceData: Record<string, unknown>,
): { field: string; message: string }[] {
  const errors: { field: string; message: string }[] = [];
  if (type.holderIdField && faceData[type.holderIdField] !== holder.id) {
    errors.push({ field: `faceData.${type.holderIdField}`, message: "must be the holder's ID (holder.id)" });
  }
  if (type.holderNameField && faceData[type.holderNameField] !== holder.name.trim()) {
    errors.push({ field: `faceData.${type.holderNameField}`, message: "must be the holder's name (holder.name)" });
  }
  return errors;
}
