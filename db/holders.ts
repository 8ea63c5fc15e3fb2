import type { Db } from './knex';
import { toIso } from './knex';

/**
 * The holder portal's tables (migration 014, docs/holders.md): sign-ins in flight, holder
 * sessions, consent grants and show-codes. Holder IDs appear only as lookup hashes and
 * ciphertext (platform/holder-crypto.ts); tokens and codes only as hashes.
 */

const now = () => new Date();

// ------------------------------------------------------------------ sign-ins in flight

export interface PendingLogin {
  codeVerifier: string;
  nonce: string;
  returnTo: string | null;
}

export async function savePendingLogin(
  db: Db,
  stateHash: string,
  login: PendingLogin,
  ttlSeconds: number,
): Promise<void> {
  // Abandoned sign-ins are cleared on the way, so the table holds only the last minutes' worth.
  await db('holder_logins').where('expires_at', '<', now()).delete();
  await db('holder_logins').insert({
    state_hash: stateHash,
    code_verifier: login.codeVerifier,
    nonce: login.nonce,
    return_to: login.returnTo,
    expires_at: new Date(Date.now() + ttlSeconds * 1000),
  });
}

/** Takes the sign-in (once: a replayed redirect finds nothing), if it has not expired. */
export async function takePendingLogin(db: Db, stateHash: string): Promise<PendingLogin | undefined> {
  return db.transaction(async (trx) => {
    const row = (await trx('holder_logins').where({ state_hash: stateHash }).first()) as
      { code_verifier: string; nonce: string; return_to: string | null; expires_at: unknown } | undefined;
    if (!row) return undefined;
    const deleted = await trx('holder_logins').where({ state_hash: stateHash }).delete();
    if (deleted !== 1 || new Date(toIso(row.expires_at)) < now()) return undefined;
    return { codeVerifier: row.code_verifier, nonce: row.nonce, returnTo: row.return_to };
  });
}

// ------------------------------------------------------------------ sessions

export interface HolderSession {
  tokenHash: string;
  holderKind: 'person' | 'entity';
  holderHash: string;
  holderIdEncrypted: string;
  holderName: string;
  agentName: string | null;
  agentHash: string | null;
  issuer: string;
  subject: string;
  expiresAt: string;
}

type SessionRecord = {
  token_hash: string;
  holder_kind: string;
  holder_hash: string;
  holder_id_encrypted: string;
  holder_name: string;
  agent_name: string | null;
  agent_hash: string | null;
  issuer: string;
  subject: string;
  expires_at: unknown;
};

function toSession(r: SessionRecord): HolderSession {
  return {
    tokenHash: r.token_hash,
    holderKind: r.holder_kind as 'person' | 'entity',
    holderHash: r.holder_hash,
    holderIdEncrypted: r.holder_id_encrypted,
    holderName: r.holder_name,
    agentName: r.agent_name,
    agentHash: r.agent_hash,
    issuer: r.issuer,
    subject: r.subject,
    expiresAt: toIso(r.expires_at),
  };
}

export async function createHolderSession(db: Db, s: HolderSession): Promise<void> {
  await db('holder_sessions').where('expires_at', '<', now()).delete();
  await db('holder_sessions').insert({
    token_hash: s.tokenHash,
    holder_kind: s.holderKind,
    holder_hash: s.holderHash,
    holder_id_encrypted: s.holderIdEncrypted,
    holder_name: s.holderName,
    agent_name: s.agentName,
    agent_hash: s.agentHash,
    issuer: s.issuer,
    subject: s.subject,
    created_at: now(),
    expires_at: new Date(s.expiresAt),
  });
}

export async function findHolderSession(db: Db, tokenHash: string): Promise<HolderSession | undefined> {
  const r = (await db('holder_sessions').where({ token_hash: tokenHash }).where('expires_at', '>', now()).first()) as
    SessionRecord | undefined;
  return r ? toSession(r) : undefined;
}

export async function endHolderSession(db: Db, tokenHash: string): Promise<void> {
  await db('holder_sessions').where({ token_hash: tokenHash }).delete();
}

// ------------------------------------------------------------------ grants

export type GrantStatus = 'active' | 'revoked' | 'expired';

export interface HolderGrant {
  id: string;
  certificateNumber: string;
  holderHash: string;
  department: string;
  apiClientId: string | null;
  matter: string;
  validUntil: string;
  status: GrantStatus;
  grantedBy: string;
  createdAt: string;
  endedAt: string | null;
}

