import type { Db } from '../db/knex';
import { listCurrentTypeVersions } from '../db/certificate-types';
import { definitionProblems, type DefinitionProblem } from '../domain/face-fields';
import type { Logger } from '../platform/logger';

/** A stored type version that today's rules refuse (docs/security.md, "Types saved before a rule"). */
export interface StaleTypeDefinition {
  code: string;
  department: string;
  version: number;
  published: boolean;
  problems: DefinitionProblem[];
}

/**
 * Types whose latest or published version was saved before a rule existed (a face-field
 * pattern refused as ReDoS-unsafe, a pattern field longer than the cap). Submissions against
 * them answer 422 naming the field until a department admin saves the type again.
 */
export async function staleTypeDefinitions(db: Db, departments?: string[] | null): Promise<StaleTypeDefinition[]> {
  const out: StaleTypeDefinition[] = [];
  for (const v of await listCurrentTypeVersions(db)) {
    if (departments && !departments.includes(v.department)) continue;
    const problems = definitionProblems(v.faceFields);
    if (problems.length)
      out.push({ code: v.code, department: v.department, version: v.version, published: v.published, problems });
  }
  return out;
}

/** At start and after `certflow migrate`: one warning per stale type, so operators see them. */
export async function warnAboutStaleTypeDefinitions(db: Db, logger: Logger): Promise<StaleTypeDefinition[]> {
  const stale = await staleTypeDefinitions(db);
  for (const s of stale) {
    logger.warn(
      { typeCode: s.code, department: s.department, version: s.version, published: s.published, problems: s.problems },
      `certificate type ${s.code} version ${s.version} has a face-field definition that is no longer accepted ` +
        `(${s.problems.map((p) => p.path).join(', ')}); submissions answer 422 until a department admin saves it again`,
    );
  }
  return stale;
}
