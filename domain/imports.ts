/**
 * Importing certificates issued before certflow (docs/import.md): the columns of a bulk file,
 * the check of one row, and the progress figures. Pure, so the API (header check), the import
 * activity (row check) and the workflow (progress text) apply the same rules.
 */
import { isIsoDate } from './calendar';
import { faceDataSchema, type FaceData, type FaceField } from './face-fields';
import { parseHolderId, holderNameSchema, type HolderId, type HolderKind } from './holder';
import { parseIdentifier } from './identifier';
import { parseCertificateNumber } from './certificate-number';
import { CERTIFICATE_STATUS_CODES, type CertificateStatus } from './certificate-record';
import { holderFaceMismatches, type CertificateTypeDefinition } from './certificate-type';
import { unprintableReason } from './text';
import { invalid, valid, type Validation } from './result';

/** The columns every import file has besides the type's face fields. */
export const IMPORT_COLUMNS = [
  'holderName',
  'holderId',
  'number',
  'identifier',
  'issueDate',
  'validFrom',
  'validUntil',
  'status',
] as const;
export type ImportColumn = (typeof IMPORT_COLUMNS)[number];

/** Columns a file must have (the others may be absent or empty). */
export const REQUIRED_IMPORT_COLUMNS: readonly ImportColumn[] = ['holderName', 'holderId', 'issueDate'];

/** Statuses an imported certificate may have: all but `suspended`, which needs a suspension (issue 16 item 2). */
export const IMPORT_STATUSES = [
  'valid',
  'expired',
  'revoked',
  'cancelled',
  'withdrawn',
] as const satisfies readonly CertificateStatus[];
export type ImportStatus = (typeof IMPORT_STATUSES)[number];

/** At most this many data rows in one file (the 20 000-row test is well within it). */
export const MAX_IMPORT_ROWS = 200_000;
/** A row's own number: printable, as long as the `original_number` column. */
export const MAX_IMPORTED_NUMBER_LENGTH = 100;

export type ImportType = Pick<
  CertificateTypeDefinition,
  'faceFields' | 'holderKind' | 'holderIdField' | 'holderNameField'
>;

/** Why a header cannot be imported for this type, one entry per column; empty when it can. */
export function checkImportHeader(type: ImportType, header: readonly string[]): { field: string; message: string }[] {
  const known = new Set<string>([...IMPORT_COLUMNS, ...type.faceFields.map((f) => f.key)]);
  const errors: { field: string; message: string }[] = [];
  const seen = new Set<string>();
  for (const [i, raw] of header.entries()) {
    const name = raw.trim();
    if (name === '') continue;
    if (seen.has(name)) errors.push({ field: name, message: `column ${i + 1} repeats ${name}` });
    seen.add(name);
    if (!known.has(name))
      errors.push({
        field: name,
        message: `column ${i + 1} is not a face field of this type nor one of ${IMPORT_COLUMNS.join(', ')}`,
      });
  }
  const required = [...REQUIRED_IMPORT_COLUMNS, ...type.faceFields.filter((f) => f.required).map((f) => f.key)];
  for (const name of required) if (!seen.has(name)) errors.push({ field: name, message: 'this column is missing' });
  return errors;
}

/** One row that passed every check, ready to be stored. */
export interface ImportedRow {
  holder: { kind: HolderKind; id: HolderId; name: string };
  /** A certflow-format number to keep (canonical spelling), or undefined: allocate one. */
  number?: string;
  /** The row's own number when it is not in certflow's format: kept beside the allocated one. */
  originalNumber?: string;
  /** The GB/T 36904 identifier to keep, or undefined: make one. */
  identifier?: string;
  issueDate: string;
  validFrom: string;
  validUntil: string | null;
  status: ImportStatus;
  faceData: FaceData;
}

export type RowCheck = { ok: true; row: ImportedRow } | { ok: false; field: string; reason: string };

const reject = (field: string, reason: string): RowCheck => ({ ok: false, field, reason });

/** A cell of a face field, from text (CSV, or a spreadsheet cell already turned into text). */
function faceValue(f: FaceField, text: string): unknown {
  if (text === '') return undefined;
  if (f.type === 'number') return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
  // A list is one cell, its items separated by semicolons (either width) or line breaks.
  if (f.type === 'list')
    return text
      .split(/[;；\n]/)
      .map((s) => s.trim())
      .filter(Boolean);
  return text;
}

export function parseImportDate(text: string): Validation<string> {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return invalid('must be a date written YYYY-MM-DD');
  return isIsoDate(text) ? valid(text) : invalid(`${text} is not a real date`);
}

/** A status by name (valid, expired, …) or by its ministry code (01, 05, …: docs/standards.md). */
export function parseImportStatus(text: string): Validation<ImportStatus> {
  if (text === '') return valid('valid');
  const lower = text.toLowerCase();
  const byCode = Object.entries(CERTIFICATE_STATUS_CODES).find(([, code]) => code === text)?.[0];
  const name = byCode ?? lower;
  if ((IMPORT_STATUSES as readonly string[]).includes(name)) return valid(name as ImportStatus);
  return invalid(`must be one of ${IMPORT_STATUSES.join(', ')} (or their codes)`);
}

/**
 * Checks one data row (cells by column name, already trimmed text). `today` (YYYY-MM-DD, China
 * Standard Time) bounds the issue date: nothing imported was issued in the future. The first
 * problem found is the one reported, naming its column.
 */
