import { z } from 'zod';

/** Response schemas of the import routes (docs/import.md). */

const isoTime = z.iso.datetime({ offset: true });

export const ImportProgressSchema = z
  .looseObject({
    total: z.number().int().nullable().describe('Data rows in the file; null until it was counted'),
    done: z.number().int(),
    percent: z.number().int().min(0).max(100).nullable(),
    rowsPerSecond: z.number().nullable(),
    etaSeconds: z.number().int().nullable(),
  })
  .meta({ id: 'ImportProgress' });

export const CertificateImportSchema = z
  .looseObject({
    id: z.uuid(),
    typeCode: z.string(),
    typeVersion: z.number().int(),
    department: z.string(),
    fileName: z.string(),
    format: z.enum(['csv', 'xlsx']),
    status: z.enum(['pending', 'running', 'completed', 'failed']),
    error: z.string().nullable(),
    workflowId: z.string(),
    createdBy: z.string(),
    createdAt: isoTime,
    startedAt: isoTime.nullable(),
    finishedAt: isoTime.nullable(),
    imported: z.number().int(),
    rejected: z.number().int(),
    progress: ImportProgressSchema,
  })
  .meta({ id: 'CertificateImport' });

export const CertificateImportList = z
  .looseObject({ items: z.array(CertificateImportSchema) })
  .meta({ id: 'CertificateImportList' });

export const ImportedCertificateSchema = z
  .looseObject({
    number: z.string(),
    identifier: z.string(),
    status: z.string(),
    origin: z.enum(['imported', 'issued']),
    applicationId: z.string(),
    attachments: z.array(z.looseObject({ kind: z.string(), sha256: z.string() })),
  })
  .meta({ id: 'ImportedCertificate' });
