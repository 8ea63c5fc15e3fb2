import type { CertificateTypeVersion } from '../../domain/certificate-type';
import { validityDates } from '../../domain/certificate-type';
import { chinaDate, printedDate } from '../../domain/calendar';
import { makeQrPng, renderCertificateDocx, type RenderInput } from './render';

/**
 * The one way a certificate's DOCX is made: the sealing pipeline (activities/sealing.ts,
 * renderCertificate) and the template preview (api/routes/certificate-types.ts) both call
 * renderCertificate below, so a preview shows the dates, images and layout that get sealed;
 * only what does not exist before sealing (number, identifier, the QR's target) differs.
 */

/** Everything printed on the face, apart from the images. */
export interface CertificateFace {
  type: Pick<CertificateTypeVersion, 'name' | 'faceFields' | 'validity'>;
  /** Validated face data (domain/face-fields.ts validateFaceData), dates as YYYY-MM-DD. */
  faceData: Record<string, unknown>;
  holder: { name: string; id: string };
  number: string;
  identifier: string;
  issuerName: string;
  /**
   * The issue instant. Its China day (domain/calendar.ts chinaDate) is the issue date and the
   * start of validity; it is also every ZIP entry's timestamp, so that the same face renders
   * to the same bytes (a retried sealing step writes the very same blob).
   */
  issuedAt: Date;
}

export interface CertificateDocumentInput extends CertificateFace {
  template: Buffer;
  /** PNG of the seal printed on the face. */
  sealImage: Buffer;
  /** What the QR code encodes: the public verification page of the number (verifyUrl). */
  qrTarget: string;
}

/** The public verification page a certificate's QR code points at. */
export function verifyUrl(publicUrl: string, number: string): string {
  return `${publicUrl}/verify/${encodeURIComponent(number)}`;
}

/**
 * The template's data: face fields with dates printed as 年月日, and the tags certflow fills in
 * (domain/certificate-type.ts RESERVED_TAGS). A certificate without an end date reads 长期.
 */
export function certificateTemplateData(face: CertificateFace): Record<string, unknown> {
  const data: Record<string, unknown> = { ...face.faceData };
  for (const f of face.type.faceFields) {
    if (f.type === 'date' && typeof data[f.key] === 'string') data[f.key] = printedDate(data[f.key] as string);
  }
  const issuedOn = chinaDate(face.issuedAt.getTime());
  const validity = validityDates(face.type.validity, issuedOn);
  Object.assign(data, {
    certificateNumber: face.number,
    identifier: face.identifier,
    holderName: face.holder.name,
    holderId: face.holder.id,
    issuerName: face.issuerName,
    issuedOn: printedDate(issuedOn),
    validFrom: printedDate(validity.validFrom),
    validUntil: validity.validUntil ? printedDate(validity.validUntil) : '长期',
    typeName: face.type.name,
  });
  return data;
}

/** The certificate's DOCX; throws TemplateError (services/documents/render.ts) when the template or data cannot fit. */
export async function renderCertificate(
  input: CertificateDocumentInput,
  /** The API passes its template workers' render (template-pool.ts): off the event loop. */
  render: (r: RenderInput) => Buffer | Promise<Buffer> = renderCertificateDocx,
): Promise<Buffer> {
  return render({
    template: input.template,
    data: certificateTemplateData(input),
    images: { seal: input.sealImage, qrCode: await makeQrPng(input.qrTarget) },
    optionalTags: input.type.faceFields.filter((f) => !f.required).map((f) => f.key),
    zipDate: input.issuedAt,
  });
}

/** Marks every value a preview invents, so that nobody takes a preview for a certificate. */
export const SAMPLE_MARK = '（样本）';
export const SAMPLE_HOLDER = { name: '（样本持证主体）', id: SAMPLE_MARK };

/**
 * A number no certificate can have: serial 0000000 is outside the range numbers are allocated
 * from (domain/certificate-number.ts), so its verification page can only answer "invalid".
 */
export function sampleCertificateNumber(typeCode: string, regionCode: string, issuedAt: Date): string {
  return `${typeCode}-${regionCode}-${chinaDate(issuedAt.getTime()).slice(0, 4)}-0000000-0`;
}

/** An issue instant as the sealing step fixes one: whole seconds (activities/sealing.ts allocation). */
export function issueInstant(epochMs: number = Date.now()): Date {
  return new Date(Math.floor(epochMs / 1000) * 1000);
}
