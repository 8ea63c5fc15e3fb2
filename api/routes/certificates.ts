import { z } from 'zod';
import type { Context } from 'koa';
import type { AppDeps } from '../app';
import type { ApiRouter } from '../routing';
import { HttpProblem, notFound, unprocessable } from '../problem';
import { deny, requirePermission } from '../auth';
import { departmentCode } from './departments';
import { authorize, departmentsFor } from '../../domain/access';
import { parseCertificateNumber } from '../../domain/certificate-number';
import { CERTIFICATE_STATUS_CODES } from '../../domain/certificate-record';
import { maskHolderId } from '../../domain/holder';
import { getCertificate, listCatalogFailed } from '../../db/certificates';
import { getCertificateCached, invalidateCertificate, type CachedCertificate } from '../../db/certificate-cache';
import { getTypeVersion } from '../../db/certificate-types';
import { getSeal } from '../../db/trust';
import { createHolderCrypto } from '../../platform/holder-crypto';
import { createFaceCrypto } from '../../platform/face-crypto';
import { callbackSigningKey, registerCertificate } from '../../services/outbound';
import { catalogRoutes } from './catalog';

/** A certificate number in the path: validated (check character included) and upper-cased. */
/** The reason for use (用证事由): required from business systems, optional for staff. */
const readQuery = z.object({ reason: z.string().trim().min(1).max(200).optional() });

export const numberParam = z.object({
  number: z.string().transform((value, ctx) => {
    const parsed = parseCertificateNumber(value);
    if (parsed.ok) return parsed.value.number;
    ctx.addIssue({ code: 'custom', message: `not a certificate number: ${parsed.reason}` });
    return z.NEVER;
  }),
});

/**
 * Issued certificates for authorised readers (staff with certificate.read in the issuing
 * department, business systems of that department with certificates:read), and the catalog
 * repair list for sealing officers. Every read is audited: a certificate is personal data.
 *
 * Holder IDs: masked by default. A reader who may read the certificate in its issuing
 * department gets the full ID by asking for it (`?reveal=holderId`), and the audit entry says
 * it was revealed — data minimisation by default, full access where the job needs it, and a
 * trace of every disclosure. (Readers from other departments, once access requests exist,
 * will get the masked form only.)
 */
