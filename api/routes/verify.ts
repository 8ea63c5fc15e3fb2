import { z } from 'zod';
import type { Context } from 'koa';
import type { AppDeps } from '../app';
import type { ApiRouter } from '../routing';
import { numberParam } from './certificates';
import { HttpProblem, notFound, unprocessable, problemOf } from '../problem';
import { requirePermission } from '../auth';
import { recordAudit } from '../audit';
import { readRawBody } from '../raw-body';
import { authorize, describeActor } from '../../domain/access';
import { CERTIFICATE_NUMBER_PATTERN, parseCertificateNumber } from '../../domain/certificate-number';
import { getCertificateCached } from '../../db/certificate-cache';
import { statusNow, type VerifyInput } from '../../services/verify';
import { verifyDocument } from '../../services/sharing/verify-copy';
import { chinaDate } from '../../domain/calendar';
import { compareCertificateFields } from '../../services/compare';
import { ComparisonResult, VerificationReport } from '../schemas/work';

/**
 * Public verification (docs/trust.md, "Verification": `POST /verify`, `GET /verify/:number`,
 * the QR code's target) and compare (`POST /certificates/:number/compare`).
 *
 * Verification needs no sign-in, so it is rate-limited per client IP (VERIFY_RATE_LIMIT_PER_MINUTE)
 * before any work — before a 20 MB upload is even read. Every verification is audited under
 * 'verification' with the caller (anonymous, staff or business system), the certificate
 * and the verdict: outcome success ⇔ verdict valid, failure ⇔ invalid or indeterminate,
 * the verdict itself and the failed checks in the detail. Requests refused by the rate
 * limit are not audited one by one — that would let a flood write the (serialised)
 * audit chain as fast as it likes — only the first refusal of each client and window.
 */

const MAX_PDF_BYTES = 20 * 1024 * 1024;
const MAX_REASON_CHARS = 200;

/** Optional fields, so that a PDF upload (no JSON body) passes the router's parse; checked in the handler. */
const recordBody = z.object({
  record: z
    .union([z.string().min(1), z.record(z.string(), z.unknown())])
    .optional()
    .describe('The certificate record: its canonical JSON text, or the object'),
  signature: z
    .string()
    .min(1)
    .max(100_000)
    .optional()
    .describe('Base64 DER CMS detached signature over the canonical record'),
});

const compareBody = z.object({
  fields: z
    .record(z.string(), z.unknown(), { error: 'fields must be an object of claimed values' })
    .refine((f) => Object.keys(f).length > 0, 'name at least one field to compare')
    .refine((f) => Object.keys(f).length <= 250, 'at most 250 fields'),
  reason: z
    .string({ error: 'reason is required: the purpose of use (用证事由)' })
    .trim()
    .min(1, 'reason is required: the purpose of use (用证事由)')
    .refine((s) => [...s].length <= MAX_REASON_CHARS, `reason must be at most ${MAX_REASON_CHARS} characters`),
});

