/**
 * The certificate record (docs/trust.md): the canonical JSON that the issuing
 * department signs beside the PDF. Anyone holding record + signature + the platform root can
 * check, without certflow, what was issued to whom, by whom, valid when, and which PDF
 * (by SHA-256) is the document.
 *
 * Holder ID decision. A record is handed out: to relying parties through the API, in
 * verification reports, in whatever a business system stores. A signed record can never be
 * redacted later, and a resident ID number is personal data (birth date included). Neither
 * a plain nor a salted hash protects it: the mask already gives region and last four, so
 * only the 8-digit birth date is unknown, about 36 500 guesses. So:
 * - entity holders: the unified social credit code in clear. It is public registry data,
 *   printed on the face, and what relying parties compare against;
 * - person holders: the masked number (`330106********123X`) to compare by eye, plus
 *   `idBinding` = HMAC-SHA256 over (number, ID) under a key derived from the platform master
 *   key. A relying party that knows the holder's ID asks certflow to compare
 *   (`POST /certificates/:number/compare`); certflow recomputes the binding, so the signed
 *   record, not just a database row, decides. It is per certificate, so two records of one
 *   person cannot be linked by it, and nobody without the key can test guesses against it.
 * Face fields of type idNumber (e.g. a legal representative's ID) are masked the same way;
 * the full values stay on the face of the PDF and encrypted in the store.
 *
 * Pure: no I/O, no clock. The HMAC is computed by the caller and passed in.
 */
import type { FaceField } from './face-fields';
import type { HolderKind } from './holder';
import { HOLDER_CODE_TYPES, maskHolderId } from './holder';

export const RECORD_FORMAT = 'certflow.certificate-record/1';

/** Certificate statuses by name, with the codes of the ministry interface (docs/standards.md). */
export const CERTIFICATE_STATUS_CODES = {
  valid: '01',
  suspended: '02',
  withdrawn: '03',
  cancelled: '04',
  expired: '05',
  revoked: '07',
  /** Replaced by a change, renewal or reissue: the ministry list has no code of its own, so 99 (其他). */
  superseded: '99',
} as const;
export type CertificateStatus = keyof typeof CERTIFICATE_STATUS_CODES;
export const CERTIFICATE_STATUSES = Object.keys(CERTIFICATE_STATUS_CODES) as CertificateStatus[];

export type RecordHolder =
  | { kind: 'entity'; codeType: '001'; name: string; id: string }
  | { kind: 'person'; codeType: '111'; name: string; idMasked: string; idBinding: string };

export interface CertificateRecord {
  format: typeof RECORD_FORMAT;
  /** The number printed on the face (证照编号). */
  number: string;
  /** GB/T 36904 identifier (证照标识). */
  identifier: string;
  type: { code: string; version: number; name: string };
  holder: RecordHolder;
  issuer: { department: string; name: string; code: string; region: string };
  /** ISO 8601 instant, whole seconds: also the signing time of PDF and record. */
  issuedAt: string;
  /** YYYY-MM-DD; until null = permanent. */
  validity: { from: string; until: string | null };
  faceData: Record<string, unknown>;
  /** The signed PDF. */
  document: { mediaType: 'application/pdf'; sha256: string };
  seal: { id: number; name: string; signerCertificateSerial: string };
}

export interface RecordInput {
  number: string;
  identifier: string;
  type: { code: string; version: number; name: string };
  holder: { kind: HolderKind; name: string; id: string };
  /** HMAC of (number, holder ID); required for person holders. */
  holderIdBinding?: string;
  issuer: { department: string; name: string; code: string; region: string };
  issuedAt: string;
  validity: { from: string; until: string | null };
  faceFields: readonly FaceField[];
  faceData: Record<string, unknown>;
  signedPdfSha256: string;
  seal: { id: number; name: string; signerCertificateSerial: string };
}

/** idNumber face fields masked; everything else as submitted. */
export function recordFaceData(
  fields: readonly FaceField[],
  faceData: Record<string, unknown>,
): Record<string, unknown> {
  const idFields = new Set(fields.filter((f) => f.type === 'idNumber').map((f) => f.key));
  return Object.fromEntries(
    Object.entries(faceData).map(([k, v]) => [k, idFields.has(k) && typeof v === 'string' ? maskHolderId(v) : v]),
  );
}

export function buildCertificateRecord(input: RecordInput): CertificateRecord {
  let holder: RecordHolder;
  if (input.holder.kind === 'entity') {
    holder = { kind: 'entity', codeType: HOLDER_CODE_TYPES.entity, name: input.holder.name, id: input.holder.id };
  } else {
    if (!input.holderIdBinding) throw new Error('a person holder needs holderIdBinding');
    holder = {
      kind: 'person',
      codeType: HOLDER_CODE_TYPES.person,
      name: input.holder.name,
      idMasked: maskHolderId(input.holder.id),
      idBinding: input.holderIdBinding,
    };
  }
  return {
    format: RECORD_FORMAT,
    number: input.number,
    identifier: input.identifier,
    type: { ...input.type },
    holder,
    issuer: { ...input.issuer },
    issuedAt: input.issuedAt,
    validity: { ...input.validity },
    faceData: recordFaceData(input.faceFields, input.faceData),
    document: { mediaType: 'application/pdf', sha256: input.signedPdfSha256 },
    seal: { ...input.seal },
  };
}
