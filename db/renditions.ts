import type { Db } from './knex';

/**
 * PDF renditions: the PDF LibreOffice made from a DOCX, by the DOCX's SHA-256, so a retried
 * sealing reuses it instead of converting again (byte-identical output for the same input).
 */

export async function findRendition(db: Db, docxSha256: string): Promise<string | undefined> {
  const r = (await db('pdf_renditions').where({ docx_sha256: docxSha256 }).first('pdf_sha256')) as
    { pdf_sha256: string } | undefined;
  return r?.pdf_sha256;
}

/** Records (or replaces) the PDF made from a DOCX; called before the PDF blob is written. */
export async function saveRendition(db: Db, docxSha256: string, pdfSha256: string, convertMs: number): Promise<void> {
  await db('pdf_renditions')
    .insert({
      docx_sha256: docxSha256,
      pdf_sha256: pdfSha256,
      convert_ms: Math.round(convertMs),
      created_at: new Date(),
    })
    .onConflict('docx_sha256')
    .merge(['pdf_sha256', 'convert_ms', 'created_at']);
}
