import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { HolderCrypto } from '../platform/holder-crypto';
import { holderIdOf, type HolderId } from '../domain/holder';
import { creditCodeCheckChar, residentIdCheckChar, USCC_ALPHABET } from '../domain/check-digits';
import { formatCertificateNumber } from '../domain/certificate-number';
import { buildIdentifier, buildTypeCode } from '../domain/identifier';
import type { CertificateStatus } from '../domain/certificate-record';

/**
 * Well-formed certificate rows for the catalog bench (bench/catalog.ts) and the catalog tests,
 * written straight into the certificates table — not through the workflow. Numbers,
 * identifiers, resident IDs and credit codes carry valid check characters, holder IDs are
 * hashed and encrypted with platform/holder-crypto exactly as issuance does, and rows are
 * sized like real ones (face data, a ~1 KB canonical record, a ~2 KB CMS signature), so the
 * tests read query plans and the bench measures on the same shape of row.
 */

export interface Department {
  code: string;
  name: string;
  regionCode: string;
  creditCode: string;
}

export interface TypeSpec {
  code: string;
  name: string;
  department: string;
  holderKind: 'person' | 'entity';
  /** Months of validity; null = permanent. */
  months: number | null;
}

/** Districts and counties of Hangzhou (GB/T 2260). */
export const REGIONS = [
  '330102',
  '330105',
  '330106',
  '330108',
  '330109',
  '330110',
  '330111',
  '330112',
  '330113',
  '330114',
  '330122',
  '330127',
  '330182',
];

const DEPARTMENT_NAMES: [string, string][] = [
  ['market', '市场监督管理局'],
  ['health', '卫生健康委员会'],
  ['education', '教育局'],
  ['transport', '交通运输局'],
  ['housing', '住房和城乡建设局'],
  ['civil', '民政局'],
  ['hrss', '人力资源和社会保障局'],
  ['resources', '规划和自然资源局'],
  ['ecology', '生态环境局'],
  ['agri', '农业农村局'],
  ['culture', '文化广电旅游局'],
  ['emergency', '应急管理局'],
  ['police', '公安局'],
  ['justice', '司法局'],
  ['commerce', '商务局'],
  ['water', '林业水利局'],
  ['sports', '体育局'],
  ['veterans', '退役军人事务局'],
  ['tax', '税务局'],
  ['drugs', '药品监督管理局'],
];

/** A credit code for a government body: 11 (organ of state) + region + a sequence, with its check character. */
export function governmentCreditCode(region: string, n: number): string {
  const body = `11${region}${toUscc(n, 9)}`;
  return body + creditCodeCheckChar(body);
}

export function benchDepartments(count = 20): Department[] {
  return DEPARTMENT_NAMES.slice(0, count).map(([code, name], i) => ({
    code,
    name,
    regionCode: '330100',
    creditCode: governmentCreditCode('330100', 7000 + i),
  }));
}

/** Three types per department: one for companies, one for people, and one more of either. */
export function benchTypes(departments: Department[]): TypeSpec[] {
  return departments.flatMap((d, i) => [
    {
      code: `E${String(i).padStart(2, '0')}`,
      name: `${d.name.replace(/局|委员会/, '')}许可证`,
      department: d.code,
      holderKind: 'entity' as const,
      months: 60,
    },
    {
      code: `P${String(i).padStart(2, '0')}`,
      name: `${d.name.replace(/局|委员会/, '')}资格证`,
      department: d.code,
      holderKind: 'person' as const,
      months: i % 3 === 0 ? null : 36,
    },
    {
      code: `X${String(i).padStart(2, '0')}`,
      name: `${d.name.replace(/局|委员会/, '')}备案凭证`,
      department: d.code,
      holderKind: i % 2 ? ('person' as const) : ('entity' as const),
      months: 24,
    },
  ]);
}

function toUscc(n: number, width: number): string {
  let s = '';
  for (let i = 0; i < width; i++) {
    s = USCC_ALPHABET[n % 31] + s;
    n = Math.floor(n / 31);
  }
  return s;
}

/** The n-th person's resident ID: region, birth date and sequence derived from n, so distinct n give distinct IDs. */
export function personId(n: number): string {
  const region = REGIONS[n % REGIONS.length]!;
  const birth = new Date(Date.UTC(1950, 0, 1) + (Math.floor(n / REGIONS.length) % 20_000) * 86_400_000);
  const seq = String(Math.floor(n / (REGIONS.length * 20_000)) % 1000).padStart(3, '0');
  const body = region + birth.toISOString().slice(0, 10).replace(/-/g, '') + seq;
  return body + residentIdCheckChar(body);
}

/** The n-th company's unified social credit code (91: enterprise registered with market regulation). */
export function entityId(n: number): string {
  const body = `91${REGIONS[n % REGIONS.length]}MA${toUscc(n, 7)}`;
  return body + creditCodeCheckChar(body);
}

