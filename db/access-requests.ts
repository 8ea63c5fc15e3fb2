import type { Db } from './knex';
import { toIso } from './knex';

/**
 * Access requests between departments and the issuing departments' auto-approval rules
 * (migration 018, docs/sharing.md). A request row is its own kind of inbox item: `tasks` rows
 * belong to applications. Decisions are conditional updates, so two handlers deciding at once,
 * or a decision racing the expiry, cannot both win.
 */

export type AccessRequestStatus = 'open' | 'approved' | 'rejected' | 'expired';

export interface AccessRequest {
  id: string;
  department: string;
  requesterDepartment: string;
  requesterType: 'user' | 'api-client';
  requesterId: string;
  requesterName: string;
  apiClientId: string | null;
  scope: 'certificate' | 'holder-type';
  certificateNumber: string | null;
  holderHash: string | null;
  holderKind: 'person' | 'entity' | null;
  typeCode: string;
  matter: string;
  reason: string;
  validUntil: string;
  callbackUrl: string | null;
  status: AccessRequestStatus;
  dueAt: string | null;
  overdue: boolean;
  escalated: boolean;
  decidedBy: string | null;
  comment: string | null;
  ruleId: number | null;
  grantIds: string[];
  notifiedAt: string | null;
  createdAt: string;
  decidedAt: string | null;
}

type Row = Record<string, unknown>;
const time = (v: unknown) => (v === null || v === undefined ? null : toIso(v as Date | string | number));

function toRequest(r: Row): AccessRequest {
  return {
    id: r.id as string,
    department: r.department as string,
    requesterDepartment: r.requester_department as string,
    requesterType: r.requester_type as AccessRequest['requesterType'],
    requesterId: r.requester_id as string,
    requesterName: r.requester_name as string,
    apiClientId: (r.api_client_id as string | null) ?? null,
    scope: r.scope as AccessRequest['scope'],
    certificateNumber: (r.certificate_number as string | null) ?? null,
    holderHash: (r.holder_hash as string | null) ?? null,
    holderKind: (r.holder_kind as AccessRequest['holderKind']) ?? null,
    typeCode: r.type_code as string,
    matter: r.matter as string,
    reason: r.reason as string,
    validUntil: time(r.valid_until)!,
    callbackUrl: (r.callback_url as string | null) ?? null,
    status: r.status as AccessRequestStatus,
    dueAt: time(r.due_at),
    overdue: Boolean(r.overdue),
    escalated: Boolean(r.escalated),
    decidedBy: (r.decided_by as string | null) ?? null,
    comment: (r.comment as string | null) ?? null,
    ruleId: r.rule_id === null || r.rule_id === undefined ? null : Number(r.rule_id),
    grantIds: r.grant_ids ? (JSON.parse(r.grant_ids as string) as string[]) : [],
    notifiedAt: time(r.notified_at),
    createdAt: time(r.created_at)!,
    decidedAt: time(r.decided_at),
  };
}

export type NewAccessRequest = Omit<
  AccessRequest,
  | 'status'
  | 'overdue'
  | 'escalated'
  | 'decidedBy'
  | 'comment'
  | 'ruleId'
  | 'grantIds'
  | 'notifiedAt'
  | 'createdAt'
  | 'decidedAt'
>;

export async function insertAccessRequest(db: Db, r: NewAccessRequest): Promise<AccessRequest> {
  await db('access_requests').insert({
    id: r.id,
    department: r.department,
    requester_department: r.requesterDepartment,
    requester_type: r.requesterType,
    requester_id: r.requesterId,
    requester_name: r.requesterName,
    api_client_id: r.apiClientId,
    scope: r.scope,
    certificate_number: r.certificateNumber,
    holder_hash: r.holderHash,
    holder_kind: r.holderKind,
    type_code: r.typeCode,
    matter: r.matter,
    reason: r.reason,
    valid_until: new Date(r.validUntil),
    callback_url: r.callbackUrl,
    status: 'open',
    due_at: r.dueAt ? new Date(r.dueAt) : null,
    overdue: false,
    escalated: false,
    created_at: new Date(),
  });
  return (await getAccessRequest(db, r.id))!;
}

export async function getAccessRequest(db: Db, id: string): Promise<AccessRequest | undefined> {
  const r = (await db('access_requests').where({ id }).first()) as Row | undefined;
  return r ? toRequest(r) : undefined;
}

