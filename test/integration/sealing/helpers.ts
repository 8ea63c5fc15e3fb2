import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Db } from '../../../db/knex';
import type { ActivityDeps } from '../../../activities';
import type { PdfConverter } from '../../../services/documents/convert';
import { createFileBlobStore } from '../../../platform/blobs';
import { createHolderCrypto } from '../../../platform/holder-crypto';
import { holderIdOf } from '../../../domain/holder';
import { seedDemo, seedDemoTypes, DEMO_TYPES } from '../../../db/seed-demo';
import { ensureDevelopmentTrust } from '../../../services/trust/seals';
import {
  sealingActivities,
  renderQueueActivities,
  type SealingActivities,
  type RenderQueueActivities,
} from '../../../activities/sealing';
import { createType, setTypeStatus } from '../../../db/certificate-types';
import { getDepartment } from '../../../db/org';
import { testDeps } from '../../support/app';

/** Valid face data for the demo types (business licence, food business permit). */
export const FACE_DATA: Record<string, Record<string, unknown>> = {
  BL: {
    entityName: '杭州西湖数字科技有限公司',
    creditCode: '91350100M000100Y43',
    entityType: '有限责任公司',
    legalRepresentative: '王建国',
    businessScope: '计算机软硬件的技术开发、技术咨询、技术服务。',
    registeredCapital: '人民币伍佰万元整',
    establishedOn: '2019-06-18',
    address: '杭州市西湖区文三路90号',
  },
  FBP: {
    operatorName: '杭州味之源餐饮店',
    creditCode: '91350100M000100Y43',
    legalRepresentative: '李秀英',
    address: '杭州市上城区南山路3号',
    premises: '杭州市上城区南山路3号101铺',
    businessFormat: '餐饮服务经营者',
    businessItems: ['热食类食品制售', '冷食类食品制售'],
  },
};

export interface SealingSetup {
  deps: ActivityDeps;
  blobDir: string;
  acts: SealingActivities;
  render: RenderQueueActivities;
}

/** Demo departments, staff, development seals and the two demo types, plus a person-holder type `PQ`. */
export async function setupSealing(
  db: Db,
  converter: PdfConverter,
  overrides: Partial<ActivityDeps> = {},
): Promise<SealingSetup> {
  const blobDir = fs.mkdtempSync(path.join(os.tmpdir(), 'certflow-sealing-blobs-'));
  const deps = testDeps(db, { blobs: createFileBlobStore(blobDir), converter, ...overrides });
  await seedDemo(db, 'certflow-demo');
  await ensureDevelopmentTrust(deps);
  await seedDemoTypes(db, deps.blobs);
  // A qualification-style type held by a person, on the business licence template.
  const bl = DEMO_TYPES[0]!;
  const template = (await db('certificate_type_versions').orderBy('id').first('template_sha256'))
    .template_sha256 as string;
  await createType(db, {
    code: 'PQ',
    departmentId: (await getDepartment(db, 'market'))!.id,
    definition: {
      ...structuredClone(bl.definition),
      name: '个体经营资格证',
      holderKind: 'person',
      validity: { kind: 'term', months: 36 },
      holderIdField: undefined,
      holderNameField: undefined,
    },
    templateSha256: template,
    createdBy: 'test',
  });
  await setTypeStatus(db, 'PQ', 'published', 1);
  return { deps, blobDir, acts: sealingActivities(deps), render: renderQueueActivities(deps) };
}

export interface NewApplication {
  typeCode?: string;
  holder?: { kind: 'person' | 'entity'; id: string; name: string };
  faceData?: Record<string, unknown>;
  callbackUrl?: string | null;
  externalRef?: string | null;
  submitter?: { type: 'api-client' | 'user'; id: string };
  status?: string;
}

/** An approved application, written straight into the tables the issuance workflow fills. */
export async function createApplication(db: Db, masterKey: Buffer, a: NewApplication = {}): Promise<string> {
  const id = randomUUID();
  const typeCode = a.typeCode ?? 'BL';
  const holder = a.holder ?? { kind: 'entity', id: '91350100M000100Y43', name: '杭州西湖数字科技有限公司' };
  const crypto = createHolderCrypto(masterKey);
  const now = new Date();
  await db('applications').insert({
    id,
    type_code: typeCode,
    type_version: 1,
    department: 'market',
    mode: 'review',
    status: a.status ?? 'sealing',
    holder_kind: holder.kind,
    holder_name: holder.name,
    holder_id_hash: crypto.lookupHash(holderIdOf(holder.kind, holder.id)),
    holder_id_encrypted: crypto.encrypt(holderIdOf(holder.kind, holder.id)),
    revision: 1,
    submitter_type: a.submitter?.type ?? 'user',
    submitter_id: a.submitter?.id ?? 'market-filler',
    submitter_name: null,
    dedupe_key: null,
    external_ref: a.externalRef ?? null,
    callback_url: a.callbackUrl ?? null,
    workflow_id: `issuance-${id}`,
    certificate_number: null,
    created_at: now,
    updated_at: now,
  });
  await db('application_revisions').insert({
    application_id: id,
    revision: 1,
    face_data: JSON.stringify(a.faceData ?? FACE_DATA[typeCode === 'PQ' ? 'BL' : typeCode]),
    created_by: 'market-filler',
    created_at: now,
  });
  return id;
}

export interface Issued {
  number: string;
  docxSha: string;
  pdfSha: string;
  signedPdfSha: string;
  recordSha: string;
  signature: string;
}

/** The sealing steps in the order the workflow runs them, up to and including the store. */
export async function issue(s: Pick<SealingSetup, 'acts' | 'render'>, applicationId: string): Promise<Issued> {
  const number = await s.acts.allocateCertificateNumber(applicationId);
  const docxSha = await s.acts.renderCertificate(applicationId);
  const pdfSha = await s.render.convertCertificate(docxSha);
  const signed = await s.acts.signCertificate(applicationId, pdfSha);
  await s.acts.storeCertificate(applicationId, { docxSha, ...signed });
  return { number, docxSha, pdfSha, ...signed };
}

/** Every blob file under the store's directory (temp files included: there must be none). */
export function blobFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(e.name);
    }
  };
  walk(dir);
  return out.sort();
}

/** Every blob some row names: templates, seal images, renditions, certificates. */
export async function referencedBlobs(db: Db): Promise<string[]> {
  const shas = new Set<string>();
  for (const r of await db('certificate_type_versions').whereNotNull('template_sha256').select('template_sha256'))
    shas.add(r.template_sha256);
  for (const r of await db('seals').select('image_sha256')) shas.add(r.image_sha256);
  for (const r of await db('pdf_renditions').select('pdf_sha256')) shas.add(r.pdf_sha256);
  for (const r of await db('certificates').select('docx_sha256', 'pdf_sha256', 'record_sha256')) {
    shas.add(r.docx_sha256);
    shas.add(r.pdf_sha256);
    shas.add(r.record_sha256);
  }
  return [...shas].sort();
}