const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈';
const GIVEN = '伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉兰文浩宇欣怡子涵雨轩梓晨思远';
const FIRMS = [
  '数字科技',
  '餐饮管理',
  '建筑工程',
  '医药连锁',
  '物流',
  '文化传媒',
  '生物科技',
  '机械制造',
  '电子商务',
  '农业发展',
  '旅游服务',
  '环保科技',
];

export function holderName(kind: 'person' | 'entity', n: number): string {
  if (kind === 'person')
    return (
      SURNAMES[n % SURNAMES.length]! + GIVEN[(n * 7) % GIVEN.length]! + (n % 3 ? GIVEN[(n * 13) % GIVEN.length]! : '')
    );
  return `杭州${SURNAMES[n % SURNAMES.length]}氏${FIRMS[n % FIRMS.length]}有限公司`;
}

export interface RowSpec {
  type: TypeSpec;
  department: Department;
  region: string;
  holder: { kind: 'person' | 'entity'; id: string; name: string };
  issuedAt: Date;
  status: CertificateStatus;
  serial: number;
  sealId: number;
  applicationId?: string;
}

/** Per department: the signer certificate a real CMS signature embeds (the same bytes in every signature it makes). */
const signerBlobs = new Map<string, string>();

/** A certificates-table row for this spec, ready for a multi-row INSERT. */
export function certificateRow(
  s: RowSpec,
  holders: HolderCrypto,
  hashOf: (id: HolderId) => string = holders.lookupHash,
): Record<string, unknown> {
  const holderId = holderIdOf(s.holder.kind, s.holder.id);
  const year = Number(new Date(s.issuedAt.getTime() + 8 * 3_600_000).toISOString().slice(0, 4));
  const number = formatCertificateNumber({ typeCode: s.type.code, region: s.region, year, serial: s.serial });
  const identifier = buildIdentifier({
    typeCode: buildTypeCode(s.department.creditCode, 1 + (s.type.code.charCodeAt(0) % 9)),
    issuerCode: s.department.creditCode,
    serial: `${s.type.code}${s.region}${year}${String(s.serial).padStart(7, '0')}`
      .replace(/[^0-9A-Z]/g, '')
      .slice(0, 32),
    version: 1,
  });
  const validFrom = new Date(s.issuedAt.getTime() + 8 * 3_600_000).toISOString().slice(0, 10);
  const until =
    s.type.months === null
      ? null
      : new Date(Date.UTC(year, Number(validFrom.slice(5, 7)) - 1 + s.type.months, Number(validFrom.slice(8, 10)) - 1));
  const face =
    s.holder.kind === 'entity'
      ? {
          entityName: s.holder.name,
          creditCode: s.holder.id,
          legalRepresentative: holderName('person', s.serial),
          address: `杭州市${s.region}区文三路${s.serial % 500}号`,
          businessScope: '计算机软硬件的技术开发、技术咨询、技术服务；餐饮服务；食品销售。',
        }
      : {
          name: s.holder.name,
          idNumber: s.holder.id,
          qualification: s.type.name,
          level: ['初级', '中级', '高级'][s.serial % 3],
          workUnit: `杭州市第${(s.serial % 9) + 1}人民医院`,
        };
  const pdf = createHash('sha256').update(number).digest('hex');
  const record = JSON.stringify({
    format: 'certflow-record/1',
    number,
    identifier,
    type: { code: s.type.code, version: 1, name: s.type.name },
    issuer: { department: s.department.code, name: s.department.name, code: s.department.creditCode, region: s.region },
    holder: { kind: s.holder.kind, name: s.holder.name, idBinding: hashOf(holderId) },
    issuedOn: validFrom,
    validity: { from: validFrom, until: until?.toISOString().slice(0, 10) ?? null },
    face,
    document: { sha256: pdf, mediaType: 'application/pdf' },
  });
  let signer = signerBlobs.get(s.department.code);
  if (!signer) signerBlobs.set(s.department.code, (signer = randomBytes(1300).toString('base64')));
  const now = s.issuedAt;
  return {
    number,
    identifier,
    application_id: s.applicationId ?? randomUUID(),
    type_code: s.type.code,
    type_version: 1,
    type_name: s.type.name,
    department: s.department.code,
    issuer_name: s.department.name,
    issuer_code: s.department.creditCode,
    region_code: s.region,
    holder_kind: s.holder.kind,
    holder_code_type: s.holder.kind === 'person' ? '111' : '001',
    holder_name: s.holder.name,
    holder_id_hash: hashOf(holderId),
    holder_id_encrypted: holders.encrypt(holderId),
    face_data: JSON.stringify(face),
    issued_at: s.issuedAt,
    valid_from: validFrom,
    valid_until: until ? until.toISOString().slice(0, 10) : null,
    status: s.status,
    status_changed_at: now,
    status_reason: s.status === 'valid' || s.status === 'expired' ? null : '依申请注销',
    pdf_sha256: pdf,
    docx_sha256: createHash('sha256').update(`docx ${number}`).digest('hex'),
    record_sha256: createHash('sha256').update(record).digest('hex'),
    record,
    // A detached CMS SignedData is the signer certificate plus a ~256-byte signature and attributes.
    record_signature: signer + randomBytes(420).toString('base64'),
    signer_serial: s.department.creditCode.slice(-8),
    seal_id: s.sealId,
    seal_name: `${s.department.name}电子印章`,
    sealed_by: `${s.department.code}-sealer`,
    sealed_at: now,
    catalog_registered_at: now,
    catalog_attempts: 1,
    created_at: now,
  };
}

