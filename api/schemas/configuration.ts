import { z } from 'zod';
import { approvalStepSchema, validityRuleSchema } from '../../domain/certificate-type';
import { faceFieldSchema } from '../../domain/face-fields';
import { DEMO, departmentCode, isoTime, list } from './common';

/** Response bodies of certificate types, seals and seal revocation (api/routes). */

const TYPE_STATUSES = ['draft', 'published', 'retired'] as const;

export const CertificateTypeSummary = z
  .looseObject({
    code: z.string().describe('Type code (2–8 of A-Z 0-9)'),
    name: z.string(),
    department: departmentCode,
    status: z.enum(TYPE_STATUSES),
    latestVersion: z.number().int(),
    publishedVersion: z.number().int().nullable(),
    updatedAt: isoTime,
  })
  .meta({
    id: 'CertificateTypeSummary',
    examples: [
      {
        code: 'BL',
        name: '营业执照',
        department: DEMO.department.code,
        status: 'published',
        latestVersion: 1,
        publishedVersion: 1,
        updatedAt: DEMO.issuedAt,
      },
    ],
  });
export const CertificateTypeList = list(CertificateTypeSummary).meta({ id: 'CertificateTypeList' });

const tagProblem = z.looseObject({ tag: z.string(), message: z.string() });

export const CertificateType = CertificateTypeSummary.extend({
  version: z.number().int().describe('The version shown (the latest, or `?version=N`)'),
  definition: z.looseObject({
    name: z.string(),
    holderKind: z.enum(['person', 'entity']),
    validity: validityRuleSchema,
    faceFields: z.array(faceFieldSchema),
    approvalChain: z.array(approvalStepSchema).describe('Empty: auto-seal'),
    sealId: z.number().int().nullable().describe("null: the department's default seal"),
    description: z.string().optional(),
  }),
  faceFields: z
    .array(z.looseObject({ key: z.string(), label: z.string(), type: z.string(), required: z.boolean().optional() }))
    .describe('The face fields (照面信息) a submission fills in, in short'),
  template: z
    .looseObject({
      sha256: z.string(),
      problems: z.array(tagProblem).describe('Tags that do not fit the face fields; empty when it fits'),
    })
    .nullable()
    .describe('null: no template uploaded for this version yet'),
  definitionProblems: z
    .array(z.object({ path: z.string(), key: z.string(), message: z.string() }))
    .describe('Rules this stored version breaks (e.g. a pattern refused since it was saved): save it again'),
}).meta({ id: 'CertificateType' });

export const Seal = z
  .looseObject({
    id: z.number().int(),
    department: departmentCode,
    departmentId: z.number().int(),
    name: z.string(),
    imageSha256: z.string(),
    certificatePem: z.string().describe('The signing certificate (PEM); the private key is never returned'),
    serial: z.string(),
    notBefore: isoTime,
    notAfter: isoTime,
    active: z.boolean(),
    isDefault: z.boolean(),
  })
  .meta({ id: 'Seal' });
export const SealList = list(Seal).meta({ id: 'SealList' });
export const ImportedSeal = Seal.extend({
  warnings: z.array(z.string()).describe('What to look at in the imported certificate (e.g. ends soon)'),
}).meta({ id: 'ImportedSeal' });

export const SealRevocation = z
  .looseObject({
    sealId: z.number().int(),
    serial: z.string(),
    reason: z.enum(['keyCompromise', 'superseded']),
    compromisedAt: isoTime.nullable(),
    revokedAt: isoTime,
    revokedBy: z.string(),
    comment: z.string().nullable(),
  })
  .meta({ id: 'SealRevocation' });
