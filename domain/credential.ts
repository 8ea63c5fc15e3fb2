/**
 * A certificate as a W3C Verifiable Credential 2.0 (docs/trust.md, "Verifiable credentials"):
 * the signed certificate record (domain/certificate-record.ts) mapped to a credential subject.
 * The credential carries exactly what the record carries — a person's ID number masked plus the
 * per-certificate `idBinding`, idNumber face fields masked — because a credential, like a record,
 * is handed out, copied into wallets and can never be redacted later.
 *
 * Pure: the issuer's DID, the status entries and the URLs are passed in.
 */
import type { CertificateRecord } from './certificate-record';

export const VC_CONTEXT_V2 = 'https://www.w3.org/ns/credentials/v2';
/** certflow's terms: an inline context, so a verifier needs no document from certflow to read them. */
export const CERTFLOW_VOCAB = 'urn:certflow:credential:v1#';
export const CERTFLOW_CONTEXT = {
  '@vocab': CERTFLOW_VOCAB,
  // Face fields are the type's own keys (any language): one JSON literal, canonicalised (RFC 8785)
  // inside the proof, so a change to any field breaks it.
  faceData: { '@id': `${CERTFLOW_VOCAB}faceData`, '@type': '@json' },
} as const;

export const CREDENTIAL_TYPE = 'CertflowCertificateCredential';

export interface CredentialStatusEntry {
  id: string;
  type: 'BitstringStatusListEntry';
  statusPurpose: 'revocation' | 'suspension';
  statusListIndex: string;
  statusListCredential: string;
}

export interface CredentialInput {
  record: CertificateRecord;
  /** SHA-256 of the record's canonical bytes (the record signature's content). */
  recordSha256: string;
  /** The credential's id: the certificate's public verification page. */
  id: string;
  issuer: { id: string; name: string };
  status: CredentialStatusEntry[];
}

/** The China day's first or last instant (validity dates are China dates, docs/issuance.md). */
const chinaInstant = (day: string, end: boolean) => `${day}T${end ? '23:59:59' : '00:00:00'}+08:00`;

/** The unsigned credential; the department's ecdsa-rdfc-2019 proof is added by services/credentials. */
export function credentialFromRecord(input: CredentialInput): Record<string, unknown> {
  const r = input.record;
  const holder =
    r.holder.kind === 'entity'
      ? { holderKind: 'entity', name: r.holder.name, unifiedSocialCreditCode: r.holder.id }
      : { holderKind: 'person', name: r.holder.name, idNumberMasked: r.holder.idMasked, idBinding: r.holder.idBinding };
  return {
    '@context': [VC_CONTEXT_V2, CERTFLOW_CONTEXT],
    id: input.id,
    type: ['VerifiableCredential', CREDENTIAL_TYPE],
    name: `${r.type.name} ${r.number}`,
    issuer: { id: input.issuer.id, name: input.issuer.name },
    validFrom: chinaInstant(r.validity.from, false),
    ...(r.validity.until ? { validUntil: chinaInstant(r.validity.until, true) } : {}),
    credentialSubject: {
      type: 'CertificateHolder',
      ...holder,
      certificate: {
        type: 'Certificate',
        number: r.number,
        identifier: r.identifier,
        certificateType: { code: r.type.code, version: r.type.version, name: r.type.name },
        issuingDepartment: {
          code: r.issuer.department,
          name: r.issuer.name,
          creditCode: r.issuer.code,
          region: r.issuer.region,
        },
        issuedAt: r.issuedAt,
        validFrom: r.validity.from,
        ...(r.validity.until ? { validUntil: r.validity.until } : {}),
        pdfSha256: r.document.sha256,
        recordSha256: input.recordSha256,
        sealSignerSerial: r.seal.signerCertificateSerial,
      },
      faceData: r.faceData,
    },
    credentialStatus: input.status,
  };
}
