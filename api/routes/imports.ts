import { z } from 'zod';
import type { AppDeps } from '../app';
import type { ApiRouter } from '../routing';
import { HttpProblem, notFound } from '../problem';
import { requirePermission } from '../auth';
import { recordAudit } from '../audit';
import { readRawBody } from '../raw-body';
import { departmentsFor } from '../../domain/access';
import { actorRef } from '../../domain/issuance';
import { typeCodeSchema } from '../../domain/certificate-type';
import { IMPORT_COLUMNS } from '../../domain/imports';
import { getImport, listImports } from '../../db/imports';
import { getTypeVersion } from '../../db/certificate-types';
import { importReportCsv, importType, importView, startBulkImport } from '../../services/imports/bulk';
import { IMPORT_MEDIA_TYPES, type ImportFormat } from '../../services/imports/files';
import { CertificateImportList, CertificateImportSchema } from '../schemas/imports';

/** The largest import file accepted (a 200 000-row CSV of a typical type fits). */
const MAX_IMPORT_BYTES = 64 * 1024 * 1024;

const IDEMPOTENT_UPLOAD = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description: 'At most 100 characters. The same key again answers 200 with the import the first upload started.',
  schema: { type: 'string', maxLength: 100 },
};

/** Bulk import of existing certificates (docs/import.md): upload, progress, row-level report. */
export function importRoutes(api: ApiRouter, deps: AppDeps) {
  const idParams = z.object({ id: z.uuid() });

  async function loadVisible(ctx: Parameters<Parameters<ApiRouter['route']>[1]>[0], id: string) {
    const i = await getImport(deps.db, id);
    if (!i) throw notFound(`No import ${id}`);
    ctx.state.auditObject = { type: 'certificate-import', id };
    requirePermission(ctx, 'certificate.import', { department: i.department });
    return i;
  }

  api.route(
    {
      method: 'post',
      path: '/certificate-imports',
      operationId: 'startCertificateImport',
      summary: 'Upload a CSV or XLSX of existing certificates; a workflow imports it in batches',
      description:
        "The request body is the file (`text/csv` in UTF-8, or XLSX). Its first row names the columns: the type's " +
        `face field keys and ${IMPORT_COLUMNS.map((c) => `\`${c}\``).join(', ')}. A bad header is refused at once (422 ` +
        "naming each column); bad rows are reported in the import's report, the others imported.",
      tag: 'imports',
      auth: 'staff',
      query: z.object({
        typeCode: typeCodeSchema,
        fileName: z.string().trim().min(1).max(200).optional(),
      }),
      requestHeaders: [IDEMPOTENT_UPLOAD],
      requestContent: {
        'text/csv': { schema: { type: 'string' } },
        [IMPORT_MEDIA_TYPES.xlsx]: { schema: { type: 'string', format: 'binary' } },
      },
      responses: {
        202: { description: 'Stored; the import workflow runs', schema: CertificateImportSchema },
        200: { description: 'The same Idempotency-Key again: the import it started', schema: CertificateImportSchema },
        413: 'The file is larger than 64 MiB',
        415: 'Neither CSV nor XLSX',
      },
      errors: [503],
    },
    async (ctx, { query }) => {
      const type = await importType(deps, query.typeCode);
      ctx.state.auditObject = { type: 'certificate-type', id: type.code };
      requirePermission(ctx, 'certificate.import', { department: type.department });
      const format: ImportFormat | false = ctx.is('text/csv')
        ? 'csv'
        : ctx.is(IMPORT_MEDIA_TYPES.xlsx)
          ? 'xlsx'
          : false;
      if (!format)
        throw new HttpProblem(
          415,
          'Unsupported Media Type',
          `Send the file as the body with Content-Type text/csv or ${IMPORT_MEDIA_TYPES.xlsx}`,
        );
      const bytes = await readRawBody(ctx, MAX_IMPORT_BYTES);
      const me = actorRef(ctx.state.actor);
      const { import: row, created } = await startBulkImport(
        deps,
        {
          submitter: me,
          typeCode: type.code,
          format,
          fileName: query.fileName ?? `${type.code}.${format}`,
          bytes,
          idempotencyKey: ctx.get('idempotency-key'),
        },
        (entry) => {
          ctx.state.auditObject = entry.object ?? undefined;
          return recordAudit(ctx, entry);
        },
      );
      ctx.status = created ? 202 : 200;
      ctx.set('Location', `${api.prefix}/certificate-imports/${row.id}`);
      return importView(row);
    },
  );

  api.route(
    {
      method: 'get',
      path: '/certificate-imports',
      operationId: 'listCertificateImports',
      summary: "My departments' imports, newest first",
      tag: 'imports',
      auth: 'staff',
      responses: { 200: { description: 'The latest 50 imports', schema: CertificateImportList } },
    },
    async (ctx) => {
      const departments = departmentsFor(ctx.state.actor, 'certificate.import');
      const items = departments && departments.length === 0 ? [] : await listImports(deps.db, departments);
      return { items: items.map((i) => importView(i)) };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/certificate-imports/template',
      operationId: 'downloadImportTemplate',
      summary: "A CSV with just the header row a type's import file needs",
      tag: 'imports',
      auth: 'staff',
      query: z.object({ typeCode: typeCodeSchema }),
      responses: { 200: { description: 'The header row', rawSchema: { type: 'string' }, contentType: 'text/csv' } },
    },
    async (ctx, { query }) => {
      const type = await importType(deps, query.typeCode);
      requirePermission(ctx, 'certificate.import', { department: type.department });
      const version = (await getTypeVersion(deps.db, type.code, type.publishedVersion!))!;
      ctx.type = 'text/csv; charset=utf-8';
      ctx.attachment(`${type.code}-import.csv`);
      return '\uFEFF' + [...IMPORT_COLUMNS, ...version.faceFields.map((f) => f.key)].join(',') + '\r\n';
    },
  );

  api.route(
    {
      method: 'get',
      path: '/certificate-imports/:id',
      operationId: 'getCertificateImport',
      summary: 'An import: status, rows done of the total, rate and time left',
      tag: 'imports',
      auth: 'staff',
      params: idParams,
      responses: { 200: { description: 'The import and its progress', schema: CertificateImportSchema } },
    },
    async (ctx, { params }) => importView(await loadVisible(ctx, params.id)),
  );

  api.route(
    {
      method: 'get',
      path: '/certificate-imports/:id/report',
      operationId: 'downloadCertificateImportReport',
      summary: 'The row-level results as CSV: imported with the number, or rejected with the field and reason',
      tag: 'imports',
      auth: 'staff',
      params: idParams,
      responses: {
        200: {
          description: 'row,outcome,certificateNumber,field,reason (UTF-8 with BOM, so spreadsheets read the Chinese)',
          rawSchema: { type: 'string' },
          contentType: 'text/csv',
        },
      },
    },
    async (ctx, { params }) => {
      const i = await loadVisible(ctx, params.id);
      const csv = await importReportCsv(deps, i.id);
      await recordAudit(ctx, {
        category: 'operation',
        action: 'certificate-import.report',
        outcome: 'success',
        department: i.department,
        object: { type: 'certificate-import', id: i.id },
        detail: { rowsDone: i.rowsDone },
      });
      ctx.type = 'text/csv; charset=utf-8';
      ctx.attachment(`import-${i.id}-report.csv`);
      return csv;
    },
  );
}
