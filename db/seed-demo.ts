import type { Db } from './knex';
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
    ...DEMO_DEPARTMENTS.flatMap((d) => DEPARTMENT_ROLES.map((r) => ({ username: `${d.code}-${r.suffix}`, role: r.role, department: d.code }))),
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
