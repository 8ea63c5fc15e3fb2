import { z } from 'zod';
import type { Context } from 'koa';
import type { AppDeps } from '../app';
import type { ApiRouter } from '../routing';
import { HttpProblem, unprocessable } from '../problem';
import { HOLDER_COOKIE, deny } from '../auth';
import { recordAudit } from '../audit';
import { numberParam } from './certificates';
import { departmentCode } from './departments';
import { mayRedeemShowCode, describeActor, type Actor } from '../../domain/access';
import { myCertificate, myCertificates, usageLog } from '../../services/holder/portal';
import { certificateRecord, certificateView } from '../../services/certificate-view';
import { VerifiableCredential } from './credentials';
import { certificateCredential } from '../../services/credentials/issue';
import { createGrant, listGrants, revokeGrant } from '../../services/holder/grants';
import { createShowCode, redeemFailureMessage, redeemShowCode } from '../../services/holder/show-codes';
import { signOut } from '../../services/holder/sign-in';
import type { HolderGrant } from '../../db/holders';
import { listDepartments } from '../../db/org';
import {
  GrantableDepartments,
  Grant,
  GrantList,
  HolderMe,
  MyCertificateList,
  RedeemedShowCode,
  ShowCode,
  UsagePage,
} from '../schemas/holder';
import { Certificate } from '../schemas/responses';
import { CertificateRecord } from '../schemas/work';

/**
 * The holder portal's API (docs/holders.md), for a holder signed in through OpenID Connect
 * (api/routes/holder-auth.ts): my certificates, who used them, consent grants, show-codes.
 * A holder sees only certificates whose holder ID is theirs; anything else is a 404.
 * The holder's own reads are audited like anyone's, under the holder actor, and are not shown
 * back to them as "usage by others".
 */

type HolderActor = Extract<Actor, { kind: 'holder' }>;
const holderOf = (ctx: Context) => ctx.state.actor as HolderActor;

export const matter = z.string({ error: 'matter must be a string' }).trim().min(1, 'matter is required').max(200);
export const reason = z.string({ error: 'reason must be a string' }).trim().min(1, 'reason is required').max(200);