/** Decides an open request; false when it was no longer open. */
export async function decideAccessRequest(
  db: Db,
  id: string,
  d: { status: 'approved' | 'rejected' | 'expired'; decidedBy: string; comment: string | null; ruleId?: number },
): Promise<boolean> {
  const changed = await db('access_requests')
    .where({ id, status: 'open' })
    .update({
      status: d.status,
      decided_by: d.decidedBy,
      comment: d.comment,
      rule_id: d.ruleId ?? null,
      decided_at: new Date(),
    });
  return changed === 1;
}

export async function setAccessRequestGrants(db: Db, id: string, grantIds: string[]): Promise<void> {
  await db('access_requests')
    .where({ id })
    .update({ grant_ids: JSON.stringify(grantIds) });
}

export async function markAccessRequestOverdue(db: Db, id: string): Promise<void> {
  await db('access_requests').where({ id, status: 'open' }).update({ overdue: true, escalated: true });
}

export async function markAccessRequestNotified(db: Db, id: string): Promise<void> {
  await db('access_requests').where({ id }).whereNull('notified_at').update({ notified_at: new Date() });
}

/**
 * The issuing departments' inbox (`received`: requests to these departments; escalated ones
 * also to `escalatedTo`) or the requesters' view (`sent`: requests from these departments).
 */
export async function listAccessRequests(
  db: Db,
  f: {
    received?: string[];
    escalatedTo?: string[];
    sent?: string[];
    status?: AccessRequestStatus;
    limit: number;
  },
): Promise<AccessRequest[]> {
  const q = db('access_requests').where((w) => {
    if (f.received?.length) w.orWhereIn('department', f.received);
    if (f.escalatedTo?.length) w.orWhere((x) => x.whereIn('department', f.escalatedTo!).where('escalated', true));
    if (f.sent?.length) w.orWhereIn('requester_department', f.sent);
    if (!f.received?.length && !f.escalatedTo?.length && !f.sent?.length) w.whereRaw('1 = 0');
  });
  if (f.status) q.where('status', f.status);
  const rows = (await q.orderBy('created_at', 'desc').limit(f.limit)) as Row[];
  return rows.map(toRequest);
}

// ------------------------------------------------------------------ auto-approval rules

export interface SharingRule {
  id: number;
  department: string;
  typeCode: string;
  requesterDepartment: string;
  matter: string;
  active: boolean;
  createdBy: string;
  createdAt: string;
}

function toRule(r: Row): SharingRule {
  return {
    id: Number(r.id),
    department: r.department as string,
    typeCode: r.type_code as string,
    requesterDepartment: r.requester_department as string,
    matter: r.matter as string,
    active: Boolean(r.active),
    createdBy: r.created_by as string,
    createdAt: time(r.created_at)!,
  };
}

export async function insertSharingRule(
  db: Db,
  r: Omit<SharingRule, 'id' | 'active' | 'createdAt'>,
): Promise<SharingRule> {
  const [id] = await db('sharing_rules').insert({
    department: r.department,
    type_code: r.typeCode,
    requester_department: r.requesterDepartment,
    matter: r.matter,
    active: true,
    created_by: r.createdBy,
    created_at: new Date(),
  });
  return toRule(
    (await db('sharing_rules')
      .where({ id: Number(id) })
      .first()) as Row,
  );
}

export async function listSharingRules(db: Db, department: string): Promise<SharingRule[]> {
  const rows = (await db('sharing_rules').where({ department, active: true }).orderBy('id')) as Row[];
  return rows.map(toRule);
}

export async function getSharingRule(db: Db, id: number): Promise<SharingRule | undefined> {
  const r = (await db('sharing_rules').where({ id }).first()) as Row | undefined;
  return r ? toRule(r) : undefined;
}

export async function deactivateSharingRule(db: Db, id: number): Promise<boolean> {
  return (await db('sharing_rules').where({ id, active: true }).update({ active: false })) === 1;
}

/** The active rule that approves this request by itself, if any: same type, department and matter. */
export async function matchingRule(
  db: Db,
  r: { department: string; typeCode: string; requesterDepartment: string; matter: string },
): Promise<SharingRule | undefined> {
  const row = (await db('sharing_rules')
    .where({
      department: r.department,
      type_code: r.typeCode,
      requester_department: r.requesterDepartment,
      matter: r.matter,
      active: true,
    })
    .orderBy('id')
    .first()) as Row | undefined;
  return row ? toRule(row) : undefined;
}