export function verifyRoutes(api: ApiRouter, deps: AppDeps) {
  /** Fixed one-minute windows per client IP; Retry-After is the rest of the window. */
  async function rateLimit(ctx: Context): Promise<void> {
    const limit = deps.config.verify.rateLimitPerMinute;
    const now = Date.now();
    const windowNo = Math.floor(now / 60_000);
    let n: number;
    try {
      n = await deps.cache.incr(`ratelimit:verify:${ctx.ip}:${windowNo}`, 120);
    } catch (err) {
      // Verification is a public service: a cache outage makes it unthrottled, not unavailable.
      ctx.log.warn({ err }, 'verification rate limit unavailable (cache down); allowing the request');
      return;
    }
    if (n <= limit) return;
    const retryAfter = Math.max(1, Math.ceil(((windowNo + 1) * 60_000 - now) / 1000));
    ctx.set('Retry-After', String(retryAfter));
    if (n === limit + 1) {
      await recordAudit(ctx, {
        category: 'verification',
        action: 'certificate.verify',
        outcome: 'denied',
        detail: { reason: `rate limit of ${limit} verifications a minute exceeded` },
      });
    }
    throw new HttpProblem(
      429,
      'Too Many Requests',
      `More than ${limit} verifications a minute from this address; try again in ${retryAfter} s`,
    );
  }

  async function verifyAudited(ctx: Context, input: VerifyInput, number?: string) {
    try {
      const actor = ctx.state.actor;
      const readsDepartment = (department: string) => authorize(actor, 'certificate.read', { department }).allowed;
      const report = await verifyDocument(deps, input, { readsDepartment });
      const id = report.certificate?.number ?? number;
      await recordAudit(ctx, {
        category: 'verification',
        action: 'certificate.verify',
        outcome: report.verdict === 'valid' ? 'success' : 'failure',
        object: id ? { type: 'certificate', id } : null,
        department: report.certificate?.issuer.department ?? null,
        detail: {
          input: report.input,
          verdict: report.verdict,
          ...(report.annotatedCopy ? { annotatedCopy: report.annotatedCopy.id } : {}),
          failed: report.checks.filter((c) => c.status === 'failed').map((c) => c.id),
          indeterminate: report.checks.filter((c) => c.status === 'indeterminate').map((c) => c.id),
        },
      });
      return report;
    } catch (err) {
      const problem = problemOf(err);
      await recordAudit(ctx, {
        category: 'verification',
        action: 'certificate.verify',
        outcome: 'failure',
        object: number ? { type: 'certificate', id: number } : null,
        detail: { error: problem ? problem.detail : 'internal error' },
      });
      throw err;
    }
  }

  api.route(
    {
      method: 'post',
      path: '/verify',
      operationId: 'verifyPdf',
      summary:
        'Verify a certificate (public, no sign-in): upload the PDF as the body (Content-Type application/pdf, up to 20 MB), ' +
        'or send JSON {record, signature}. Returns a report: verdict valid/invalid/indeterminate, each check with its reason, the public face summary',
      tag: 'verification',
      auth: 'public',
      body: recordBody,
      responses: {
        200: { description: 'Verification report', schema: VerificationReport },
        413: 'PDF over 20 MB',
        415: 'Neither a PDF nor JSON',
        422: 'Not a PDF / record unreadable',
        429: 'Rate limit; see Retry-After',
      },
    },
    async (ctx, { body }) => {
      await rateLimit(ctx);
      if (ctx.is('application/pdf', 'application/octet-stream'))
        return verifyAudited(ctx, await readRawBody(ctx, MAX_PDF_BYTES));
      if (!ctx.is('application/json')) {
        throw new HttpProblem(
          415,
          'Unsupported Media Type',
          'Send the PDF as the body with Content-Type application/pdf, or JSON {record, signature}',
        );
      }
      const missing = (['record', 'signature'] as const).filter((k) => body[k] === undefined);
      if (missing.length)
        throw unprocessable(
          'The request body has invalid fields',
          missing.map((field) => ({ field, message: `${field} is required` })),
        );
      return verifyAudited(ctx, { record: body.record!, signature: body.signature! });
    },
  );

  api.route(
    {
      method: 'get',
      path: '/verify/:number',
      operationId: 'verifyCertificate',
      summary: "Verify a certificate by its number (public, no sign-in; the QR code's target)",
      tag: 'verification',
      auth: 'public',
      params: z.object({
        number: z
          .string()
          .min(1)
          .max(64)
          .describe('The certificate number (as on the QR code); see getCertificate')
          .meta({ pattern: CERTIFICATE_NUMBER_PATTERN, examples: ['BL-330106-2026-0000042-B'] }),
      }),
      responses: {
        200: { description: 'Verification report', schema: VerificationReport },
        400: 'Not a certificate number',
        429: 'Rate limit; see Retry-After',
      },
    },
    async (ctx, { params }) => {
      await rateLimit(ctx);
      const parsed = parseCertificateNumber(params.number);
      return verifyAudited(ctx, params.number, parsed.ok ? parsed.value.number : undefined);
    },
  );

  api.route(
    {
      method: 'post',
      path: '/certificates/:number/compare',
      operationId: 'compareCertificate',
      responses: { 200: { description: 'Whether each claimed value matches', schema: ComparisonResult } },
      scopes: ['certificates:compare'],
      summary:
        'Compare claimed values with a certificate (比对) without revealing the stored ones: {fields: {<face field key> | holderId | holderName: value}, reason (用证事由, ≤ 200 characters)} → {results: {key: {match}}}',
      tag: 'certificates',
      params: numberParam,
      body: compareBody,
      audit: { category: 'operation', action: 'certificate.compare' },
    },
    async (ctx, { params, body }) => {
      ctx.state.auditObject = { type: 'certificate', id: params.number };
      const cert = await getCertificateCached(deps.db, deps.cache, params.number);
      if (!cert) throw notFound(`No certificate ${params.number}`);
      ctx.state.auditDepartment = cert.department;
      // Readers of the issuing department may compare what they may read; everyone else needs
      // certificate.compare, which is deliberately not department-bound (see domain/access.ts).
      if (!authorize(ctx.state.actor, 'certificate.read', { department: cert.department }).allowed) {
        requirePermission(ctx, 'certificate.compare');
      }
      const who = describeActor(ctx.state.actor);
      const results = await compareCertificateFields(deps, cert, body.fields, {
        key: `${who.type}:${who.id ?? who.name ?? ''}`,
        // For the audit admin: someone keeps guessing at one certificate (docs/security.md).
        alert: (detail) =>
          recordAudit(ctx, {
            category: 'authorization',
            action: 'compare.budget-exceeded',
            outcome: 'denied',
            object: { type: 'certificate', id: cert.number },
            department: cert.department,
            detail: { ...detail, reason: body.reason, alert: true },
          }),
      });
      // Caller (from the request) and reason on every use, as the sharing rules require; never the claimed values.
      ctx.state.auditDetail = {
        reason: body.reason,
        fields: Object.fromEntries(Object.entries(results).map(([k, r]) => [k, r.match])),
      };
      return { number: cert.number, status: statusNow(cert, chinaDate(Date.now())).effective, results };
    },
  );
}
