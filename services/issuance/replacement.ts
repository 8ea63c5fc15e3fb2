import type { ServiceDeps } from '../deps';
import { conflictError, invalidError, ServiceError, type FieldError } from '../errors';
import { getCertificate } from '../../db/certificates';
import { getTypeVersion } from '../../db/certificate-types';
import { openReplacements } from '../../db/applications';
import type { CertificateTypeVersion } from '../../domain/certificate-type';
import { changedFields, checkReplaceable, mergeFace, type ReplacingKind } from '../../domain/certificate-change';
import { parseCertificateNumber } from '../../domain/certificate-number';
import type { HolderKind } from '../../domain/holder';
import { createHolderCrypto } from '../../platform/holder-crypto';
import { createFaceCrypto } from '../../platform/face-crypto';

/**
 * The part of a submission that is a change (变更), renewal (延续) or reissue (补发/换发) of an
 * issued certificate (docs/lifecycle.md). The holder is the old certificate's; the face data is
 * the old face with the changed fields over it (a reissue changes nothing, and says why). The
 * result goes through the same validation as a first issue (services/issuance/submit.ts).
 */

export interface ReplacementRequest {
  kind: ReplacingKind;
  replaces?: string;
  reason?: string;
  holder?: { kind: HolderKind; id: string; name: string };
  faceData: Record<string, unknown>;
}

export interface Replacement {
  replacesNumber: string;
  kindReason: string | null;
  holder: { kind: HolderKind; id: string; name: string };
  faceData: Record<string, unknown>;
}

export async function prepareReplacement(
  deps: Pick<ServiceDeps, 'db' | 'masterKey'>,
  version: CertificateTypeVersion,
  r: ReplacementRequest,
): Promise<Replacement> {
  if (!r.replaces)
    throw invalidError(`A ${r.kind} names the certificate it replaces`, [
      { field: 'replaces', message: `required with kind ${r.kind}` },
    ]);
  const parsed = parseCertificateNumber(r.replaces);
  if (!parsed.ok) throw invalidError('Not a certificate number', [{ field: 'replaces', message: parsed.reason }]);
  const number = parsed.value.number;
  const old = await getCertificate(deps.db, number);
  if (!old) throw invalidError(`No certificate ${number}`, [{ field: 'replaces', message: 'no such certificate' }]);
  const problems = checkReplaceable(r.kind, version.code, old);
  const conflict = problems.find((p) => p.kind === 'conflict');
  if (conflict) throw conflictError(conflict.message, 'NotReplaceable');
  const errors: FieldError[] = problems.map(({ field, message }) => ({ field, message }));
  const reason = r.reason?.trim() || null;
  if (r.kind === 'reissue' && !reason)
    errors.push({ field: 'reason', message: 'a reissue says why (lost, damaged, …)' });
  if (r.kind === 'reissue' && Object.keys(r.faceData).length)
    errors.push({ field: 'faceData', message: 'a reissue keeps the face data: send none (a change alters it)' });

  const holderId = createHolderCrypto(deps.masterKey).decrypt(old.holderIdEncrypted);
  if (r.holder && (r.holder.kind !== old.holderKind || r.holder.id.trim().toUpperCase() !== holderId.toUpperCase()))
    errors.push({ field: 'holder.id', message: `a ${r.kind} keeps the holder of ${number}` });

  // The old face in clear (ID fields decrypted), restricted to the fields of the version in force.
  const oldVersion = await getTypeVersion(deps.db, old.typeCode, old.typeVersion);
  const oldFace = createFaceCrypto(deps.masterKey).open(oldVersion?.faceFields ?? [], old.faceData);
  const keys = version.faceFields.map((f) => f.key);
  const faceData = mergeFace(keys, oldFace, r.faceData);
  if (r.kind === 'change' && changedFields(keys, oldFace, faceData).length === 0)
    errors.push({ field: 'faceData', message: 'a change alters at least one face field' });
  if (errors.length) throw invalidError(`The ${r.kind} has invalid fields`, errors);

  if ((await openReplacements(deps.db, number)).length)
    throw new ServiceError('conflict', `${number} already has a change, renewal or reissue under way`, {
      code: 'ReplacementUnderWay',
    });
  // A changed name on the face (e.g. a company renamed) is the holder's new name.
  const nameField = version.holderNameField;
  const newName = nameField && typeof faceData[nameField] === 'string' ? (faceData[nameField] as string) : undefined;
  return {
    replacesNumber: number,
    kindReason: reason,
    holder: { kind: old.holderKind, id: holderId, name: newName ?? old.holderName },
    faceData,
  };
}
