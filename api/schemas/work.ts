import { z } from 'zod';
import { APPLICATION_STATUSES, ISSUANCE_MODES } from '../../domain/issuance';
import { CERTIFICATE_STATUSES } from '../../domain/certificate-record';
import { STEP_ROLES } from '../../domain/certificate-type';
import { CHECKS } from '../../services/verify';
import { certificateNumber, DEMO, departmentCode, isoDate, isoTime, page } from './common';

/**
 * Response bodies of the inbox, the operators' repairs, revocation, the catalog, records, verification
 * and compare (api/routes/tasks.ts, operations.ts, revocations.ts, catalog.ts, certificates.ts, verify.ts).
 */

const actorRef = z.looseObject({ type: z.enum(['user', 'api-client', 'system']), id: z.string(), name: z.string() });
const historyEntry = z
  .looseObject({ at: isoTime, kind: z.string(), step: z.string().nullish(), comment: z.string().nullish() })
  .describe('One event of the application (submitted, approved, returned, sealing, issued, …)');

export const Task = z
  .looseObject({
    id: z.number().int(),
    applicationId: z.uuid(),
    round: z.number().int(),
    stepIndex: z.number().int(),
    stepKey: z.string(),
    stepName: z.string(),
    role: z.string(),
    department: departmentCode,
    typeCode: z.string(),
    status: z.enum(['open', 'done', 'cancelled']),
    assignee: z.looseObject({ id: z.number().int(), name: z.string() }).nullable(),
    dueAt: isoTime.nullable(),
    overdue: z.boolean(),
    escalated: z.boolean(),
    decision: z.string().nullable(),
    decidedBy: z.string().nullable(),
    comment: z.string().nullable(),
    createdAt: isoTime,
    decidedAt: isoTime.nullable(),
  })
  .meta({ id: 'Task' });

export const Inbox = z
  .looseObject({
    items: z.array(Task.extend({ holderName: z.string(), applicationStatus: z.string() })),
    counts: z.looseObject({ mine: z.number().int(), overdue: z.number().int() }),
  })
  .meta({ id: 'Inbox' });

export const TaskDetail = z
  .looseObject({
    task: Task,
    application: z.looseObject({
      id: z.uuid(),
      typeCode: z.string(),
      typeName: z.string().optional(),
      typeVersion: z.number().int(),
      status: z.enum(APPLICATION_STATUSES),
      holder: z.looseObject({
        kind: z.enum(['person', 'entity']),
        name: z.string(),
        id: z.string().describe('Masked'),
      }),
      submitter: z.unknown(),
      revision: z.number().int(),
      faceFields: z.array(
        z.looseObject({ key: z.string(), label: z.string(), type: z.string(), required: z.boolean().optional() }),
      ),
      faceData: z.record(z.string(), z.unknown()).nullish().describe('ID numbers masked'),
    }),
    history: z.array(historyEntry),
  })
  .meta({ id: 'TaskDetail' });

/** What the issuance workflow's Query answers (domain/issuance.ts ApplicationState). */
export const ApplicationState = z
  .looseObject({
    applicationId: z.uuid(),
    typeCode: z.string(),
    typeVersion: z.number().int(),
    department: departmentCode,
    mode: z.enum(ISSUANCE_MODES),
    status: z.enum(APPLICATION_STATUSES),
    round: z.number().int(),
    revision: z.number().int(),
    filler: actorRef,
    chain: z.array(z.looseObject({ key: z.string(), name: z.string(), role: z.enum(STEP_ROLES) })),
    currentStep: z
      .looseObject({
        index: z.number().int(),
        key: z.string(),
        name: z.string(),
        role: z.string(),
        taskId: z.number().int(),
        dueAt: isoTime.nullable(),
        overdue: z.boolean(),
        escalated: z.boolean(),
      })
      .nullable(),
    approvers: z.array(actorRef),
    history: z.array(historyEntry),
    certificateNumber: z.string().nullable(),
    error: z.string().nullable(),
  })
  .meta({ id: 'ApplicationState' });

export const RepairOutcome = z
  .looseObject({
    id: z.uuid(),
    status: z.enum(APPLICATION_STATUSES),
    certificateNumber: z.string().nullable(),
    error: z.string().nullable(),
  })
  .meta({ id: 'RepairOutcome' });

export const ResendOutcome = z
  .looseObject({
    id: z.uuid(),
    delivered: z.boolean(),
    skipped: z.string().optional().describe('Why nothing was sent (an attempt was delivered already)'),
  })
  .meta({ id: 'ResendOutcome' });

export const CertificateStatusChange = z
  .looseObject({
    number: certificateNumber,
    status: z.enum(['revoked', 'cancelled', 'withdrawn']),
    reason: z.string(),
    changedAt: isoTime,
  })
  .meta({ id: 'CertificateStatusChange' });

const catalogHolder = z.looseObject({
  kind: z.enum(['person', 'entity']),
  codeType: z.string(),
  name: z.string().optional().describe('Absent for catalog-only entries'),
  id: z.string().optional().describe('Masked; absent for catalog-only entries'),
  idMasked: z.boolean().optional(),
});

