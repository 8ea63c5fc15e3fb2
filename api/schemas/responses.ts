import { z } from 'zod';
import { APPLICATION_STATUSES, ISSUANCE_MODES } from '../../domain/issuance';
import { CERTIFICATE_STATUSES } from '../../domain/certificate-record';
import { APPLICATION_KINDS } from '../../domain/certificate-change';
import { HOLDER_KINDS } from '../../domain/holder';

/**
 * Response bodies of the operations a business system builds on, as zod schemas so /openapi.json
 * states them (api/openapi.ts) and test/contract checks the server against them. Fields are only
 * ever added; objects stay open (`looseObject`) so an added field does not break a client.
 */

const isoTime = z.string().describe('ISO 8601 date-time');
const date = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/)
  .describe('YYYY-MM-DD');

export const SubmittedApplication = z
  .looseObject({
    id: z.uuid(),
    workflowId: z.string(),
    status: z
      .enum(APPLICATION_STATUSES)
      .describe('`sealing` when nothing is to be reviewed (auto-seal), else `in-review`'),
    sealingUrl: z.url().optional().describe('online-seal only: the page where a sealing officer seals'),
  })
  .meta({
    id: 'SubmittedApplication',
    examples: [
      {
        id: '0b6f7c52-3c1e-4a55-9d2a-6f1f0c1c2d3e',
        workflowId: 'issuance-0b6f7c52-3c1e-4a55-9d2a-6f1f0c1c2d3e',
        status: 'sealing',
      },
    ],
  });

export const Application = z
  .looseObject({
    id: z.uuid(),
    workflowId: z.string(),
    typeCode: z.string(),
    typeVersion: z.number().int(),
    department: z.string(),
    mode: z.enum([...ISSUANCE_MODES, 'import']).describe('`import`: an imported certificate (docs/import.md)'),
    status: z.enum(APPLICATION_STATUSES),
    holder: z.looseObject({
      kind: z.enum(HOLDER_KINDS),
      name: z.string(),
      id: z.string().nullable().describe('Masked'),
    }),
    faceData: z.record(z.string(), z.unknown()),
    revision: z.number().int(),
    externalRef: z.string().nullable(),
    certificateNumber: z.string().nullable().describe('Set once issued'),
    currentStep: z
      .looseObject({
        index: z.number().int(),
        key: z.string(),
        name: z.string(),
        role: z.string(),
        taskId: z.number().int(),
        dueAt: z.string().nullable(),
        overdue: z.boolean(),
        escalated: z.boolean(),
      })
      .nullable()
      .describe('The step waiting for someone, if any'),
    round: z.number().int().nullable(),
    kind: z.enum(APPLICATION_KINDS).describe('new, change, renewal or reissue (docs/lifecycle.md)'),
    replaces: z.string().nullable().describe('The certificate a change, renewal or reissue supersedes'),
    kindReason: z.string().nullable(),
    history: z.array(z.looseObject({ at: z.string(), kind: z.string() })),
    submitter: z.looseObject({ type: z.string(), id: z.string(), name: z.string().nullable() }),
    createdAt: isoTime,
    updatedAt: isoTime,
  })
  .meta({ id: 'Application' });

export const ApplicationList = z
  .looseObject({
    items: z.array(
      z.looseObject({
        id: z.uuid(),
        typeCode: z.string(),
        department: z.string(),
        status: z.enum(APPLICATION_STATUSES),
        holderName: z.string(),
        externalRef: z.string().nullable(),
        certificateNumber: z.string().nullable(),
        createdAt: isoTime,
        updatedAt: isoTime,
      }),
    ),
    nextBefore: z.string().nullable().describe('Pass as `before` for the next page; null on the last page'),
  })
  .meta({ id: 'ApplicationList' });

export const Certificate = z
  .looseObject({
    number: z.string(),
    identifier: z.string(),
    type: z.looseObject({ code: z.string(), version: z.number().int(), name: z.string() }),
    issuer: z.looseObject({ department: z.string(), name: z.string(), code: z.string(), region: z.string() }),
    holder: z.looseObject({
      kind: z.string(),
      codeType: z.string(),
      name: z.string(),
      id: z.string(),
      idMasked: z.boolean(),
    }),
    faceData: z.record(z.string(), z.unknown()),
    issuedAt: isoTime,
    validFrom: date,
    validUntil: date.nullable(),
    status: z.enum(CERTIFICATE_STATUSES),
    statusCode: z.string(),
    statusChangedAt: isoTime,
    statusReason: z.string().nullable(),
    suspendedUntil: date.nullable().describe('While suspended: the last day of the suspension, if it has one'),
    replaces: z.string().nullable().describe('The certificate this one superseded (change, renewal, reissue)'),
    supersededBy: z.string().nullable().describe('The certificate that superseded this one'),
    versions: z
      .array(
        z.looseObject({
          number: z.string(),
          kind: z.string(),
          reason: z.string().nullable(),
          status: z.enum(CERTIFICATE_STATUSES),
          changedFields: z.array(z.string()),
        }),
      )
      .describe('Every version of this certificate, oldest first; empty for one never changed (docs/lifecycle.md)'),
    seal: z.looseObject({}),
    documents: z.looseObject({
      pdf: z.url(),
      pdfSha256: z.string(),
      record: z.url(),
      recordSha256: z.string(),
    }),
    catalog: z.looseObject({}),
  })
  .meta({ id: 'Certificate' });

export const SigningKey = z
  .looseObject({
    owner: z.string().describe('`api-client:<id>` or `department:<code>`'),
    algorithm: z.literal('HMAC-SHA256'),
    key: z.base64().describe('The HMAC key, base64: decode it to 32 bytes before computing the HMAC'),
  })
  .meta({ id: 'CallbackSigningKey' });