export function checkImportRow(type: ImportType, cells: Record<string, string>, today: string): RowCheck {
  return importRowChecker(type)(cells, today);
}

/**
 * checkImportRow for many rows of one type: the face data schema is built once (building it
 * costs more than checking a row).
 */
export function importRowChecker(
  type: ImportType,
): (cells: Record<string, string>, today: string, face?: Record<string, unknown>) => RowCheck {
  const faceSchema = faceDataSchema(type.faceFields);
  return (cells, today, face) => checkRow(type, faceSchema, cells, today, face);
}

function checkRow(
  type: ImportType,
  faceSchema: ReturnType<typeof faceDataSchema>,
  cells: Record<string, string>,
  today: string,
  /** Face data as JSON values (a single import); absent: read from the cells (a file row). */
  faceInput?: Record<string, unknown>,
): RowCheck {
  const cell = (k: string) => (cells[k] ?? '').trim();
  const name = holderNameSchema.safeParse(cell('holderName'));
  if (!name.success) return reject('holderName', name.error.issues[0]!.message);
  const id = parseHolderId(type.holderKind, cell('holderId'));
  if (!id.ok) return reject('holderId', id.reason);

  // A number in certflow's format (docs/standards.md, check character and all) is kept; any other
  // is kept as the original number beside one allocated, so every certificate stays addressable.
  let number: string | undefined;
  let originalNumber: string | undefined;
  if (cell('number') !== '') {
    const given = cell('number');
    const why = unprintableReason(given);
    if (why) return reject('number', why);
    if ([...given].length > MAX_IMPORTED_NUMBER_LENGTH)
      return reject('number', `must be at most ${MAX_IMPORTED_NUMBER_LENGTH} characters`);
    const parsed = parseCertificateNumber(given);
    if (parsed.ok) number = parsed.value.number;
    else originalNumber = given;
  }
  let identifier: string | undefined;
  if (cell('identifier') !== '') {
    const parsed = parseIdentifier(cell('identifier'));
    if (!parsed.ok) return reject('identifier', `not a GB/T 36904 identifier: ${parsed.reason}`);
    identifier = parsed.value.identifier;
  }

  const issued = parseImportDate(cell('issueDate'));
  if (!issued.ok) return reject('issueDate', cell('issueDate') === '' ? 'is required' : issued.reason);
  if (issued.value > today) return reject('issueDate', `${issued.value} is in the future`);
  let validFrom = issued.value;
  if (cell('validFrom') !== '') {
    const from = parseImportDate(cell('validFrom'));
    if (!from.ok) return reject('validFrom', from.reason);
    validFrom = from.value;
  }
  let validUntil: string | null = null;
  if (cell('validUntil') !== '') {
    const until = parseImportDate(cell('validUntil'));
    if (!until.ok) return reject('validUntil', until.reason);
    if (until.value < validFrom) return reject('validUntil', `ends before it starts (${validFrom})`);
    validUntil = until.value;
  }
  const status = parseImportStatus(cell('status'));
  if (!status.ok) return reject('status', status.reason);

  const raw: Record<string, unknown> = faceInput ? { ...faceInput } : {};
  if (!faceInput) {
    for (const f of type.faceFields) {
      const v = faceValue(f, cell(f.key));
      if (v !== undefined) raw[f.key] = v;
    }
  }
  const face = faceSchema.safeParse(raw);
  if (!face.success) {
    const issue = face.error.issues[0]!;
    return reject(issue.path.length ? String(issue.path[0]) : 'faceData', issue.message);
  }
  const mismatch = holderFaceMismatches(type, { id: id.value, name: name.data }, face.data)[0];
  if (mismatch) return reject(mismatch.field.replace(/^faceData\./, ''), mismatch.message);

  return {
    ok: true,
    row: {
      holder: { kind: type.holderKind, id: id.value, name: name.data },
      ...(number ? { number } : {}),
      ...(originalNumber ? { originalNumber } : {}),
      ...(identifier ? { identifier } : {}),
      issueDate: issued.value,
      validFrom,
      validUntil,
      status: status.value,
      faceData: face.data,
    },
  };
}

export interface ImportProgress {
  total: number | null;
  done: number;
  /** 0–100, whole; null until the file was counted. */
  percent: number | null;
  /** Rows per second since the import started. */
  rowsPerSecond: number | null;
  /** Seconds left at that rate; null when unknown. */
  etaSeconds: number | null;
}

/** The progress figures the API, the page and the Web UI show. */
export function importProgress(p: {
  total: number | null;
  done: number;
  startedAtMs: number | null;
  nowMs: number;
}): ImportProgress {
  const percent = p.total === null ? null : p.total === 0 ? 100 : Math.floor((100 * p.done) / p.total);
  const seconds = p.startedAtMs === null ? 0 : (p.nowMs - p.startedAtMs) / 1000;
  const rate = seconds > 0 && p.done > 0 ? p.done / seconds : null;
  const left = p.total === null ? null : Math.max(0, p.total - p.done);
  return {
    total: p.total,
    done: p.done,
    percent,
    rowsPerSecond: rate === null ? null : Math.round(rate * 10) / 10,
    etaSeconds: left === 0 ? 0 : rate === null || left === null ? null : Math.ceil(left / rate),
  };
}