export const CatalogEntry = z
  .looseObject({
    number: certificateNumber,
    identifier: z.string(),
    type: z.looseObject({ code: z.string(), version: z.number().int(), name: z.string() }),
    issuer: z.looseObject({ department: departmentCode, name: z.string(), region: z.string() }),
    issuedAt: isoTime,
    validFrom: isoDate,
    validUntil: isoDate.nullable(),
    status: z.enum(CERTIFICATE_STATUSES),
    statusCode: z.string(),
    access: z.enum(['read', 'catalog-only']).describe("`catalog-only`: another department's, found by holder"),
    holder: catalogHolder,
    href: z.url().optional().describe('The certificate (`getCertificate`); only for readable entries'),
    sharing: z
      .object({
        condition: z.enum(['unconditional', 'conditional', 'not-shared']),
        zh: z.string(),
        en: z.string(),
      })
      .describe('Whether other departments may fetch it, and on what condition (docs/sharing.md)'),
  })
  .meta({ id: 'CatalogEntry' });

export const CatalogPage = page(CatalogEntry, z.string())
  .extend({ crossDepartment: z.boolean().describe("true: a handler's search by holder across departments") })
  .meta({ id: 'CatalogPage' });

const count = z.number().int();
export const Statistics = z
  .looseObject({
    scope: z.looseObject({
      departments: z.union([z.array(z.string()), z.literal('all')]),
      from: isoDate.nullable(),
      to: isoDate.nullable(),
      timeZone: z.literal('Asia/Shanghai'),
    }),
    total: count,
    byType: z.array(
      z.looseObject({ typeCode: z.string(), typeName: z.string().nullable(), department: z.string(), count }),
    ),
    byDepartment: z.array(z.looseObject({ department: z.string(), count })),
    byStatus: z.array(z.looseObject({ status: z.enum(CERTIFICATE_STATUSES), statusCode: z.string(), count })),
    byMonth: z.array(z.looseObject({ month: z.string().describe('YYYY-MM, China Standard Time'), count })),
  })
  .meta({ id: 'Statistics' });

export const CatalogFailures = page(
  z.looseObject({
    number: certificateNumber,
    identifier: z.string(),
    typeCode: z.string(),
    typeName: z.string(),
    department: departmentCode,
    holderName: z.string(),
    issuedAt: isoTime,
    attempts: count,
    lastError: z.string().nullable(),
    lastAttemptAt: isoTime.nullable(),
  }),
).meta({ id: 'CatalogFailures' });

export const CatalogRegistration = z
  .looseObject({
    number: certificateNumber,
    registered: z.literal(true),
    registeredAt: isoTime,
    attempts: count,
    alreadyRegistered: z.boolean(),
  })
  .meta({ id: 'CatalogRegistration' });

export const CertificateRecord = z
  .looseObject({
    record: z.record(z.string(), z.unknown()).describe('The certificate record (parsed `canonical`)'),
    canonical: z.string().describe('The exact signed bytes (canonical JSON): verify against these'),
    recordSha256: z.string(),
    signature: z.string().describe('CMS SignedData, detached, DER, base64'),
    signatureFormat: z.string(),
    signerCertificate: z.string().nullable().describe('PEM'),
    chain: z.array(z.string()).describe('PEM, up to the platform root'),
  })
  .meta({ id: 'CertificateRecord' });

const CHECK_IDS = Object.keys(CHECKS) as [keyof typeof CHECKS, ...(keyof typeof CHECKS)[]];
export const VerificationReport = z
  .looseObject({
    verdict: z.enum(['valid', 'invalid', 'indeterminate']),
    input: z.enum(['pdf', 'record', 'number']),
    checks: z.array(
      z.looseObject({
        id: z.enum(CHECK_IDS),
        title: z.string(),
        titleEn: z.string(),
        status: z.enum(['passed', 'failed', 'indeterminate']),
        reason: z.string(),
      }),
    ),
    certificate: z
      .looseObject({
        number: certificateNumber,
        identifier: z.string(),
        type: z.looseObject({ code: z.string(), name: z.string() }),
        holder: z.looseObject({
          kind: z.enum(['person', 'entity']),
          name: z.string().describe('Person holders: masked (张*三)'),
          idMasked: z.string(),
        }),
        issuer: z.looseObject({ department: departmentCode, name: z.string(), code: z.string(), region: z.string() }),
        issuedAt: isoTime,
        issuedOn: isoDate,
        validity: z.looseObject({ from: isoDate, until: isoDate.nullable() }),
        status: z.enum(CERTIFICATE_STATUSES),
        statusCode: z.string(),
        statusChangedAt: isoTime,
        statusReason: z.string().nullable(),
      })
      .nullable()
      .describe('The public face of the certificate; null when none was found'),
    checkedAt: isoTime,
  })
  .meta({ id: 'VerificationReport' });

export const ComparisonResult = z
  .looseObject({
    number: certificateNumber,
    status: z.enum(CERTIFICATE_STATUSES),
    results: z
      .record(z.string(), z.looseObject({ match: z.boolean() }))
      .describe('Per claimed field: whether it matches; never the stored value'),
  })
  .meta({
    id: 'ComparisonResult',
    examples: [
      {
        number: DEMO.certificateNumber,
        status: 'valid',
        results: { legalRepresentative: { match: true }, holderId: { match: true } },
      },
    ],
  });
