import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { invalidError } from '../errors';
import { MAX_IMPORT_ROWS } from '../../domain/imports';

/**
 * Reading a bulk import file (docs/import.md): a CSV in UTF-8 or the first sheet of an XLSX,
 * the first row naming the columns. Every cell comes out as trimmed text; a spreadsheet date
 * cell as YYYY-MM-DD.
 */

export type ImportFormat = 'csv' | 'xlsx';

export const IMPORT_MEDIA_TYPES: Record<ImportFormat, string> = {
  csv: 'text/csv',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

export interface ImportTable {
  header: string[];
  /** Data rows without blank ones; row number n (1-based) is rows[n - 1]. */
  rows: string[][];
}

const fileError = (message: string) => invalidError(message, [{ field: 'file', message }], 'BadImportFile');

function csvTable(bytes: Buffer): ImportTable {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw fileError('the CSV is not UTF-8 text: save it as "CSV UTF-8"');
  }
  let records: string[][];
  try {
    records = parse(text, { bom: true, relax_column_count: true, skip_empty_lines: true, trim: true }) as string[][];
  } catch (err) {
    throw fileError(`the CSV cannot be read: ${(err as Error).message}`);
  }
  const [header, ...rows] = records;
  return { header: header ?? [], rows: rows.filter((r) => r.some((c) => c !== '')) };
}

/** A spreadsheet cell as text: dates as YYYY-MM-DD, formulas by their result, rich text joined. */
function cellText(v: ExcelJS.CellValue): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return v.toISOString().slice(0, 10);
  if (typeof v === 'object') {
    if ('richText' in v)
      return v.richText
        .map((r) => r.text)
        .join('')
        .trim();
    if ('text' in v && typeof v.text === 'string') return v.text.trim();
    if ('result' in v) return cellText(v.result as ExcelJS.CellValue);
    if ('error' in v) return '';
  }
  return String(v).trim();
}

async function xlsxTable(bytes: Buffer): Promise<ImportTable> {
  const book = new ExcelJS.Workbook();
  try {
    await book.xlsx.load(bytes as unknown as ArrayBuffer);
  } catch (err) {
    throw fileError(`the XLSX cannot be read: ${(err as Error).message}`);
  }
  const sheet = book.worksheets[0];
  if (!sheet) throw fileError('the XLSX has no worksheet');
  const all: string[][] = [];
  sheet.eachRow({ includeEmpty: false }, (row) => {
    const cells: string[] = [];
    for (let c = 1; c <= row.cellCount; c++) cells.push(cellText(row.getCell(c).value));
    all.push(cells);
  });
  const [header, ...rows] = all;
  return { header: header ?? [], rows: rows.filter((r) => r.some((c) => c !== '')) };
}

export async function readImportTable(format: ImportFormat, bytes: Buffer): Promise<ImportTable> {
  const table = format === 'csv' ? csvTable(bytes) : await xlsxTable(bytes);
  if (table.header.length === 0) throw fileError('the file is empty: the first row must name the columns');
  if (table.rows.length > MAX_IMPORT_ROWS)
    throw fileError(`the file has ${table.rows.length} rows; at most ${MAX_IMPORT_ROWS} per import`);
  return table;
}

/** Each row as cells by column name. */
export function rowCells(header: readonly string[], row: readonly string[]): Record<string, string> {
  const cells: Record<string, string> = {};
  header.forEach((name, i) => {
    if (name.trim() !== '') cells[name.trim()] = row[i] ?? '';
  });
  return cells;
}

/**
 * The parsed file per blob, for the batches of one import: each batch activity needs its slice,
 * and parsing a 20 000-row XLSX for every batch would cost more than the batch. A blob's name
 * is its content hash, so an entry can never be stale; two entries bound the memory.
 */
const parsed = new Map<string, Promise<ImportTable>>();

export function cachedImportTable(sha: string, format: ImportFormat, load: () => Promise<Buffer>) {
  let hit = parsed.get(sha);
  if (!hit) {
    hit = load().then((bytes) => readImportTable(format, bytes));
    hit.catch(() => parsed.delete(sha));
    parsed.set(sha, hit);
    while (parsed.size > 2) parsed.delete(parsed.keys().next().value!);
  }
  return hit;
}
