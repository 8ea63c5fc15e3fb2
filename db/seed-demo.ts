import fs from 'node:fs';
import path from 'node:path';
import type { Db } from './knex';
import type { BlobStore } from '../platform/blobs';
import type { CertificateTypeDefinition } from '../domain/certificate-type';
import { createType, getType, setTypeStatus } from './certificate-types';
import type { Role } from '../domain/access';
import { addRole, createDepartment, createUser, getDepartment } from './org';
import { hashPassword } from '../platform/secrets';

/**
 * Demo data for the embedded default (never with NODE_ENV=production): two departments and
 * one user per role, so a newcomer can sign in as each kind of staff and walk a certificate
 * through the whole chain. Seeded only into an empty database.
 */
export const DEMO_DEPARTMENTS = [
  { code: 'market', name: '市场监督管理局', regionCode: '330100' },
  { code: 'health', name: '卫生健康委员会', regionCode: '330100' },
] as const;

const DEPARTMENT_ROLES: { suffix: string; role: Role; zh: string }[] = [
  { suffix: 'admin', role: 'department-admin', zh: '管理员' },
  { suffix: 'filler', role: 'filler', zh: '填报员' },
  { suffix: 'reviewer', role: 'reviewer', zh: '审核员' },
  { suffix: 'sealer', role: 'sealing-officer', zh: '机要员' },
  { suffix: 'handler', role: 'handler', zh: '经办员' },
];

export interface DemoLogin {
  username: string;
  role: Role;
  department: string | null;
}

export function demoLogins(): DemoLogin[] {
  return [
    ...DEMO_DEPARTMENTS.flatMap((d) =>
      DEPARTMENT_ROLES.map((r) => ({ username: `${d.code}-${r.suffix}`, role: r.role, department: d.code })),
    ),
    { username: 'auditor', role: 'audit-admin', department: null },
    { username: 'platform-admin', role: 'platform-admin', department: null },
  ];
}

/** Returns true when it seeded (the database had no departments). */
export async function seedDemo(db: Db, password: string): Promise<boolean> {
  const [{ n }] = (await db('departments').count({ n: '*' })) as [{ n: number | string }];
  if (Number(n) > 0) return false;
  const passwordHash = await hashPassword(password);
  await db.transaction(async (trx) => {
    for (const d of DEMO_DEPARTMENTS) await createDepartment(trx, d);
    for (const login of demoLogins()) {
      const dept = login.department ? await getDepartment(trx, login.department) : null;
      const zh = DEPARTMENT_ROLES.find((r) => r.role === login.role)?.zh;
      const displayName = dept ? `${dept.name}${zh}` : login.role === 'audit-admin' ? '审计管理员' : '平台管理员';
      const id = await createUser(trx, { username: login.username, displayName, passwordHash });
      await addRole(trx, id, login.role, dept ?? null);
    }
  });
  return true;
}

/** The two demo certificate types, with the sample templates shipped in templates/. */
export const DEMO_TYPES: {
  code: string;
  department: string;
  template: string;
  definition: CertificateTypeDefinition;
}[] = [
  {
    code: 'BL',
    department: 'market',
    template: 'business-licence.docx',
    definition: {
      name: '营业执照',
      holderKind: 'entity',
      validity: { kind: 'permanent' },
      faceFields: [
        { key: 'entityName', label: '名称', type: 'text', required: true, maxLength: 100, catalog: true },
        { key: 'creditCode', label: '统一社会信用代码', type: 'creditCode', required: true, catalog: true },
        {
          key: 'entityType',
          label: '类型',
          type: 'enum',
          required: true,
          options: ['有限责任公司', '股份有限公司', '个人独资企业', '合伙企业', '个体工商户'],
          catalog: true,
        },
        { key: 'legalRepresentative', label: '法定代表人', type: 'text', required: true, maxLength: 50 },
        { key: 'businessScope', label: '经营范围', type: 'text', required: true, maxLength: 2000 },
        { key: 'registeredCapital', label: '注册资本', type: 'text', required: true, maxLength: 50 },
        { key: 'establishedOn', label: '成立日期', type: 'date', required: true, catalog: true },
        { key: 'address', label: '住所', type: 'text', required: true, maxLength: 200 },
      ],
      approvalChain: [
        { key: 'review', name: '审核', role: 'reviewer', deadlineHours: 24, escalate: true },
        { key: 'seal', name: '签章', role: 'sealing-officer', deadlineHours: 8 },
      ],
      sealId: null,
      description: '企业、个体工商户的营业执照（演示）',
      holderIdField: 'creditCode',
      holderNameField: 'entityName',
    },
  },
  {
    code: 'FBP',
    department: 'market',
    template: 'food-business-permit.docx',
    definition: {
      name: '食品经营许可证',
      holderKind: 'entity',
      validity: { kind: 'term', months: 60 },
      faceFields: [
        { key: 'operatorName', label: '经营者名称', type: 'text', required: true, maxLength: 100, catalog: true },
        { key: 'creditCode', label: '社会信用代码', type: 'creditCode', required: true, catalog: true },
        { key: 'legalRepresentative', label: '法定代表人（负责人）', type: 'text', required: true, maxLength: 50 },
        { key: 'address', label: '住所', type: 'text', required: true, maxLength: 200 },
        { key: 'premises', label: '经营场所', type: 'text', required: true, maxLength: 200 },
        {
          key: 'businessFormat',
          label: '主体业态',
          type: 'enum',
          required: true,
          options: ['食品销售经营者', '餐饮服务经营者', '单位食堂'],
          catalog: true,
        },
        { key: 'businessItems', label: '经营项目', type: 'list', required: true, maxItems: 20 },
      ],
      approvalChain: [
        { key: 'review', name: '审核', role: 'reviewer', deadlineHours: 48, escalate: true },
        { key: 'seal', name: '签章', role: 'sealing-officer', deadlineHours: 8 },
      ],
      sealId: null,
      description: '食品销售、餐饮服务经营许可（演示）',
      holderIdField: 'creditCode',
      holderNameField: 'operatorName',
    },
  },
];

