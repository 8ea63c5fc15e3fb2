import { z } from 'zod';
import { DEMO_DEPARTMENTS, DEMO_HOLDERS, DEMO_LICENCE_FACE_DATA } from '../../db/seed-demo';

/**
 * Building blocks of the response schemas (api/schemas/*.ts) and the one source of their examples:
 * the demo data of db/seed-demo.ts, which `npm start` seeds, so an example in /docs can be tried as is.
 */

export const isoTime = z.string().describe('ISO 8601 date-time');
export const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/)
  .describe('YYYY-MM-DD');
export const departmentCode = z
  .string()
  .describe('Department code')
  .meta({ examples: ['market'] });
export const certificateNumber = z
  .string()
  .describe('The certificate number (证照编号)')
  .meta({ examples: ['BL-330106-2026-0000042-B'] });

/** A page of items with an opaque cursor: pass `nextCursor` back as `cursor`; null on the last page. */
export const page = <T extends z.ZodType>(item: T, cursor: z.ZodType = z.number().int()) =>
  z.looseObject({
    items: z.array(item),
    nextCursor: cursor.nullable().describe('Pass as `cursor` for the next page; null on the last page'),
  });

export const list = <T extends z.ZodType>(item: T) => z.looseObject({ items: z.array(item) });

export const DEMO = {
  department: DEMO_DEPARTMENTS[0],
  company: DEMO_HOLDERS.company,
  person: DEMO_HOLDERS.person,
  /** The demo business licence (BL) face data: the submission example and the tests' LICENCE use it. */
  licenceFaceData: DEMO_LICENCE_FACE_DATA,
  certificateNumber: 'BL-330106-2026-0000042-B',
  applicationId: '0b6f7c52-3c1e-4a55-9d2a-6f1f0c1c2d3e',
  issuedAt: '2026-03-02T01:30:00.000Z',
} as const;
