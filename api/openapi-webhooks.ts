import { z } from 'zod';
import { CERTIFICATE_STATUSES } from '../domain/certificate-record';

/**
 * The callbacks certflow POSTs to a submission's `callbackUrl` (services/callbacks.ts through
 * services/outbox.ts), as OpenAPI 3.1 `webhooks`. The bodies' fields only ever grow.
 */

const applicationId = z.uuid().describe('The application the business system submitted');
const externalRef = z.string().nullable().describe("The submission's `externalRef`, echoed");
const certificateNumber = z
  .string()
  .describe('The certificate number (证照编号)')
  .meta({ examples: ['BL-330106-2026-0000042-B'] });

export const IssuedCallback = z
  .object({
    applicationId,
    externalRef,
    certificateNumber,
    downloadUrl: z
      .url()
      .describe(
        'The sealed PDF (`downloadCertificatePdf`), with a `reason` for use stating the callback, so the receiving ' +
          'business system can fetch it with its API key (scope certificates:read) as is; the read is audited',
      ),
    status: z.literal('issued'),
  })
  .meta({ id: 'CertificateIssuedCallback' });

export const StatusCallback = z
  .object({
    applicationId,
    externalRef,
    certificateNumber,
    status: z.enum(CERTIFICATE_STATUSES).describe("The certificate's status after the change"),
    reason: z.string().nullable().describe('Why it changed, as the department recorded it'),
    changedAt: z.string().describe('When it changed (ISO 8601)'),
    validUntil: z
      .string()
      .nullable()
      .optional()
      .describe('Only on certificate.expiring: the last valid day (YYYY-MM-DD)'),
    supersededBy: z
      .string()
      .nullable()
      .optional()
      .describe('Only on certificate.superseded: the number of the change, renewal or reissue that replaced it'),
    suspendedUntil: z
      .string()
      .nullable()
      .optional()
      .describe(
        'Only on certificate.suspended / .reinstated: the last day of the suspension (YYYY-MM-DD), null when open-ended',
      ),
  })
  .meta({ id: 'CertificateStatusCallback' });

export const AccessRequestDecidedCallback = z
  .object({
    event: z.literal('access-request.decided'),
    requestId: z.string().describe('The access request (`getAccessRequest`)'),
    status: z.enum(['approved', 'rejected', 'expired']),
    certificateNumber: z
      .string()
      .nullable()
      .describe('The certificate asked for; null when all of a holder’s of a type'),
    typeCode: z.string(),
    matter: z.string().describe('The matter (事项) the request named'),
    validUntil: z.string().describe('Until when the grants run'),
    grants: z.array(z.string()).describe('The grants made on approval; fetch with them (`fetchCertificate`)'),
    comment: z.string().nullable().describe("The deciding handler's comment"),
  })
  .meta({ id: 'AccessRequestDecidedCallback' });

const header = (name: string, description: string, schema: Record<string, unknown>) => ({
  name,
  in: 'header',
  required: true,
  description,
  schema,
});

function parameters(event: string) {
  return [
    header('X-Certflow-Event', 'The event', { type: 'string', const: event }),
    header(
      'X-Certflow-Signature',
      '`sha256=` and the lower-case hex HMAC-SHA256 of the exact request body bytes. The key is the `key` of ' +
        '`getCallbackSigningKey`, **base64-decoded** (32 bytes): HMAC with the decoded bytes, not the base64 text. ' +
        'Compare in constant time before trusting the body.',
      { type: 'string', pattern: '^sha256=[0-9a-f]{64}$' },
    ),
    header('X-Certflow-Body-Sha256', 'Hex SHA-256 of the body; the same on every attempt', {
      type: 'string',
      pattern: '^[0-9a-f]{64}$',
    }),
    header(
      'X-Certflow-Delivery',
      'The message id, the same on every attempt: a receiver whose answer was lost recognises the retry by it',
      { type: 'string' },
    ),
  ];
}

const DELIVERY =
  'Delivered means the receiver answered **2xx** (the body of the answer is ignored). Anything else is retried with ' +
  'the same body, signature and X-Certflow-Delivery: from 10 s, doubling, at most 2 h apart, 16 attempts ' +
  '(about a day); a 4xx other than 408 and 429 is final (the content was refused). Receivers must be idempotent ' +
  'on X-Certflow-Delivery and should answer quickly (within 10 s).';

/**
 * Every callback certflow sends (services/callbacks.ts), with its body: adding an event is one line here
 * (docs/api.md, "Callbacks"). test/contract/openapi.test.ts fails while an event the services send is missing.
 */
export const WEBHOOKS: Record<string, { summary: string; body: z.ZodType }> = {
  'certificate.issued': { summary: 'A certificate was issued for the application', body: IssuedCallback },
  'certificate.revoked': { summary: 'The certificate was revoked (吊销)', body: StatusCallback },
  'certificate.cancelled': { summary: 'The certificate was cancelled (注销)', body: StatusCallback },
  'certificate.withdrawn': { summary: 'The certificate was withdrawn (撤回)', body: StatusCallback },
  'certificate.expiring': {
    summary: 'The certificate ends soon (still valid; see `validUntil`)',
    body: StatusCallback,
  },
  'certificate.superseded': {
    summary: 'The certificate was superseded by a change, renewal or reissue (see `supersededBy`)',
    body: StatusCallback,
  },
  'certificate.suspended': {
    summary: 'The certificate was suspended (暂停; see `suspendedUntil`)',
    body: StatusCallback,
  },
  'certificate.reinstated': { summary: 'The suspension ended (恢复)', body: StatusCallback },
  // Sent to the callbackUrl of an access request a business system made (docs/sharing.md), not a submission's.
  'access-request.decided': {
    summary: 'An access request (用证申请) was decided: approved with its grants, rejected, or expired undecided',
    body: AccessRequestDecidedCallback,
  },
};
export const CALLBACK_EVENTS = Object.keys(WEBHOOKS);

/** `certificate.issued` → `onIssued`; `access-request.decided` → `onAccessRequestDecided`. */
const operationIdOf = (event: string) =>
  'on' +
  event
    .replace(/^certificate\./, '')
    .replace(/\./g, '-')
    .replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase());

export function webhooks() {
  const out: Record<string, unknown> = {};
  for (const [event, { summary, body }] of Object.entries(WEBHOOKS)) {
    const id = (body.meta() as { id?: string } | undefined)?.id;
    out[event] = {
      post: {
        operationId: operationIdOf(event),
        summary,
        description: DELIVERY,
        tags: ['callbacks'],
        parameters: parameters(event),
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { $ref: `#/components/schemas/${id}` } } },
        },
        responses: {
          '2XX': { description: 'Delivered; certflow stops sending this message' },
          default: { description: 'Not delivered; certflow retries (see the description)' },
        },
      },
    };
  }
  return out;
}

/** The bodies' schemas for components.schemas (each body has a `.meta({ id })`). */
export function webhookSchemas() {
  const out: Record<string, unknown> = {};
  for (const schema of new Set(Object.values(WEBHOOKS).map((w) => w.body))) {
    const { $defs } = z.toJSONSchema(schema, { io: 'output', target: 'draft-2020-12' }) as {
      $defs: Record<string, unknown>;
    };
    Object.assign(out, $defs);
  }
  return out;
}
