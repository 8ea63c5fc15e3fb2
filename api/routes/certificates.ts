import { z } from 'zod';
import type { Context } from 'koa';
import type { AppDeps } from '../app';
import type { ApiRouter } from '../routing';
import { HttpProblem, notFound, unprocessable } from '../problem';
import { deny, requirePermission } from '../auth';
import { departmentCode } from './departments';
import { authorize, departmentsFor } from '../../domain/access';
import { CERTIFICATE_NUMBER_PATTERN, parseCertificateNumber } from '../../domain/certificate-number';
import { getCertificate, listCatalogFailed } from '../../db/certificates';
import { getCertificateCached, invalidateCertificate, type CachedCertificate } from '../../db/certificate-cache';
import { certificateRecord, certificateView } from '../../services/certificate-view';
import { usableGrant } from '../../services/holder/grants';
import { callbackSigningKey, registerCertificate } from '../../services/outbound';
import { catalogRoutes } from './catalog';
import { VerifiableCredential } from './credentials';
import { certificateCredential } from '../../services/credentials/issue';
import { Certificate, SigningKey } from '../schemas/responses';
import { CatalogFailures, CatalogRegistration, CertificateRecord } from '../schemas/work';

/** The reason for use (用证事由): required from business systems, optional for staff. */
const readQuery = z.object({
  reason: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .describe('The reason for use (用证事由), at most 200 characters: **required for API clients**, optional for staff')
    .meta({ examples: ['企业开办审批：核验营业执照'] }),
});

/** A certificate number in the path: validated (check character included) and upper-cased. */
export const numberParam = z.object({
  number: z
    .string()
    .describe(
      'The certificate number `<type>-<region>-<year>-<serial>-<check>` (domain/certificate-number.ts): the check ' +
        'character is ISO/IEC 7064 MOD 37,36; lower case and surrounding spaces are accepted',
    )
    .meta({ pattern: CERTIFICATE_NUMBER_PATTERN, examples: ['BL-330106-2026-0000042-B'] })
    .transform((value, ctx) => {
      const parsed = parseCertificateNumber(value);
      if (parsed.ok) return parsed.value.number;
      ctx.addIssue({ code: 'custom', message: `not a certificate number: ${parsed.reason}` });
      return z.NEVER;
    }),
});

/**
 * Issued certificates for authorised readers (staff with certificate.read in the issuing
 * department, business systems of that department with certificates:read, and — with a reason —
 * handlers and business systems of a department the holder granted it to, docs/holders.md), and the catalog
 * repair list for sealing officers. Every read is audited: a certificate is personal data.
 *
 * Holder IDs: masked by default. A reader who may read the certificate in its issuing
 * department gets the full ID by asking for it (`?reveal=holderId`), and the audit entry says
 * it was revealed — data minimisation by default, full access where the job needs it, and a
 * trace of every disclosure. Readers under a holder's grant may reveal it too: the holder let them
 * use the whole certificate for the matter.
 */
