import { CERTIFICATE_STATUS_CODES } from '../domain/certificate-record';
import { maskHolderId } from '../domain/holder';
import type { CachedCertificate } from '../db/certificate-cache';
import { getCertificate } from '../db/certificates';
import { getTypeVersion } from '../db/certificate-types';
import { getSeal } from '../db/trust';
import { createHolderCrypto } from '../platform/holder-crypto';
import { createFaceCrypto } from '../platform/face-crypto';
import type { ServiceDeps } from './deps';
import { certificateVersions } from './certificate-lineage';

/**
 * What a reader sees of one certificate: the same shape for staff (api/routes/certificates.ts),
 * the holder (api/routes/holder.ts) and a show-code redemption. Holder IDs, in the holder block
 * and in ID-number face fields, are masked unless `reveal`. `documentsBase` is where the PDF and
 * record links point for this reader.
 */
export async function certificateView(
  deps: Pick<ServiceDeps, 'db' | 'masterKey'>,
  cert: CachedCertificate,
  options: { reveal: boolean; documentsBase: string },
) {
  const { reveal } = options;
  const type = await getTypeVersion(deps.db, cert.typeCode, cert.typeVersion);
  const faces = createFaceCrypto(deps.masterKey);
  const holderId = createHolderCrypto(deps.masterKey).decrypt(cert.holderIdEncrypted);
  const base = options.documentsBase;
  return {
    number: cert.number,
    identifier: cert.identifier,
    type: { code: cert.typeCode, version: cert.typeVersion, name: cert.typeName },
    issuer: { department: cert.department, name: cert.issuerName, code: cert.issuerCode, region: cert.regionCode },
    holder: {
      kind: cert.holderKind,
      codeType: cert.holderCodeType,
      name: cert.holderName,
      id: reveal ? holderId : maskHolderId(holderId),
      idMasked: !reveal,
    },
    // ID numbers are stored encrypted (platform/face-crypto.ts): decrypted only for an audited reveal.
    faceData: (reveal ? faces.open : faces.masked)(type?.faceFields ?? [], cert.faceData),
    issuedAt: cert.issuedAt,
    validFrom: cert.validFrom,
    validUntil: cert.validUntil,
    status: cert.status,
    statusCode: CERTIFICATE_STATUS_CODES[cert.status],
    statusChangedAt: cert.statusChangedAt,
    statusReason: cert.statusReason,
    // docs/lifecycle.md: suspension's last day; the chain of versions (change, renewal, reissue).
    suspendedUntil: cert.status === 'suspended' ? (cert.suspendedUntil ?? null) : null,
    replaces: cert.replacesNumber ?? null,
    supersededBy: cert.supersededBy ?? null,
    versions: await certificateVersions(deps, cert.number),
    // docs/import.md: `imported` certificates were registered as they were, without a certflow seal.
    origin: cert.origin ?? 'issued',
    originalNumber: cert.originalNumber ?? null,
    seal: {
      id: cert.sealId,
      name: cert.sealName,
      signerSerial: cert.signerSerial,
      sealedBy: cert.sealedBy,
      sealedAt: cert.sealedAt,
    },
    documents: {
      pdf: `${base}/pdf`,
      pdfSha256: cert.pdfSha256,
      record: `${base}/record`,
      recordSha256: cert.recordSha256,
    },
    catalog: {
      registeredAt: cert.catalogRegisteredAt,
      attempts: cert.catalogAttempts,
      lastError: cert.catalogLastError,
    },
  };
}

/** The signed record with its signature and the signer chain, as GET …/record answers it. */
export async function certificateRecord(deps: Pick<ServiceDeps, 'db'>, number: string) {
  const cert = (await getCertificate(deps.db, number))!;
  const seal = cert.sealId === null ? undefined : await getSeal(deps.db, cert.sealId);
  return {
    record: JSON.parse(cert.record) as unknown,
    // The exact signed bytes: verify against these, not a re-serialisation of `record`.
    canonical: cert.record,
    recordSha256: cert.recordSha256,
    signature: cert.recordSignature,
    signatureFormat: 'CMS SignedData, detached, DER, base64',
    signerCertificate: seal?.certificatePem ?? null,
    chain: seal?.chainPem ?? [],
  };
}
