import { z } from 'zod';
import type { Context } from 'koa';
import type { AppDeps } from '../app';
import type { ApiRouter } from '../routing';
import { conflict, HttpProblem, notFound, unprocessable } from '../problem';
import { requirePermission } from '../auth';
import { readRawBody } from '../raw-body';
import { departmentCode } from './departments';
import {
  certificateTypeDefinitionSchema,
  checkTemplateTags,
  sampleFaceData,
  typeCodeSchema,
  type CertificateTypeVersion,
} from '../../domain/certificate-type';
import { definitionProblems, validateFaceData } from '../../domain/face-fields';
import {
  addTypeVersion,
  createType,
  getType,
  getTypeVersion,
  listTypes,
  setTypeStatus,
  type CertificateTypeSummary,
} from '../../db/certificate-types';
import { getDepartment } from '../../db/org';
import { TemplateError } from '../../services/documents/render';
import {
  issueInstant,
  renderCertificate,
  SAMPLE_HOLDER,
  SAMPLE_MARK,
  sampleCertificateNumber,
  verifyUrl,
} from '../../services/documents/certificate';
import { resolveSeal } from '../../services/trust/seals';
import { BoundedConverter } from '../../services/documents/convert';
import { sharedTemplatePool } from '../../services/documents/template-pool';
import { trialRender } from '../../services/documents/trial';
import { CertificateType, CertificateTypeList } from '../schemas/configuration';

const DOCX_TYPE = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
const MAX_TEMPLATE_BYTES = 10 * 1024 * 1024;

/** A type's detail: the summary, the version asked for, and whether its template fits it. */
function detail(
  summary: CertificateTypeSummary,
  v: CertificateTypeVersion,
  templateProblems: { tag: string; message: string }[] | null,
) {
  return {
    ...summary,
    version: v.version,
    definition: {
      name: v.name,
      holderKind: v.holderKind,
      validity: v.validity,
      faceFields: v.faceFields,
      approvalChain: v.approvalChain,
      sealId: v.sealId,
      description: v.description,
      // How a certificate made elsewhere is taken in one at a time (docs/import.md).
      importMode: v.importMode ?? 'register',
    },
    faceFields: v.faceFields.map((f) => ({ key: f.key, label: f.label, type: f.type, required: f.required })),
    template: v.templateSha256 ? { sha256: v.templateSha256, problems: templateProblems ?? [] } : null,
    // Rules this stored version predates (a refused pattern): save the type again (docs/security.md).
    definitionProblems: definitionProblems(v.faceFields),
  };
}

/**
 * Certificate types (证照类型): face fields, validity, approval chain, seal and template,
 * configured by the department's admin. Every change is a new version.
 */
