import type { Db } from './knex';
import { toIso } from './knex';
import type { CertificateTypeDefinition, CertificateTypeVersion } from '../domain/certificate-type';
import type { SharingCondition } from '../domain/sharing';

/**
 * Certificate types and their versions. A version row is written once and never
 * updated: an application keeps (type, version), so its certificate renders and
 * verifies the same way after the type has changed.
 */

export type TypeStatus = 'draft' | 'published' | 'retired';

export interface CertificateTypeSummary {
  code: string;
  name: string;
  department: string;
  status: TypeStatus;
  latestVersion: number;
  publishedVersion: number | null;
  /** Sharing between departments (docs/sharing.md): a property of the type, not of a version. */
  sharing: SharingCondition;
  updatedAt: string;
}

const summaryQuery = (db: Db) =>
  db('certificate_types as t')
    .join('departments as d', 'd.id', 't.department_id')
    .select('t.*', 'd.code as department');

function toSummary(r: Record<string, unknown>): CertificateTypeSummary {
  return {
    code: r.code as string,
    name: r.name as string,
    department: r.department as string,
    status: r.status as TypeStatus,
    latestVersion: Number(r.latest_version),
    publishedVersion: r.published_version === null ? null : Number(r.published_version),
    sharing: (r.sharing as SharingCondition | undefined) ?? 'conditional',
    updatedAt: toIso(r.updated_at),
  };
}

export async function listTypes(
  db: Db,
  filter: { departments?: string[]; status?: TypeStatus } = {},
): Promise<CertificateTypeSummary[]> {
  const q = summaryQuery(db).orderBy('t.code');
  if (filter.departments) q.whereIn('d.code', filter.departments);
  if (filter.status) q.where('t.status', filter.status);
  return (await q).map(toSummary);
}

export async function getType(db: Db, code: string): Promise<CertificateTypeSummary | undefined> {
  const r = await summaryQuery(db).where('t.code', code).first();
  return r ? toSummary(r) : undefined;
}

/** The type's row id (the sealing pipeline's type sequence until types carry a national type code). */
export async function getTypeId(db: Db, code: string): Promise<number | undefined> {
  const r = (await db('certificate_types').where({ code }).first('id')) as { id: number | string } | undefined;
  return r ? Number(r.id) : undefined;
}

export async function getTypeVersion(
  db: Db,
  code: string,
  version: number,
): Promise<CertificateTypeVersion | undefined> {
  const r = await db('certificate_type_versions as v')
    .join('certificate_types as t', 't.id', 'v.type_id')
    .join('departments as d', 'd.id', 't.department_id')
    .where({ 't.code': code, 'v.version': version })
    .select('v.*', 't.code', 'd.code as department')
    .first();
  if (!r) return undefined;
  return {
    ...(JSON.parse(r.definition) as CertificateTypeDefinition),
    code: r.code,
    department: r.department,
    version: Number(r.version),
    templateSha256: r.template_sha256 ?? null,
  };
}

export async function createType(
  db: Db,
  t: {
    code: string;
    departmentId: number;
    definition: CertificateTypeDefinition;
    templateSha256: string | null;
    createdBy: string;
  },
): Promise<void> {
  await db.transaction(async (trx) => {
    const now = new Date();
    const [typeId] = await trx('certificate_types').insert({
      code: t.code,
      department_id: t.departmentId,
      name: t.definition.name,
      status: 'draft',
      latest_version: 1,
      published_version: null,
      created_at: now,
      updated_at: now,
    });
    await trx('certificate_type_versions').insert({
      type_id: Number(typeId),
      version: 1,
      definition: JSON.stringify(t.definition),
      template_sha256: t.templateSha256,
      created_by: t.createdBy,
      created_at: now,
    });
  });
}

/**
 * Writes the next version. `expectedVersion` is what the editor started from: if someone
 * saved in between, nothing is written and the caller gets false (HTTP 409).
 */
export async function addTypeVersion(
  db: Db,
  code: string,
  v: {
    expectedVersion: number;
    definition: CertificateTypeDefinition;
    templateSha256: string | null;
    createdBy: string;
  },
): Promise<number | false> {
  return db.transaction(async (trx) => {
    const type = await trx('certificate_types').where({ code }).first();
    const next = v.expectedVersion + 1;
    const bumped = await trx('certificate_types')
      .where({ id: type.id, latest_version: v.expectedVersion })
      .update({ latest_version: next, name: v.definition.name, updated_at: new Date() });
    if (bumped !== 1) return false;
    await trx('certificate_type_versions').insert({
      type_id: type.id,
      version: next,
      definition: JSON.stringify(v.definition),
      template_sha256: v.templateSha256,
      created_by: v.createdBy,
      created_at: new Date(),
    });
    return next;
  });
}

export async function setTypeStatus(
  db: Db,
  code: string,
  status: TypeStatus,
  publishedVersion?: number,
): Promise<void> {
  await db('certificate_types')
    .where({ code })
    .update({
      status,
      ...(publishedVersion !== undefined ? { published_version: publishedVersion } : {}),
      updated_at: new Date(),
    });
}

/** The latest and the published version of every type (the ones a submission or a save can meet). */
export async function listCurrentTypeVersions(db: Db): Promise<(CertificateTypeVersion & { published: boolean })[]> {
  const rows = await db('certificate_type_versions as v')
    .join('certificate_types as t', 't.id', 'v.type_id')
    .join('departments as d', 'd.id', 't.department_id')
    .where((q) => q.whereRaw('v.version = t.latest_version').orWhereRaw('v.version = t.published_version'))
    .select('v.*', 't.code', 't.published_version', 'd.code as department')
    .orderBy([{ column: 't.code' }, { column: 'v.version' }]);
  return rows.map((r) => ({
    ...(JSON.parse(r.definition) as CertificateTypeDefinition),
    code: r.code,
    department: r.department,
    version: Number(r.version),
    templateSha256: r.template_sha256 ?? null,
    published: r.published_version !== null && Number(r.published_version) === Number(r.version),
  }));
}

/** The type's sharing condition (docs/sharing.md); false when there is no such type. */
export async function setTypeSharing(db: Db, code: string, sharing: SharingCondition): Promise<boolean> {
  const changed = await db('certificate_types').where({ code }).update({ sharing, updated_at: new Date() });
  return changed === 1;
}

/** Sharing conditions of the given types, for catalog entries. */
export async function sharingOfTypes(db: Db, codes: string[]): Promise<Map<string, SharingCondition>> {
  if (codes.length === 0) return new Map();
  const rows = (await db('certificate_types')
    .whereIn('code', [...new Set(codes)])
    .select('code', 'sharing')) as {
    code: string;
    sharing: SharingCondition;
  }[];
  return new Map(rows.map((r) => [r.code, r.sharing]));
}