export function certificateRoutes(api: ApiRouter, deps: AppDeps) {
  // GET /certificates (search) and GET /stats: api/routes/catalog.ts.
  catalogRoutes(api, deps);

  /**
   * 404 for unknown numbers, 403 (audited) for readers outside the issuing department.
   * Other systems must state why they use the certificate (用证事由, docs/standards.md
   * "Sharing rules"); the reason goes into the audit entry.
   */
  async function readable(ctx: Context, number: string, reason?: string): Promise<CachedCertificate> {
    ctx.state.auditObject = { type: 'certificate', id: number };
    if (ctx.state.actor.kind === 'api-client' && !reason) {
      throw unprocessable('Business systems must give the reason for use', [
        { field: 'reason', message: 'required for business systems (用证事由, at most 200 characters)' },
      ]);
    }
    if (reason) ctx.state.auditDetail = { ...ctx.state.auditDetail, reason };
    const cert = await getCertificateCached(deps.db, deps.cache, number);
    if (!cert) throw notFound(`No certificate ${number}`);
    ctx.state.auditDepartment = cert.department;
    const decision = authorize(ctx.state.actor, 'certificate.read', { department: cert.department });
    if (decision.allowed) return cert;
    // Outside the issuing department: only under the holder's live grant (用证授权, docs/holders.md).
    const grant = await usableGrant(deps, ctx.state.actor, cert.number);
    if (!grant) deny(ctx, 'certificate.read', decision.reason, cert.department);
    if (!reason) {
      throw unprocessable("Give the reason for use when using a holder's grant", [
        { field: 'reason', message: 'required under a grant (用证事由, at most 200 characters)' },
      ]);
    }
    // The entry belongs to the department that used the certificate: the holder's usage log shows it.
    ctx.state.auditDepartment = grant.department;
    ctx.state.auditDetail = { ...ctx.state.auditDetail, grantId: grant.id, matter: grant.matter };
    return cert;
  }

  const view = (cert: CachedCertificate, reveal: boolean) =>
    certificateView(deps, cert, {
      reveal,
      documentsBase: `${deps.config.http.publicUrl}/api/v1/certificates/${cert.number}`,
    });

  api.route(
    {
      method: 'get',
      path: '/certificates/:number',
      operationId: 'getCertificate',
      scopes: ['certificates:read'],
      summary: 'An issued certificate: catalog data, status and links (holder ID masked unless ?reveal=holderId)',
      tag: 'certificates',
      params: numberParam,
      query: readQuery.extend({ reveal: z.enum(['holderId']).optional() }),
      responses: { 200: { description: 'The certificate', schema: Certificate } },
      audit: { category: 'operation', action: 'certificate.read' },
    },
    async (ctx, { params, query }) => {
      const cert = await readable(ctx, params.number, query.reason);
      const reveal = query.reveal === 'holderId';
      if (reveal) ctx.state.auditDetail = { ...ctx.state.auditDetail, holderIdRevealed: true };
      return view(cert, reveal);
    },
  );

  api.route(
    {
      method: 'get',
      path: '/certificates/:number/pdf',
      operationId: 'downloadCertificatePdf',
      scopes: ['certificates:read'],
      summary: 'The signed PDF',
      tag: 'certificates',
      params: numberParam,
      query: readQuery,
      responses: {
        200: {
          description: 'The signed PDF (PAdES signature and seal; verify it with `verifyPdf`)',
          contentType: 'application/pdf',
          rawSchema: { type: 'string', contentMediaType: 'application/pdf' },
          headers: {
            'X-Content-Sha256': {
              description: 'Hex SHA-256 of the PDF bytes; the same as `documents.pdfSha256` and the signed record',
              schema: { type: 'string', pattern: '^[0-9a-f]{64}$' },
            },
            'Content-Disposition': { description: '`attachment; filename="<number>.pdf"`', schema: { type: 'string' } },
          },
        },
      },
      audit: { category: 'operation', action: 'certificate.download' },
    },
    async (ctx, { params, query }) => {
      const cert = await readable(ctx, params.number, query.reason);
      // A certificate imported from a file has no document (docs/import.md).
      if (!cert.pdfSha256) throw notFound(`${cert.number} was imported without a document`);
      ctx.type = 'application/pdf';
      ctx.attachment(`${cert.number}.pdf`);
      ctx.set('x-content-sha256', cert.pdfSha256);
      return deps.blobs.get(cert.pdfSha256);
    },
  );

  api.route(
    {
      method: 'get',
      path: '/certificates/:number/record',
      operationId: 'getCertificateRecord',
      responses: {
        200: { description: "The signed record, its signature and the signer's chain", schema: CertificateRecord },
      },
      scopes: ['certificates:read'],
      summary:
        'The signed certificate record: canonical JSON, detached CMS signature (base64 DER) and the signer chain',
      tag: 'certificates',
      params: numberParam,
      query: readQuery,
      audit: { category: 'operation', action: 'certificate.record' },
    },
    async (ctx, { params, query }) => {
      const cert = await readable(ctx, params.number, query.reason);
      if (cert.origin === 'imported')
        throw notFound(`${cert.number} was imported as it was: certflow holds no signed record of it (docs/import.md)`);
      return certificateRecord(deps, params.number);
    },
  );

  api.route(
    {
      method: 'get',
      path: '/certificates/:number/credential',
      operationId: 'getCertificateCredential',
      scopes: ['certificates:read'],
      summary:
        'The certificate as a W3C Verifiable Credential 2.0: did:web issuer, ecdsa-rdfc-2019 proof, Bitstring Status List entries',
      description: 'The credential subject and what a verifier needs: docs/trust.md, "Verifiable credentials".',
      tag: 'certificates',
      params: numberParam,
      query: readQuery,
      responses: { 200: { description: 'The signed credential', schema: VerifiableCredential } },
      audit: { category: 'operation', action: 'certificate.credential' },
    },
    async (ctx, { params, query }) => {
      await readable(ctx, params.number, query.reason);
      return certificateCredential(deps, params.number);
    },
  );

  api.route(
    {
      method: 'get',
      path: '/catalog/failed',
      operationId: 'listCatalogFailures',
      responses: { 200: { description: 'Certificates waiting for catalog registration', schema: CatalogFailures } },
      summary: 'Certificates stored but not yet registered in the catalog (for re-registration)',
      tag: 'catalog',
      auth: 'staff',
      query: z.object({
        department: departmentCode.optional(),
        cursor: z.coerce.number().int().positive().optional(),
        limit: z.coerce.number().int().min(1).max(500).default(50),
      }),
    },
    async (ctx, { query }) => {
      requirePermission(ctx, 'catalog.repair', query.department ? { department: query.department } : {});
      const scope = departmentsFor(ctx.state.actor, 'catalog.repair');
      const departments = query.department ? [query.department] : (scope ?? undefined);
      const page = await listCatalogFailed(deps.db, { departments, afterId: query.cursor, limit: query.limit });
      return {
        items: page.items.map((c) => ({
          number: c.number,
          identifier: c.identifier,
          typeCode: c.typeCode,
          typeName: c.typeName,
          department: c.department,
          holderName: c.holderName,
          issuedAt: c.issuedAt,
          attempts: c.catalogAttempts,
          lastError: c.catalogLastError,
          lastAttemptAt: c.catalogLastAttemptAt,
        })),
        nextCursor: page.nextCursor,
      };
    },
  );

  api.route(
    {
      method: 'post',
      path: '/catalog/failed/:number/reregister',
      operationId: 'reregisterCertificate',
      summary: 'Push a stored certificate to the catalog again',
      tag: 'catalog',
      auth: 'staff',
      params: numberParam,
      responses: {
        200: { description: 'Registered', schema: CatalogRegistration },
        502: 'The catalog refused or did not answer; the error is recorded on the certificate',
      },
      audit: { category: 'operation', action: 'catalog.reregister' },
    },
    async (ctx, { params }) => {
      ctx.state.auditObject = { type: 'certificate', id: params.number };
      const cert = await getCertificate(deps.db, params.number);
      if (!cert) throw notFound(`No certificate ${params.number}`);
      ctx.state.auditDepartment = cert.department;
      requirePermission(ctx, 'catalog.repair', { department: cert.department });
      try {
        const outcome = await registerCertificate(deps, cert.number);
        ctx.state.auditDetail = { attempts: outcome.attempts, alreadyRegistered: outcome.alreadyRegistered };
        return { number: cert.number, ...outcome };
      } finally {
        // Either way the row's catalog state changed, and GET /certificates/:number shows it.
        await invalidateCertificate(deps.cache, cert.number);
      }
    },
  );

  api.route(
    {
      method: 'get',
      path: '/callbacks/signing-key',
      operationId: 'getCallbackSigningKey',
      scopes: [],
      summary: 'The HMAC-SHA256 key that signs callbacks to this business system (X-Certflow-Signature: sha256=<hex>)',
      tag: 'callbacks',
      description:
        'The `key` is base64: decode it to bytes and compute HMAC-SHA256 over the exact body bytes with those ' +
        'bytes (not with the base64 text). API clients get their own key; staff (the department admin) name the ' +
        'department for callbacks of staff-entered applications.',
      query: z.object({ department: departmentCode.optional() }),
      responses: { 200: { description: 'The key', schema: SigningKey } },
      audit: { category: 'configuration', action: 'callback-key.read' },
    },
    async (ctx, { query }) => {
      const actor = ctx.state.actor;
      if (actor.kind === 'api-client') {
        ctx.state.auditDepartment = actor.department;
        return {
          owner: `api-client:${actor.id}`,
          algorithm: 'HMAC-SHA256',
          key: callbackSigningKey(deps.masterKey, { kind: 'api-client', id: actor.id }).toString('base64'),
        };
      }
      // Staff-entered applications' callbacks use the department's key; its admin may hand it out.
      if (!query.department)
        throw new HttpProblem(400, 'Bad Request', 'Staff must name the department: ?department=<code>');
      ctx.state.auditDepartment = query.department;
      const decision = authorize(actor, 'api-client.manage', { department: query.department });
      if (!decision.allowed) deny(ctx, 'api-client.manage', decision.reason, query.department);
      return {
        owner: `department:${query.department}`,
        algorithm: 'HMAC-SHA256',
        key: callbackSigningKey(deps.masterKey, { kind: 'department', code: query.department }).toString('base64'),
      };
    },
  );
}