export function certificateRoutes(api: ApiRouter, deps: AppDeps) {
  const holders = createHolderCrypto(deps.masterKey);
  const faces = createFaceCrypto(deps.masterKey);
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
      throw unprocessable('Business systems must give the reason for use', [{ field: 'reason', message: 'required for business systems (用证事由, at most 200 characters)' }]);
    }
    if (reason) ctx.state.auditDetail = { ...ctx.state.auditDetail, reason };
    const cert = await getCertificateCached(deps.db, deps.cache, number);
    if (!cert) throw notFound(`No certificate ${number}`);
    ctx.state.auditDepartment = cert.department;
    requirePermission(ctx, 'certificate.read', { department: cert.department });
    return cert;
  }

  async function view(cert: CachedCertificate, reveal: boolean) {
    const type = await getTypeVersion(deps.db, cert.typeCode, cert.typeVersion);
    const holderId = holders.decrypt(cert.holderIdEncrypted);
    const base = `${deps.config.http.publicUrl}/api/v1/certificates/${cert.number}`;
    return {
      number: cert.number,
      identifier: cert.identifier,
      type: { code: cert.typeCode, version: cert.typeVersion, name: cert.typeName },
      issuer: { department: cert.department, name: cert.issuerName, code: cert.issuerCode, region: cert.regionCode },
      holder: {
        kind: cert.holderKind,
        codeType: cert.holderCodeType,
        name: cert.holderName,
        id: reveal ? holderId : maskHolderId(holderId),
        idMasked: !reveal,
      },
      // Stored encrypted (platform/face-crypto.ts): decrypted only for an audited reveal.
      faceData: (reveal ? faces.open : faces.masked)(type?.faceFields ?? [], cert.faceData),
      issuedAt: cert.issuedAt,
      validFrom: cert.validFrom,
      validUntil: cert.validUntil,
      status: cert.status,
      statusCode: CERTIFICATE_STATUS_CODES[cert.status],
      statusChangedAt: cert.statusChangedAt,
      statusReason: cert.statusReason,
      seal: { id: cert.sealId, name: cert.sealName, signerSerial: cert.signerSerial, sealedBy: cert.sealedBy, sealedAt: cert.sealedAt },
      documents: { pdf: `${base}/pdf`, pdfSha256: cert.pdfSha256, record: `${base}/record`, recordSha256: cert.recordSha256 },
      catalog: { registeredAt: cert.catalogRegisteredAt, attempts: cert.catalogAttempts, lastError: cert.catalogLastError },
    };
  }

  api.route(
    {
      method: 'get',
      path: '/certificates/:number',
      summary: 'An issued certificate: catalog data, status and links (holder ID masked unless ?reveal=holderId)',
      tag: 'certificates',
      params: numberParam,
      query: readQuery.extend({ reveal: z.enum(['holderId']).optional() }),
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
      summary: 'The signed PDF',
      tag: 'certificates',
      params: numberParam,
      query: readQuery,
      responses: { 200: 'application/pdf' },
      audit: { category: 'operation', action: 'certificate.download' },
    },
    async (ctx, { params, query }) => {
      const cert = await readable(ctx, params.number, query.reason);
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
      summary: 'The signed certificate record: canonical JSON, detached CMS signature (base64 DER) and the signer chain',
      tag: 'certificates',
      params: numberParam,
      query: readQuery,
      audit: { category: 'operation', action: 'certificate.record' },
    },
    async (ctx, { params, query }) => {
      await readable(ctx, params.number, query.reason);
      const cert = (await getCertificate(deps.db, params.number))!;
      const seal = await getSeal(deps.db, cert.sealId);
      return {
        record: JSON.parse(cert.record) as unknown,
        // The exact signed bytes: verify against these, not a re-serialisation of `record`.
        canonical: cert.record,
        recordSha256: cert.recordSha256,
        signature: cert.recordSignature,
        signatureFormat: 'CMS SignedData, detached, DER, base64',
        signerCertificate: seal?.certificatePem ?? null,
        chain: seal?.chainPem ?? [],
      };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/catalog/failed',
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
      summary: 'Push a stored certificate to the catalog again',
      tag: 'catalog',
      auth: 'staff',
      params: numberParam,
      responses: { 200: 'Registered', 502: 'The catalog refused or did not answer; the error is recorded on the certificate' },
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
      summary: 'The HMAC-SHA256 key that signs callbacks to this business system (X-Certflow-Signature: sha256=<hex>)',
      tag: 'callbacks',
      query: z.object({ department: departmentCode.optional() }),
      audit: { category: 'configuration', action: 'callback-key.read' },
    },
    async (ctx, { query }) => {
      const actor = ctx.state.actor;
      if (actor.kind === 'api-client') {
        ctx.state.auditDepartment = actor.department;
        return { owner: `api-client:${actor.id}`, algorithm: 'HMAC-SHA256', key: callbackSigningKey(deps.masterKey, { kind: 'api-client', id: actor.id }).toString('base64') };
      }
      // Staff-entered applications' callbacks use the department's key; its admin may hand it out.
      if (!query.department) throw new HttpProblem(400, 'Bad Request', 'Staff must name the department: ?department=<code>');
      ctx.state.auditDepartment = query.department;
      const decision = authorize(actor, 'api-client.manage', { department: query.department });
      if (!decision.allowed) deny(ctx, 'api-client.manage', decision.reason, query.department);
      return { owner: `department:${query.department}`, algorithm: 'HMAC-SHA256', key: callbackSigningKey(deps.masterKey, { kind: 'department', code: query.department }).toString('base64') };
    },
  );
}
