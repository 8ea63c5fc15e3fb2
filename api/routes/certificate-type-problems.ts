import { z } from 'zod';
import type { AppDeps } from '../app';
import type { ApiRouter } from '../routing';
import { requirePermission } from '../auth';
import { departmentCode } from './departments';
import { departmentsFor } from '../../domain/access';
import { staleTypeDefinitions } from '../../services/type-definitions';

const problemSchema = z.object({
  code: z.string(),
  department: z.string(),
  version: z.int(),
  published: z.boolean(),
  problems: z.array(z.object({ path: z.string(), key: z.string(), message: z.string() })),
});

/**
 * Types saved before a rule existed (a face-field pattern now refused as ReDoS-unsafe): their
 * admins see them here, the operators in the log at start and after migrate (docs/security.md).
 */
export function certificateTypeProblemRoutes(api: ApiRouter, deps: AppDeps) {
  api.route(
    {
      method: 'get',
      path: '/certificate-type-problems',
      operationId: 'listCertificateTypeProblems',
      summary: 'Types whose stored definition today’s rules refuse; submissions against them answer 422',
      tag: 'certificate types',
      auth: 'staff',
      query: z.object({ department: departmentCode.optional() }),
      responses: {
        200: {
          description: 'The types to save again, with what to change',
          schema: z.object({ items: z.array(problemSchema) }),
        },
      },
    },
    async (ctx, { query }) => {
      requirePermission(ctx, 'certificate-type.manage', query.department ? { department: query.department } : {});
      const scope = departmentsFor(ctx.state.actor, 'certificate-type.manage');
      const departments = query.department ? [query.department] : scope;
      return { items: await staleTypeDefinitions(deps.db, departments) };
    },
  );
}