type GrantRecord = {
  id: string;
  certificate_number: string;
  holder_hash: string;
  department: string;
  api_client_id: string | null;
  matter: string;
  valid_until: unknown;
  status: string;
  granted_by: string;
  created_at: unknown;
  ended_at: unknown;
};

function toGrant(r: GrantRecord): HolderGrant {
  return {
    id: r.id,
    certificateNumber: r.certificate_number,
    holderHash: r.holder_hash,
    department: r.department,
    apiClientId: r.api_client_id,
    matter: r.matter,
    validUntil: toIso(r.valid_until),
    status: r.status as GrantStatus,
    grantedBy: r.granted_by,
    createdAt: toIso(r.created_at),
    endedAt: r.ended_at === null || r.ended_at === undefined ? null : toIso(r.ended_at),
  };
}

export async function insertGrant(
  db: Db,
  g: Omit<HolderGrant, 'status' | 'createdAt' | 'endedAt'>,
): Promise<HolderGrant> {
  const row = {
    id: g.id,
    certificate_number: g.certificateNumber,
    holder_hash: g.holderHash,
    department: g.department,
    api_client_id: g.apiClientId,
    matter: g.matter,
    valid_until: new Date(g.validUntil),
    status: 'active',
    granted_by: g.grantedBy,
    created_at: now(),
    ended_at: null,
  };
  await db('holder_grants').insert(row);
  return toGrant(row);
}

export async function getGrant(db: Db, id: string): Promise<HolderGrant | undefined> {
  const r = (await db('holder_grants').where({ id }).first()) as GrantRecord | undefined;
  return r ? toGrant(r) : undefined;
}

export async function listGrantsOfHolder(db: Db, holderHash: string, limit = 200): Promise<HolderGrant[]> {
  const rows = (await db('holder_grants')
    .where({ holder_hash: holderHash })
    .orderBy('created_at', 'desc')
    .limit(limit)) as GrantRecord[];
  return rows.map(toGrant);
}

/** Active grants of a certificate to one department, for the access check. */
export async function activeGrantsFor(db: Db, number: string, department: string): Promise<HolderGrant[]> {
  const rows = (await db('holder_grants')
    .where({ certificate_number: number, department, status: 'active' })
    .where('valid_until', '>', now())) as GrantRecord[];
  return rows.map(toGrant);
}

/** Ends an active grant; false when it had ended already (so revoke and expiry race harmlessly). */
export async function endGrant(db: Db, id: string, status: 'revoked' | 'expired'): Promise<boolean> {
  const changed = await db('holder_grants').where({ id, status: 'active' }).update({ status, ended_at: now() });
  return changed === 1;
}

// ------------------------------------------------------------------ show-codes

export interface ShowCode {
  certificateNumber: string;
  holderHash: string;
  matter: string | null;
  expiresAt: string;
}

export async function insertShowCode(db: Db, codeHash: string, c: ShowCode): Promise<void> {
  await db('show_codes')
    .where('expires_at', '<', new Date(Date.now() - 86_400_000))
    .delete();
  await db('show_codes').insert({
    code_hash: codeHash,
    certificate_number: c.certificateNumber,
    holder_hash: c.holderHash,
    matter: c.matter,
    created_at: now(),
    expires_at: new Date(c.expiresAt),
  });
}

export type Redemption = { ok: true; code: ShowCode } | { ok: false; reason: 'unknown' | 'expired' | 'used' };

/**
 * Redeems a code once: the conditional update is the single-use guarantee, so two clerks
 * redeeming the same code at the same moment cannot both succeed.
 */
export async function redeemShowCode(db: Db, codeHash: string, redeemedBy: string): Promise<Redemption> {
  const at = now();
  const changed = await db('show_codes')
    .where({ code_hash: codeHash })
    .whereNull('redeemed_at')
    .where('expires_at', '>', at)
    .update({ redeemed_at: at, redeemed_by: redeemedBy });
  const r = (await db('show_codes').where({ code_hash: codeHash }).first()) as
    | {
        certificate_number: string;
        holder_hash: string;
        matter: string | null;
        expires_at: unknown;
        redeemed_at: unknown;
      }
    | undefined;
  if (!r) return { ok: false, reason: 'unknown' };
  if (changed !== 1) return { ok: false, reason: r.redeemed_at ? 'used' : 'expired' };
  const code = {
    certificateNumber: r.certificate_number,
    holderHash: r.holder_hash,
    matter: r.matter,
    expiresAt: toIso(r.expires_at),
  };
  return { ok: true, code };
}