export function certificateTypeRoutes(api: ApiRouter, deps: AppDeps) {
  // Every parse and render of a DOCX runs in a small pool of worker threads with a time limit,
  // never on the event loop (services/documents/template-pool.ts, docs/security.md).
  const templates = deps.templates ?? sharedTemplatePool(deps.config.templates);
  // Previews (and trial renders) share a small bounded converter with a per-user limit (docs/security.md).
  const previews = new BoundedConverter(
    deps.converter,
    { concurrency: deps.config.preview.concurrency, perOwner: deps.config.preview.perUser },
    { safetyCheck: (docx) => templates.check(docx) },
  );
  const ownerOf = (ctx: Context) => `${ctx.state.actor?.kind}:${actorName(ctx)}`;
  const boundedFor = (ctx: Context) => ({
    convert: (docx: Buffer) => previews.convert(docx, ownerOf(ctx)),
    close: async () => {},
  });
  async function load(code: string, version?: number) {
    const summary = await getType(deps.db, code);
    if (!summary) throw notFound(`No certificate type ${code}`);
    const v = await getTypeVersion(deps.db, code, version ?? summary.latestVersion);
    if (!v) throw notFound(`Certificate type ${code} has no version ${version}`);
    return { summary, v };
  }

  async function templateProblems(v: CertificateTypeVersion) {
    if (!v.templateSha256) return null;
    return checkTemplateTags(v.faceFields, await templates.tags(await deps.blobs.get(v.templateSha256)));
  }

  function manage(ctx: Context, summary: { code: string; department: string }) {
    ctx.state.auditObject = { type: 'certificate-type', id: summary.code };
    ctx.state.auditDepartment = summary.department;
    requirePermission(ctx, 'certificate-type.manage', { department: summary.department });
  }

  api.route(
    {
      method: 'get',
      path: '/certificate-types',
      operationId: 'listCertificateTypes',
      responses: { 200: { description: 'Certificate types', schema: CertificateTypeList } },
      scopes: ['applications:write'],
      summary: 'Certificate types, filtered by department and status',
      tag: 'certificate types',
      query: z.object({
        department: departmentCode.optional(),
        status: z.enum(['draft', 'published', 'retired']).optional(),
      }),
    },
    async (_ctx, { query }) => ({
      items: await listTypes(deps.db, {
        departments: query.department ? [query.department] : undefined,
        status: query.status,
      }),
    }),
  );

  api.route(
    {
      method: 'get',
      path: '/certificate-types/:code',
      operationId: 'getCertificateType',
      responses: { 200: { description: 'The type at the version asked for', schema: CertificateType } },
      scopes: ['applications:write'],
      summary: 'A type with its face fields (latest version, or ?version=N)',
      tag: 'certificate types',
      params: z.object({ code: typeCodeSchema }),
      query: z.object({ version: z.coerce.number().int().positive().optional() }),
    },
    async (_ctx, { params, query }) => {
      const { summary, v } = await load(params.code, query.version);
      return detail(summary, v, await templateProblems(v));
    },
  );

  api.route(
    {
      method: 'post',
      path: '/certificate-types',
      operationId: 'createCertificateType',
      summary: 'Create a certificate type (version 1, draft)',
      tag: 'certificate types',
      auth: 'staff',
      body: z.object({ code: typeCodeSchema, department: departmentCode }).and(certificateTypeDefinitionSchema),
      responses: { 201: { description: 'Created', schema: CertificateType } },
      audit: { category: 'configuration', action: 'certificate-type.create' },
    },
    async (ctx, { body }) => {
      const { code, department, ...definition } = body;
      manage(ctx, { code, department });
      const dept = await getDepartment(deps.db, department);
      if (!dept)
        throw unprocessable('Unknown department', [{ field: 'department', message: `no department ${department}` }]);
      if (await getType(deps.db, code)) throw conflict(`Certificate type ${code} already exists`);
      if (definition.sealId) await checkSeal(department, definition.sealId);
      await createType(deps.db, {
        code,
        departmentId: dept.id,
        definition,
        templateSha256: null,
        createdBy: actorName(ctx),
      });
      ctx.status = 201;
      const { summary, v } = await load(code);
      return detail(summary, v, null);
    },
  );

  api.route(
    {
      method: 'put',
      path: '/certificate-types/:code',
      operationId: 'updateCertificateType',
      summary: 'Save a new version of the definition (the template carries over)',
      tag: 'certificate types',
      auth: 'staff',
      params: z.object({ code: typeCodeSchema }),
      body: z.object({ expectedVersion: z.int().positive().optional() }).and(certificateTypeDefinitionSchema),
      responses: {
        200: { description: 'Saved as a new version', schema: CertificateType },
        409: 'Someone saved another version first',
      },
      audit: { category: 'configuration', action: 'certificate-type.update' },
    },
    async (ctx, { params, body }) => {
      const { expectedVersion, ...definition } = body;
      const { summary, v: latest } = await load(params.code);
      manage(ctx, summary);
      if (summary.status === 'retired') throw conflict(`Certificate type ${params.code} is retired`);
      if (definition.sealId) await checkSeal(summary.department, definition.sealId);
      const saved = await addTypeVersion(deps.db, params.code, {
        expectedVersion: expectedVersion ?? latest.version,
        definition,
        templateSha256: latest.templateSha256,
        createdBy: actorName(ctx),
      });
      if (saved === false)
        throw conflict(
          `Certificate type ${params.code} has changed since version ${expectedVersion}; reload and edit again`,
        );
      ctx.state.auditDetail = { version: saved };
      const { summary: s, v } = await load(params.code, saved);
      return detail(s, v, await templateProblems(v));
    },
  );

  api.route(
    {
      method: 'post',
      path: '/certificate-types/:code/template',
      operationId: 'uploadTemplate',
      summary: 'Upload the DOCX template (request body); its tags are checked against the face fields',
      tag: 'certificate types',
      auth: 'staff',
      params: z.object({ code: typeCodeSchema }),
      responses: {
        200: { description: 'Saved as a new version', schema: CertificateType },
        415: 'Not a DOCX',
        422: 'Tags do not fit the face fields',
      },
      audit: { category: 'configuration', action: 'certificate-type.template' },
    },
    async (ctx, { params }) => {
      const { summary, v: latest } = await load(params.code);
      manage(ctx, summary);
      if (!ctx.is(DOCX_TYPE, 'application/octet-stream')) {
        throw new HttpProblem(
          415,
          'Unsupported Media Type',
          `Send the DOCX as the request body with Content-Type ${DOCX_TYPE}`,
        );
      }
      const docx = await readRawBody(ctx, MAX_TEMPLATE_BYTES);
      // ZIP limits and external links before docxtemplater inflates and parses anything; a TemplateError
      // answers 413 (a limit) or 422 naming the part or tag (api/problem.ts).
      const found = await templates.inspect(docx);
      const problems = checkTemplateTags(latest.faceFields, found);
      if (problems.length) {
        throw unprocessable(
          'The template does not fit the face fields of this type',
          problems.map((p) => ({ field: p.tag, message: p.message })),
        );
      }
      await trialRender(docx, latest, boundedFor(ctx), templates);
      const sha = await deps.blobs.put(docx);
      const saved = await addTypeVersion(deps.db, params.code, {
        expectedVersion: latest.version,
        definition: stripVersion(latest),
        templateSha256: sha,
        createdBy: actorName(ctx),
      });
      if (saved === false) throw conflict(`Certificate type ${params.code} changed during the upload; try again`);
      ctx.state.auditDetail = { version: saved, sha256: sha, tags: found };
      const { summary: s, v } = await load(params.code, saved);
      return detail(s, v, []);
    },
  );

  api.route(
    {
      method: 'get',
      path: '/certificate-types/:code/template',
      operationId: 'downloadTemplate',
      summary: 'Download the DOCX template of the latest (or ?version=N) version',
      tag: 'certificate types',
      params: z.object({ code: typeCodeSchema }),
      query: z.object({ version: z.coerce.number().int().positive().optional() }),
      responses: { 200: { description: 'The DOCX', files: [DOCX_TYPE] } },
    },
    async (ctx, { params, query }) => {
      const { summary, v } = await load(params.code, query.version);
      // The template is the department's working document, not public: its own staff and systems only.
      requirePermission(ctx, 'certificate-type.read', { department: summary.department });
      if (!v.templateSha256) throw notFound(`Version ${v.version} of ${params.code} has no template yet`);
      ctx.type = DOCX_TYPE;
      ctx.attachment(`${params.code}-v${v.version}.docx`);
      return deps.blobs.get(v.templateSha256);
    },
  );

  api.route(
    {
      method: 'post',
      path: '/certificate-types/:code/preview',
      operationId: 'previewCertificate',
      summary: 'Render the template as sealing would, with sample (or given) face data and holder, as DOCX or PDF',
      tag: 'certificate types',
      auth: 'staff',
      params: z.object({ code: typeCodeSchema }),
      query: z.object({
        format: z.enum(['pdf', 'docx']).default('pdf'),
        version: z.coerce.number().int().positive().optional(),
      }),
      body: z.object({
        faceData: z.record(z.string(), z.unknown()).optional(),
        holder: z.object({ name: z.string().trim().min(1).max(200), id: z.string().trim().min(1).max(64) }).optional(),
        /** The issue instant to preview with (its China day prints as the issue date); default: now. */
        issuedAt: z.iso.datetime({ offset: true }).optional(),
      }),
      responses: {
        200: { description: 'The rendered preview (`format`: PDF or DOCX)', files: ['application/pdf', DOCX_TYPE] },
      },
    },
    async (ctx, { params, query, body }) => {
      const { summary, v } = await load(params.code, query.version);
      requirePermission(ctx, 'certificate-type.read', { department: summary.department });
      if (!v.templateSha256) throw unprocessable(`Version ${v.version} of ${params.code} has no template yet`);
      const dept = (await getDepartment(deps.db, summary.department))!;
      const seal = await resolveSeal(deps.db, summary.department, v.sealId).catch(() => undefined);
      if (!seal) throw unprocessable(`Department ${summary.department} has no active seal to preview with`);
      // Normalised as an application's face data is when submitted, so the preview prints what sealing would.
      // The task and sealing pages preview masked ID numbers (docs/security.md): such a value is
      // checked as the sample's and printed as given, so the preview never needs the full number.
      const sample = sampleFaceData(v.faceFields) as Record<string, unknown>;
      const given = body.faceData ?? {};
      const masks = Object.fromEntries(
        v.faceFields
          .filter(
            (f) => f.type === 'idNumber' && typeof given[f.key] === 'string' && (given[f.key] as string).includes('*'),
          )
          .map((f) => [f.key, given[f.key]]),
      );
      const asSample = Object.fromEntries(Object.keys(masks).map((k) => [k, sample[k]]));
      const face = validateFaceData(v.faceFields, { ...sample, ...given, ...asSample });
      if (!face.ok) {
        const errors = face.errors.map((e) => ({
          field: e.field ? `faceData.${e.field}` : 'faceData',
          message: e.message,
        }));
        throw unprocessable('The face data has invalid fields', errors);
      }
      const issuedAt = issueInstant(body.issuedAt ? Date.parse(body.issuedAt) : Date.now());
      // Number and identifier do not exist before sealing: clearly marked samples stand in for them.
      const number = sampleCertificateNumber(params.code, dept.regionCode, issuedAt);
      let docx: Buffer;
      try {
        docx = await renderCertificate(
          {
            type: v,
            faceData: { ...face.data, ...masks },
            holder: body.holder ? { name: body.holder.name, id: body.holder.id.toUpperCase() } : SAMPLE_HOLDER,
            number,
            identifier: SAMPLE_MARK,
            issuerName: dept.name,
            issuedAt,
            template: await deps.blobs.get(v.templateSha256),
            sealImage: await deps.blobs.get(seal.imageSha256),
            qrTarget: verifyUrl(deps.config.http.publicUrl, number),
          },
          templates.render,
        );
      } catch (err) {
        if (err instanceof TemplateError)
          throw unprocessable(
            err.message,
            err.problems.map((p) => ({ field: p.tag ?? '(template)', message: p.message })),
          );
        throw err;
      }
      if (query.format === 'docx') {
        ctx.type = DOCX_TYPE;
        return docx;
      }
      // ConversionError: busy → 429, unsafe → 422, the rest → 503 (api/problem.ts).
      const pdf = await previews.convert(docx, ownerOf(ctx));
      ctx.type = 'application/pdf';
      return pdf;
    },
  );

  for (const [action, status] of [
    ['publish', 'published'],
    ['retire', 'retired'],
  ] as const) {
    api.route(
      {
        method: 'post',
        path: `/certificate-types/:code/${action}`,
        operationId: action === 'publish' ? 'publishCertificateType' : 'retireCertificateType',
        summary:
          action === 'publish'
            ? 'Publish the latest version: new applications use it'
            : 'Retire the type: no new applications',
        tag: 'certificate types',
        auth: 'staff',
        params: z.object({ code: typeCodeSchema }),
        responses: { 200: { description: 'The type with its new status', schema: CertificateType } },
        audit: { category: 'configuration', action: `certificate-type.${action}` },
      },
      async (ctx, { params }) => {
        const { summary, v } = await load(params.code);
        manage(ctx, summary);
        if (action === 'publish') {
          if (summary.status === 'retired') throw conflict(`Certificate type ${params.code} is retired`);
          const problems = await templateProblems(v);
          if (problems === null)
            throw unprocessable(`Upload a template before publishing ${params.code}`, [
              { field: 'template', message: 'missing' },
            ]);
          if (problems.length)
            throw unprocessable(
              'The template does not fit the face fields',
              problems.map((p) => ({ field: p.tag, message: p.message })),
            );
          // Templates uploaded before the trial render existed get it here (services/documents/trial.ts).
          await trialRender(await deps.blobs.get(v.templateSha256!), v, boundedFor(ctx), templates);
          await resolveSeal(deps.db, summary.department, v.sealId).catch((err: Error) => {
            throw unprocessable(`Cannot publish: ${err.message}`, [{ field: 'sealId', message: err.message }]);
          });
          await setTypeStatus(deps.db, params.code, status, v.version);
        } else {
          await setTypeStatus(deps.db, params.code, status);
        }
        ctx.state.auditDetail = { version: v.version };
        const { summary: s, v: latest } = await load(params.code);
        return detail(s, latest, await templateProblems(latest));
      },
    );
  }

  async function checkSeal(department: string, sealId: number) {
    await resolveSeal(deps.db, department, sealId).catch((err: Error) => {
      throw unprocessable('Unusable seal', [{ field: 'sealId', message: err.message }]);
    });
  }
}

function stripVersion(v: CertificateTypeVersion) {
  const { code: _c, department: _d, version: _v, templateSha256: _t, ...definition } = v;
  return definition;
}

function actorName(ctx: Context): string {
  const a = ctx.state.actor;
  return a.kind === 'user' ? a.username : a.kind === 'api-client' ? a.id : a.kind;
}