/** A date (the grant lasts through that day, China time) or an exact ISO time. */
export const until = z.string().transform((value, ctx) => {
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T23:59:59.999+08:00` : value;
  const t = Date.parse(iso);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(t)) {
    ctx.addIssue({ code: 'custom', message: 'must be a date (YYYY-MM-DD) or an ISO time' });
    return z.NEVER;
  }
  return new Date(t);
});

function grantView(g: HolderGrant) {
  const live = g.status === 'active' && Date.parse(g.validUntil) > Date.now();
  return {
    id: g.id,
    certificateNumber: g.certificateNumber,
    department: g.department,
    apiClientId: g.apiClientId,
    matter: g.matter,
    validUntil: g.validUntil,
    status: live || g.status !== 'active' ? g.status : 'expired',
    grantedBy: g.grantedBy,
    createdAt: g.createdAt,
    endedAt: g.endedAt,
  };
}

/** The department a counter clerk acts for: a business system's, or the first where the user handles. */
function clerkDepartment(actor: Actor): string | null {
  if (actor.kind === 'api-client') return actor.department;
  if (actor.kind === 'user') return actor.roles.find((r) => r.role === 'handler')?.department ?? null;
  return null;
}

export function holderRoutes(api: ApiRouter, deps: AppDeps) {
  const documentsBase = (n: string) => `${deps.config.http.publicUrl}/api/v1/holder/certificates/${n}`;

  api.route(
    {
      method: 'get',
      path: '/holder/me',
      operationId: 'getHolderMe',
      responses: { 200: { description: 'The signed-in holder', schema: HolderMe } },
      summary: 'The signed-in holder',
      tag: 'holder',
      auth: 'holder',
    },
    (ctx) => {
      const h = holderOf(ctx);
      return { kind: h.holderKind, name: h.name, agentName: h.agentName };
    },
  );

  api.route(
    {
      method: 'post',
      path: '/holder/logout',
      operationId: 'holderLogout',
      summary: 'End the holder session',
      tag: 'holder',
      auth: 'holder',
      responses: { 204: 'Signed out' },
    },
    async (ctx) => {
      await signOut(deps, holderOf(ctx).sessionHash);
      ctx.cookies.set(HOLDER_COOKIE, null, { httpOnly: true, sameSite: 'lax', path: '/' });
      await recordAudit(ctx, { category: 'logout', action: 'holder.logout', outcome: 'success' });
      ctx.status = 204;
    },
  );

  api.route(
    {
      method: 'get',
      path: '/holder/certificates',
      operationId: 'listMyCertificates',
      responses: { 200: { description: 'My certificates', schema: MyCertificateList } },
      summary: 'My certificates, from every department: valid ones ending soonest first',
      tag: 'holder',
      auth: 'holder',
    },
    async (ctx) => ({ items: await myCertificates(deps, holderOf(ctx)) }),
  );

  api.route(
    {
      method: 'get',
      path: '/holder/certificates/:number',
      operationId: 'getMyCertificate',
      responses: { 200: { description: 'The certificate, holder ID shown', schema: Certificate } },
      summary: 'One of my certificates, unmasked',
      tag: 'holder',
      auth: 'holder',
      params: numberParam,
      audit: { category: 'operation', action: 'holder.certificate.read' },
    },
    async (ctx, { params }) => {
      ctx.state.auditObject = { type: 'certificate', id: params.number };
      const cert = await myCertificate(deps, holderOf(ctx), params.number);
      return certificateView(deps, cert, { reveal: true, documentsBase: documentsBase(cert.number) });
    },
  );

  api.route(
    {
      method: 'get',
      path: '/holder/certificates/:number/credential',
      operationId: 'getMyCertificateCredential',
      summary: 'One of my certificates as a W3C Verifiable Credential, for my wallet (docs/trust.md)',
      tag: 'holder',
      auth: 'holder',
      params: numberParam,
      responses: { 200: { description: 'The signed credential', schema: VerifiableCredential } },
      audit: { category: 'operation', action: 'holder.certificate.credential' },
    },
    async (ctx, { params }) => {
      ctx.state.auditObject = { type: 'certificate', id: params.number };
      const cert = await myCertificate(deps, holderOf(ctx), params.number);
      return certificateCredential(deps, cert.number);
    },
  );

  api.route(
    {
      method: 'get',
      path: '/holder/certificates/:number/pdf',
      operationId: 'getMyCertificatePdf',
      summary: 'The signed PDF of one of my certificates',
      tag: 'holder',
      auth: 'holder',
      params: numberParam,
      responses: { 200: { description: 'The sealed PDF', files: ['application/pdf'] } },
      audit: { category: 'operation', action: 'holder.certificate.download' },
    },
    async (ctx, { params }) => {
      ctx.state.auditObject = { type: 'certificate', id: params.number };
      const cert = await myCertificate(deps, holderOf(ctx), params.number);
      ctx.type = 'application/pdf';
      ctx.attachment(`${cert.number}.pdf`);
      return deps.blobs.get(cert.pdfSha256);
    },
  );

  api.route(
    {
      method: 'get',
      path: '/holder/certificates/:number/record',
      operationId: 'getMyCertificateRecord',
      responses: { 200: { description: 'The signed record', schema: CertificateRecord } },
      summary: 'The signed record of one of my certificates',
      tag: 'holder',
      auth: 'holder',
      params: numberParam,
    },
    async (ctx, { params }) => {
      await myCertificate(deps, holderOf(ctx), params.number);
      return certificateRecord(deps, params.number);
    },
  );

  api.route(
    {
      method: 'get',
      path: '/holder/usage',
      operationId: 'listMyCertificateUsage',
      responses: { 200: { description: 'Uses by others, newest first', schema: UsagePage } },
      summary: 'Who else used my certificates: department, role or business system, when, what and why',
      tag: 'holder',
      auth: 'holder',
      query: z.object({
        cursor: z.coerce.number().int().positive().optional(),
        limit: z.coerce.number().int().min(1).max(200).default(50),
      }),
    },
    async (ctx, { query }) => usageLog(deps, holderOf(ctx), { before: query.cursor, limit: query.limit }),
  );

  api.route(
    {
      method: 'get',
      path: '/holder/departments',
      operationId: 'listGrantableDepartments',
      responses: { 200: { description: 'Departments', schema: GrantableDepartments } },
      summary: 'Departments a grant can name',
      tag: 'holder',
      auth: 'holder',
    },
    async () => ({ items: (await listDepartments(deps.db)).map((d) => ({ code: d.code, name: d.name })) }),
  );

  api.route(
    {
      method: 'get',
      path: '/holder/grants',
      operationId: 'listMyGrants',
      responses: { 200: { description: 'My grants', schema: GrantList } },
      summary: 'My consent grants (用证授权)',
      tag: 'holder',
      auth: 'holder',
    },
    async (ctx) => ({ items: (await listGrants(deps, holderOf(ctx))).map(grantView) }),
  );

  api.route(
    {
      method: 'post',
      path: '/holder/grants',
      operationId: 'createGrant',
      summary: 'Let a department (optionally one business system) use one certificate for a matter until a time',
      tag: 'holder',
      auth: 'holder',
      body: z.strictObject({
        certificateNumber: numberParam.shape.number,
        department: departmentCode,
        apiClientId: z.string().trim().min(1).max(64).optional(),
        matter,
        validUntil: until,
      }),
      responses: { 201: { description: 'Granted', schema: Grant } },
      audit: { category: 'operation', action: 'grant.create' },
    },
    async (ctx, { body }) => {
      ctx.state.auditObject = { type: 'certificate', id: body.certificateNumber };
      ctx.state.auditDepartment = body.department;
      const grant = await createGrant(deps, holderOf(ctx), {
        number: body.certificateNumber,
        department: body.department,
        apiClientId: body.apiClientId,
        matter: body.matter,
        validUntil: body.validUntil,
      });
      ctx.state.auditDetail = { grantId: grant.id, matter: grant.matter, validUntil: grant.validUntil };
      ctx.status = 201;
      return grantView(grant);
    },
  );

  api.route(
    {
      method: 'delete',
      path: '/holder/grants/:id',
      operationId: 'revokeGrant',
      responses: { 200: { description: 'The grant, now revoked', schema: Grant } },
      summary: 'Revoke a grant now',
      tag: 'holder',
      auth: 'holder',
      params: z.object({ id: z.uuid('not a grant id') }),
      audit: { category: 'operation', action: 'grant.revoke' },
    },
    async (ctx, { params }) => {
      const grant = await revokeGrant(deps, holderOf(ctx), params.id);
      ctx.state.auditObject = { type: 'certificate', id: grant.certificateNumber };
      ctx.state.auditDepartment = grant.department;
      ctx.state.auditDetail = { grantId: grant.id };
      return grantView(grant);
    },
  );

  api.route(
    {
      method: 'post',
      path: '/holder/certificates/:number/show-codes',
      operationId: 'createShowCode',
      summary: 'A show-code (亮证) for one certificate: 8 characters and a QR code, 5 minutes, single use',
      tag: 'holder',
      auth: 'holder',
      params: numberParam,
      body: z.strictObject({ matter: matter.optional() }),
      responses: { 201: { description: 'Created', schema: ShowCode } },
      audit: { category: 'operation', action: 'show-code.create' },
    },
    async (ctx, { params, body }) => {
      ctx.state.auditObject = { type: 'certificate', id: params.number };
      const shown = await createShowCode(deps, holderOf(ctx), params.number, body.matter ?? null);
      ctx.status = 201;
      return shown;
    },
  );

  // ---- the counter's side

  const maxGuesses = deps.config.auth.maxFailures * 2;
  const guessKey = (ctx: Context) => {
    const who = describeActor(ctx.state.actor);
    return `show-code-fail:${who.type}:${who.id}`;
  };

  api.route(
    {
      method: 'post',
      path: '/show-codes/redeem',
      operationId: 'redeemShowCode',
      summary: "Redeem a holder's show-code with a reason: the full certificate, once",
      tag: 'holder',
      body: z.strictObject({ code: z.string().trim().min(1, 'code is required').max(20), reason }),
      responses: {
        200: { description: 'The certificate', schema: RedeemedShowCode },
        410: 'Expired or used',
        429: 'Too many wrong codes',
      },
    },
    async (ctx, { body }) => {
      const decision = mayRedeemShowCode(ctx.state.actor);
      if (!decision.allowed) deny(ctx, 'certificate.read', decision.reason);
      // Wrong codes count per caller: 40 bits cannot be guessed at LOGIN_MAX_FAILURES×2 tries a window.
      const failures = await deps.cache.peek(guessKey(ctx)).catch(() => 0);
      const audit = (
        outcome: 'success' | 'failure' | 'denied',
        extra: Record<string, unknown>,
        number?: string,
        holderHash?: string,
      ) =>
        recordAudit(ctx, {
          category: 'operation',
          action: 'show-code.redeem',
          outcome,
          department: clerkDepartment(ctx.state.actor),
          object: number ? { type: 'certificate', id: number } : null,
          holderHash: holderHash ?? null,
          detail: { reason: body.reason, ...extra },
        });
      if (failures >= maxGuesses) {
        await audit('denied', { refused: 'too many wrong show-codes' });
        ctx.set('Retry-After', String(deps.config.auth.lockoutMinutes * 60));
        throw new HttpProblem(429, 'Too Many Requests', 'Too many wrong show-codes; try again later');
      }
      const result = await redeemShowCode(deps, ctx.state.actor, body.code);
      if (!result.ok) {
        await deps.cache.incr(guessKey(ctx), deps.config.auth.lockoutMinutes * 60).catch(() => 0);
        await audit('failure', { refused: result.reason, code: `${body.code.slice(0, 2)}******` });
        if (result.reason === 'unknown')
          throw unprocessable(redeemFailureMessage.unknown, [{ field: 'code', message: 'unknown' }]);
        throw new HttpProblem(410, 'Gone', redeemFailureMessage[result.reason]);
      }
      await audit('success', { matter: result.matter }, result.certificate.number, result.holderHash);
      return {
        certificate: result.certificate,
        record: result.record,
        pdf: result.pdf,
        matter: result.matter,
      };
    },
  );
}