/** The applications row a certificate row belongs to (for databases that check the foreign key). */
export function applicationRow(cert: Record<string, unknown>): Record<string, unknown> {
  return {
    id: cert.application_id,
    type_code: cert.type_code,
    type_version: 1,
    department: cert.department,
    mode: 'auto-seal',
    status: 'issued',
    holder_kind: cert.holder_kind,
    holder_name: cert.holder_name,
    holder_id_hash: cert.holder_id_hash,
    holder_id_encrypted: cert.holder_id_encrypted,
    revision: 1,
    submitter_type: 'system',
    submitter_id: 'catalog-data',
    workflow_id: `issuance-${cert.application_id as string}`,
    certificate_number: cert.number,
    created_at: cert.created_at,
    updated_at: cert.created_at,
  };
}

// ------------------------------------------------------------------ bulk generation

export interface Universe {
  departments: Department[];
  types: TypeSpec[];
  /** Distinct holders of each kind: holder n of a kind is personId(n) / entityId(n). */
  persons: number;
  entities: number;
  from: Date;
  to: Date;
  sealIds: Record<string, number>;
  /** "Today" for deciding which certificates have expired. */
  now: Date;
}

/** mulberry32: a tiny seeded PRNG, so row i is the same row on every run. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The holder row i picks: skewed (u²), so a few holders have many certificates and most have one or two. */
export function holderFor(kind: 'person' | 'entity', u: number, pool: number) {
  const n = Math.floor(pool * u * u);
  return { kind, id: kind === 'person' ? personId(n) : entityId(n), name: holderName(kind, n) };
}

export interface Generator {
  /** Rows [start, start + count) of a catalog of `total`; call with consecutive ranges from 0. */
  batch(start: number, count: number): Record<string, unknown>[];
}

/**
 * Rows in issue order (ids grow with time, as on a live system), more recent years busier,
 * types weighted (some are issued far more than others), statuses following validity: past
 * its end date a certificate is expired; a few percent are revoked, cancelled or suspended.
 */
export function catalogGenerator(u: Universe, total: number, holders: HolderCrypto): Generator {
  const serials = new Map<string, number>();
  const hashes = new Map<string, string>();
  const hashOf = (id: HolderId) => {
    let h = hashes.get(id);
    if (!h) hashes.set(id, (h = holders.lookupHash(id)));
    return h;
  };
  const departments = new Map(u.departments.map((d) => [d.code, d]));
  const weights = u.types.map((_, i) => 1 / (1 + (i % 7)));
  const weightSum = weights.reduce((a, b) => a + b, 0);
  const span = u.to.getTime() - u.from.getTime();
  return {
    batch(start, count) {
      const rows: Record<string, unknown>[] = [];
      for (let i = start; i < start + count && i < total; i++) {
        const r = rng(i * 2654435761);
        let pick = r() * weightSum;
        let t = 0;
        while (t < u.types.length - 1 && (pick -= weights[t]!) > 0) t++;
        const type = u.types[t]!;
        const department = departments.get(type.department)!;
        const holder = holderFor(type.holderKind, r(), type.holderKind === 'person' ? u.persons : u.entities);
        const issuedAt = new Date(u.from.getTime() + Math.pow(i / total, 0.8) * span + Math.floor(r() * 3_600_000));
        const region = REGIONS[Math.floor(r() * REGIONS.length)]!;
        const year = new Date(issuedAt.getTime() + 8 * 3_600_000).getUTCFullYear();
        const key = `${type.code}-${region}-${year}`;
        const serial = (serials.get(key) ?? 0) + 1;
        serials.set(key, serial);
        const expired = type.months !== null && issuedAt.getTime() + type.months * 30.4 * 86_400_000 < u.now.getTime();
        const s = r();
        const status: CertificateStatus =
          s < 0.03
            ? 'revoked'
            : s < 0.05
              ? 'cancelled'
              : s < 0.06
                ? 'suspended'
                : s < 0.065
                  ? 'withdrawn'
                  : expired
                    ? 'expired'
                    : 'valid';
        rows.push(
          certificateRow(
            { type, department, region, holder, issuedAt, status, serial, sealId: u.sealIds[department.code] ?? 1 },
            holders,
            hashOf,
          ),
        );
      }
      return rows;
    },
  };
}
