import { z } from 'zod';
import type { AppDeps } from '../app';
import type { ApiRouter } from '../routing';
import { notFound } from '../problem';
import { requirePermission } from '../auth';
import { typeCodeSchema } from '../../domain/certificate-type';
import { SHARING_LABELS, sharingConditionSchema } from '../../domain/sharing';
import { getType, setTypeSharing } from '../../db/certificate-types';

const SharingSetting = z.object({
  code: z.string(),
  department: z.string(),
  sharing: sharingConditionSchema,
  zh: z.string(),
  en: z.string(),
});

/**
 * Sharing between departments (docs/sharing.md): the sharing condition of a certificate type,
 * set by the issuing department's admin.
 */
export function sharingRoutes(api: ApiRouter, deps: AppDeps) {
  api.route(
    {
      method: 'put',
      path: '/certificate-types/:code/sharing',
      operationId: 'setCertificateTypeSharing',
      summary:
        "Set the type's sharing condition: unconditional (无条件共享), conditional (有条件共享: the holder's grant or an approved access request) or not-shared (不予共享)",
      tag: 'sharing',
      auth: 'staff',
      params: z.object({ code: typeCodeSchema }),
      body: z.object({ sharing: sharingConditionSchema }),
      responses: { 200: { description: 'The new setting', schema: SharingSetting } },
      audit: { category: 'configuration', action: 'certificate-type.sharing' },
    },
    async (ctx, { params, body }) => {
      const type = await getType(deps.db, params.code);
      if (!type) throw notFound(`No certificate type ${params.code}`);
      ctx.state.auditObject = { type: 'certificate-type', id: type.code };
      ctx.state.auditDepartment = type.department;
      requirePermission(ctx, 'certificate-type.manage', { department: type.department });
      await setTypeSharing(deps.db, type.code, body.sharing);
      ctx.state.auditDetail = { from: type.sharing, to: body.sharing };
      return { code: type.code, department: type.department, sharing: body.sharing, ...SHARING_LABELS[body.sharing] };
    },
  );
}
