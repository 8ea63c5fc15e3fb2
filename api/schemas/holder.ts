import { z } from 'zod';
import { CERTIFICATE_STATUSES } from '../../domain/certificate-record';
import { ROLES } from '../../domain/access';
import { Certificate } from './responses';
import { CertificateRecord } from './work';
import { certificateNumber, DEMO, departmentCode, isoDate, isoTime, list, page } from './common';

/** Response bodies of the holder portal and the counter's show-code redemption (api/routes/holder.ts). */

export const HolderMe = z
  .looseObject({
    kind: z.enum(['person', 'entity']),
    name: z.string(),
    agentName: z.string().nullable().describe('For an entity: the person acting for it'),
  })
  .meta({
    id: 'HolderMe',
    examples: [{ kind: 'entity', name: DEMO.company.name, agentName: DEMO.company.agent.name }],
  });

export const MyCertificateList = list(
  z.looseObject({
    number: certificateNumber,
    type: z.looseObject({ code: z.string(), name: z.string() }),
    issuer: z.looseObject({ department: departmentCode, name: z.string() }),
    holderName: z.string(),
    issuedAt: isoTime,
    validFrom: isoDate,
    validUntil: isoDate.nullable(),
    status: z.enum(CERTIFICATE_STATUSES),
    expiringSoon: z.boolean().describe('Valid and ending within the reminder window'),
  }),
).meta({ id: 'MyCertificateList' });

export const UsagePage = page(
  z.looseObject({
    seq: z.number().int(),
    at: isoTime,
    certificateNumber: z.string().nullable(),
    use: z.string().describe('read, download, record, compare, verify, show-code, grant-expired, revoke, …'),
    viaGrant: z.string().nullable().describe('The grant that allowed it, if any'),
    outcome: z.enum(['success', 'failure', 'denied']),
    reason: z.string().nullable().describe('The reason for use (用证事由) the user gave'),
    who: z.looseObject({
      type: z.string(),
      name: z.string().nullable(),
      department: z.string().nullable(),
      departmentName: z.string().nullable(),
      roles: z.array(z.looseObject({ role: z.enum(ROLES), zh: z.string(), en: z.string() })),
    }),
  }),
).meta({ id: 'UsagePage' });

export const GrantableDepartments = list(z.looseObject({ code: departmentCode, name: z.string() })).meta({
  id: 'GrantableDepartments',
});

export const Grant = z
  .looseObject({
    id: z.string(),
    certificateNumber,
    department: departmentCode,
    apiClientId: z.string().nullable().describe('Only this business system of the department; null: its staff'),
    matter: z.string(),
    validUntil: isoTime,
    status: z.enum(['active', 'revoked', 'expired']),
    grantedBy: z.string(),
    createdAt: isoTime,
    endedAt: isoTime.nullable(),
  })
  .meta({ id: 'Grant' });
export const GrantList = list(Grant).meta({ id: 'GrantList' });

export const ShowCode = z
  .looseObject({
    code: z.string().describe('Eight letters and digits; shown to the clerk once'),
    expiresAt: isoTime,
    qrSvg: z.string().describe('The code as a QR code (SVG)'),
    number: certificateNumber,
    matter: z.string().nullable(),
  })
  .meta({ id: 'ShowCode' });

export const RedeemedShowCode = z
  .looseObject({
    certificate: Certificate,
    record: CertificateRecord,
    pdf: z.looseObject({ contentType: z.literal('application/pdf'), sha256: z.string(), base64: z.base64() }),
    matter: z.string().nullable(),
  })
  .meta({ id: 'RedeemedShowCode' });