/** Seeds and publishes the demo types where they do not exist yet. */
export async function seedDemoTypes(
  db: Db,
  blobs: BlobStore,
  templatesDir = path.resolve(__dirname, '..', 'templates'),
): Promise<string[]> {
  const seeded: string[] = [];
  for (const t of DEMO_TYPES) {
    if (await getType(db, t.code)) continue;
    const dept = await getDepartment(db, t.department);
    if (!dept) continue;
    const templateSha256 = await blobs.put(fs.readFileSync(path.join(templatesDir, t.template)));
    await createType(db, {
      code: t.code,
      departmentId: dept.id,
      definition: t.definition,
      templateSha256,
      createdBy: 'demo-seed',
    });
    await setTypeStatus(db, t.code, 'published', 1);
    seeded.push(t.code);
  }
  return seeded;
}

/**
 * Demo holders for the holder portal (docs/holders.md): the development identity provider
 * `certflow start` mounts (main/dev-idp.ts) signs them in, and their certificates are issued at
 * start through the normal pipeline. The company holds a business licence and a food permit;
 * the person holds a certificate of each demo type issued to persons (none among BL and FBP).
 */
export const DEMO_HOLDERS = {
  person: { account: 'demo-person', kind: 'person', id: '330106198506121237', name: '王小明' },
  company: {
    account: 'demo-company',
    kind: 'entity',
    id: '91330106MA2B3C4DB0',
    name: '杭州西湖示例科技有限公司',
    agent: { id: '33010619900101123X', name: '张三' },
  },
} as const;

/**
 * The demo company's business licence (BL) face data: also the example of the API document
 * (api/schemas/submission.ts) and the tests' LICENCE, so all three stay one.
 */
export const DEMO_LICENCE_FACE_DATA = {
  entityName: DEMO_HOLDERS.company.name as string,
  creditCode: DEMO_HOLDERS.company.id as string,
  entityType: '有限责任公司',
  legalRepresentative: DEMO_HOLDERS.company.agent.name as string,
  businessScope: '软件开发；信息技术咨询服务。',
  registeredCapital: '100万元',
  establishedOn: '2024-03-15',
  address: '浙江省杭州市西湖区文三路1号',
};

/** Face data of the company's demo certificates, per type code. */
export const DEMO_HOLDER_FACE_DATA: Record<string, Record<string, unknown>> = {
  BL: DEMO_LICENCE_FACE_DATA,
  FBP: {
    operatorName: DEMO_HOLDERS.company.name,
    creditCode: DEMO_HOLDERS.company.id,
    legalRepresentative: DEMO_HOLDERS.company.agent.name,
    address: '浙江省杭州市西湖区文三路1号',
    premises: '浙江省杭州市西湖区文三路1号一楼',
    businessFormat: '餐饮服务经营者',
    businessItems: ['热食类食品制售', '冷食类食品制售'],
  },
};
