import ExcelJS from 'exceljs';
import { entityId, holderName } from '../../bench/catalog-data';
import { formatCertificateNumber } from '../../domain/certificate-number';

/**
 * Bulk import files for the demo type BL (营业执照) — docs/import.md. Most rows are valid; every
 * row whose number is a multiple of one of BAD's keys is wrong in one known column, so a test can
 * say exactly which rows must be rejected and why.
 */

export const BL_COLUMNS = [
  'holderName',
  'holderId',
  'number',
  'issueDate',
  'validUntil',
  'status',
  'entityName',
  'creditCode',
  'entityType',
  'legalRepresentative',
  'businessScope',
  'registeredCapital',
  'establishedOn',
  'address',
];

/** Row number divisor → the column that is wrong in those rows. */
export const BAD: Record<number, string> = { 97: 'holderId', 89: 'issueDate', 83: 'entityType' };

export function expectedRejection(row: number): string | undefined {
  for (const [every, field] of Object.entries(BAD)) if (row % Number(every) === 0) return field;
  return undefined;
}

/**
 * Row n of a file; `offset` makes holders differ between files. Every 3rd row has a legacy number
 * (kept as the original number beside an allocated one), every 4th other one a number in
 * certflow's format (kept).
 */
export function keptNumber(n: number, offset = 0): string | undefined {
  if (n % 3 === 0 || n % 4 !== 0) return undefined;
  return formatCertificateNumber({ typeCode: 'ZJ', region: '330100', year: 2015, serial: offset + n });
}

export function licenceRow(n: number, offset = 0): Record<string, string> {
  const id = entityId(offset + n);
  const name = holderName('entity', offset + n);
  const row: Record<string, string> = {
    holderName: name,
    holderId: id,
    number: n % 3 === 0 ? `浙市监-${offset + n}` : (keptNumber(n, offset) ?? ''),
    issueDate: `20${String(10 + (n % 15)).padStart(2, '0')}-0${1 + (n % 9)}-1${n % 10}`,
    validUntil: n % 5 === 0 ? '2035-12-31' : '',
    status: n % 7 === 0 ? '04' : n % 11 === 0 ? 'revoked' : '',
    entityName: name,
    creditCode: id,
    entityType: '有限责任公司',
    legalRepresentative: '张三',
    businessScope: '软件开发，"信息技术"咨询服务。',
    registeredCapital: '100万元',
    establishedOn: '2009-03-15',
    address: '浙江省杭州市西湖区文三路1号',
  };
  const bad = expectedRejection(n);
  if (bad === 'holderId') row.holderId = id.slice(0, 17) + (id[17] === '0' ? '1' : '0');
  if (bad === 'issueDate') row.issueDate = '2019-02-30';
  if (bad === 'entityType') row.entityType = '无限公司';
  return row;
}

const csvCell = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

export function licenceCsv(rows: number, offset = 0): Buffer {
  const lines = [BL_COLUMNS.join(',')];
  for (let n = 1; n <= rows; n++) {
    const r = licenceRow(n, offset);
    lines.push(BL_COLUMNS.map((c) => csvCell(r[c]!)).join(','));
  }
  return Buffer.from('\uFEFF' + lines.join('\r\n') + '\r\n', 'utf8');
}

export async function licenceXlsx(rows: number, offset = 0): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  const sheet = book.addWorksheet('证照');
  sheet.addRow(BL_COLUMNS);
  for (let n = 1; n <= rows; n++) {
    const r = licenceRow(n, offset);
    // Dates as real spreadsheet dates where they are valid, as people's files have them.
    sheet.addRow(
      BL_COLUMNS.map((c) => (c === 'issueDate' && !r[c]!.endsWith('02-30') ? new Date(`${r[c]}T00:00:00Z`) : r[c])),
    );
  }
  return Buffer.from(await book.xlsx.writeBuffer());
}

/** How many of rows 1..n are valid. */
export function validRows(n: number): number {
  let ok = 0;
  for (let i = 1; i <= n; i++) if (!expectedRejection(i)) ok++;
  return ok;
}
