import { z } from 'zod';
import type Router from '@koa/router';
import type { AppDeps } from '../app';
import type { ApiRouter } from '../routing';
import { notFound, unprocessable } from '../problem';
import { requirePermission } from '../auth';
import { departmentCode } from './departments';
import { departmentsFor } from '../../domain/access';
import { getDepartment } from '../../db/org';
import { getDefaultSeal, getSeal, listSeals, setSealActive, type SealRow } from '../../db/trust';
import { createDevelopmentSeal, importSeal, rootCertificatePem } from '../../services/trust/seals';
import { TrustError } from '../../services/trust/pki';
import { ImportedSeal, Seal, SealList } from '../schemas/configuration';

/** What the API shows of a seal: never the key, encrypted or not. */
const view = ({ encryptedPrivateKey: _k, chainPem: _c, ...s }: SealRow) => s;

const PNG = /^iVBORw0KGgo/;
const base64Png = z
  .string()
  .regex(PNG, 'must be a base64-encoded PNG')
  .max(2_000_000, 'seal image must be under 1.5 MiB');

export function sealRoutes(api: ApiRouter, deps: AppDeps) {
  api.route(
    {
      method: 'get',
      path: '/seals',
      operationId: 'listSeals',
      responses: { 200: { description: 'Seals the caller manages', schema: SealList } },
      summary: 'Seals of the departments the caller administers',
      tag: 'seals',
      auth: 'staff',
    },
    async (ctx) => {
      const scope = departmentsFor(ctx.state.actor, 'certificate-type.manage');
      if (scope !== null && scope.length === 0) requirePermission(ctx, 'certificate-type.manage');
      return { items: (await listSeals(deps.db, scope ?? undefined)).map(view) };
    },
  );

  api.route(
    {
      method: 'post',
      path: '/seals',
      operationId: 'importSeal',
      summary:
        "Add a seal: image plus the real CA's certificate and key (PEM or PKCS#12); outside production, omit them to get a development certificate",
      tag: 'seals',
      auth: 'staff',
      body: z.object({
        department: departmentCode,
        name: z.string().trim().min(2).max(100),
        image: base64Png,
        isDefault: z.boolean().default(true),
        certificatePem: z.string().optional(),
        privateKeyPem: z.string().optional(),
        chainPem: z.string().optional(),
        pkcs12: z.string().optional().describe('base64'),
        password: z.string().optional(),
      }),
      responses: { 201: { description: 'Created', schema: ImportedSeal } },
      audit: { category: 'configuration', action: 'seal.create' },
    },
    async (ctx, { body }) => {
      ctx.state.auditDepartment = body.department;
      requirePermission(ctx, 'certificate-type.manage', { department: body.department });
      const department = await getDepartment(deps.db, body.department);
      if (!department)
        throw unprocessable('Unknown department', [
          { field: 'department', message: `no department ${body.department}` },
        ]);
      const image = Buffer.from(body.image, 'base64');
      const trust = {
        db: deps.db,
        blobs: deps.blobs,
        masterKey: deps.masterKey,
        logger: deps.logger,
        publicUrl: deps.config.http.publicUrl,
      };
      let id: number;
      let warnings: string[] = [];
      try {
        if (body.pkcs12) {
          ({ id, warnings } = await importSeal(trust, department, {
            name: body.name,
            image,
            isDefault: body.isDefault,
            pkcs12: Buffer.from(body.pkcs12, 'base64'),
            password: body.password ?? '',
          }));
        } else if (body.certificatePem || body.privateKeyPem) {
          if (!body.certificatePem || !body.privateKeyPem) {
            throw unprocessable('Give both the certificate and its private key', [
              { field: body.certificatePem ? 'privateKeyPem' : 'certificatePem', message: 'required' },
            ]);
          }
          ({ id, warnings } = await importSeal(trust, department, {
            name: body.name,
            image,
            isDefault: body.isDefault,
            certificatePem: body.certificatePem,
            privateKeyPem: body.privateKeyPem,
            chainPem: body.chainPem,
          }));
        } else {
          if (deps.config.env === 'production')
            throw unprocessable('In production a seal needs the CA-issued certificate and key', [
              { field: 'certificatePem', message: 'required' },
            ]);
          id = await createDevelopmentSeal(trust, department, { name: body.name, image, isDefault: body.isDefault });
        }
      } catch (err) {
        if (err instanceof TrustError)
          throw unprocessable(`Cannot use this seal: ${err.message}`, [
            { field: body.pkcs12 ? 'pkcs12' : 'certificatePem', message: err.message },
          ]);
        throw err;
      }
      ctx.state.auditObject = { type: 'seal', id: String(id) };
      ctx.status = 201;
      return { ...view((await getSeal(deps.db, id))!), warnings };
    },
  );

  api.route(
    {
      method: 'delete',
      path: '/seals/:id',
      operationId: 'deleteSeal',
      responses: { 200: { description: 'The seal, now inactive', schema: Seal } },
      summary: 'Deactivate a seal (certificates already sealed with it stay valid)',
      tag: 'seals',
      auth: 'staff',
      params: z.object({ id: z.coerce.number().int().positive() }),
      audit: { category: 'configuration', action: 'seal.deactivate' },
    },
    async (ctx, { params }) => {
      const seal = await getSeal(deps.db, params.id);
      if (!seal) throw notFound(`No seal ${params.id}`);
      ctx.state.auditObject = { type: 'seal', id: String(seal.id) };
      ctx.state.auditDepartment = seal.department;
      requirePermission(ctx, 'certificate-type.manage', { department: seal.department });
      await setSealActive(deps.db, seal.id, false);
      return view((await getSeal(deps.db, seal.id))!);
    },
  );
}

/** Public trust anchors for relying parties (outside /api/v1 auth): the root and each department's certificate. */
export function trustRoutes(router: Router, deps: AppDeps) {
  router.get('/api/v1/trust/root.pem', async (ctx) => {
    const pem = await rootCertificatePem(deps.db);
    if (!pem) throw notFound('No platform root is configured');
    ctx.type = 'application/x-pem-file';
    ctx.body = pem;
  });
  router.get('/api/v1/trust/departments/:file', async (ctx) => {
    const code = /^([a-z][a-z0-9-]{1,31})\.pem$/.exec(ctx.params.file ?? '')?.[1];
    const seal = code ? await getDefaultSeal(deps.db, code) : undefined;
    if (!seal) throw notFound(`No signing certificate for ${ctx.params.file}`);
    ctx.type = 'application/x-pem-file';
    ctx.body = seal.certificatePem;
  });
}
