import { z } from 'zod';
import type { AppDeps } from '../app';
import type { ApiRouter } from '../routing';
import { requirePermission } from '../auth';
import { recordAudit } from '../audit';
import { actorRef } from '../../domain/issuance';
import { HOLDER_KINDS, holderNameSchema } from '../../domain/holder';
import { importCertificate, importType } from '../../services/imports/single';
import { ImportedCertificateSchema } from '../schemas/imports';

/** Base64 of at most ≈1.4 MB: the JSON body limit is 2 MB (api/app.ts). */
const base64File = (what: string) =>
  z
    .string()
    .max(1_900_000)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, `${what} must be base64`)
    .transform((s) => Buffer.from(s, 'base64'));

const date = z.string().max(10).describe('YYYY-MM-DD');

/** Mode 3 (docs/import.md): a certificate made elsewhere, taken in one at a time. */
export function importedCertificateRoutes(api: ApiRouter, deps: AppDeps) {
  api.route(
    {
      method: 'post',
      path: '/imported-certificates',
      operationId: 'importCertificate',
      scopes: ['certificates:import'],
      summary: 'Take in one certificate made elsewhere: face data plus its original PDF (and signature)',
      description:
        "Per the type's `importMode`: `register` (default) stores it as it was, origin `imported`, the PDF as its " +
        'document; `reseal` seals a new certflow rendition through the sealing pipeline and keeps the original as an ' +
        'attachment. A `number` in certflow format is kept when free (409 when taken); any other is kept as ' +
        '`originalNumber` beside an allocated one. `Idempotency-Key` (or `externalRef`) makes a retry return the first result.',
      tag: 'imports',
      body: z.object({
        typeCode: z.string().trim().toUpperCase().max(8),
        holder: z.object({ kind: z.enum(HOLDER_KINDS), id: z.string().max(64), name: holderNameSchema }),
        faceData: z.record(z.string(), z.unknown()),
        number: z.string().trim().min(1).max(100).optional(),
        identifier: z.string().trim().min(1).max(100).optional(),
        issueDate: date,
        validFrom: date.optional(),
        validUntil: date.optional(),
        status: z.string().max(16).optional(),
        document: z.object({ pdf: base64File('pdf'), signature: base64File('signature').optional() }),
        externalRef: z.string().trim().min(1).max(128).optional(),
      }),
      requestHeaders: [
        {
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          description: 'At most 100 characters; the same key again answers 200 with what the first request made.',
          schema: { type: 'string', maxLength: 100 },
        },
      ],
      responses: {
        201: { description: 'Taken in (reseal: its sealing has started)', schema: ImportedCertificateSchema },
        200: { description: 'The same request again: what the first one made', schema: ImportedCertificateSchema },
      },
      errors: [409, 503],
    },
    async (ctx, { body }) => {
      const type = await importType(deps, body.typeCode);
      ctx.state.auditObject = { type: 'certificate-type', id: type.code };
      requirePermission(ctx, 'certificate.import', { department: type.department });
      const { document, ...rest } = body;
      const { view, created } = await importCertificate(
        deps,
        {
          ...rest,
          pdf: document.pdf,
          ...(document.signature ? { signature: document.signature } : {}),
          submitter: actorRef(ctx.state.actor),
          idempotencyKey: ctx.get('idempotency-key'),
        },
        (entry) => recordAudit(ctx, entry),
      );
      ctx.status = created ? 201 : 200;
      return view;
    },
  );
}
