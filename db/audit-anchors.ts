import fs from 'node:fs';
import path from 'node:path';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Db } from './knex';
import { keysOf } from '../platform/keys';

/**
 * Signed checkpoints of the audit chain's head, kept outside the database (docs/security.md,
 * "Audit log integrity and recovery").
 *
 * The keyed chain (db/audit.ts) stops anyone without the master key from forging new entries,
 * but whoever can write the tables can still downgrade it: move audit_head.keyed_from past the
 * head, null its MAC and re-hash every row with the old unkeyed scheme, which verifies. A
 * checkpoint — the head's seq, hash and keyed_from, MACed with a master-key-derived key — is
 * appended, one JSON line each, to DATA_DIR/audit-anchors/anchors.log, a file the database
 * administrator cannot rewrite (and the operator ships off-host). Verification then requires
 * that every checkpoint still matches the chain, so a rewrite of anything before the newest
 * checkpoint is named by that checkpoint.
 */

export interface AuditAnchor {
  seq: number;
  hash: string;
  keyedFrom: number;
  at: string;
  mac: string;
}

export const ANCHOR_FILE = 'anchors.log';

function anchorMac(key: Buffer, a: Omit<AuditAnchor, 'mac'>): string {
  return createHmac('sha256', key).update(`anchor v1\n${a.seq}\n${a.hash}\n${a.keyedFrom}\n${a.at}`).digest('hex');
}

type Head = { seq: number | string; hash: string; keyed_from: number | string | null };

/** The last checkpoint in the file, if any (the file is small: one line per interval with new entries). */
function lastLine(file: string): string | undefined {
  if (!fs.existsSync(file)) return undefined;
  const lines = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim());
  return lines[lines.length - 1];
}

/**
 * Appends a checkpoint of the current head unless the newest one already covers it; returns it
 * (or undefined when there was nothing new). Appends are single small O_APPEND writes, so the
 * API and the worker may both anchor into one file.
 */
export async function anchorAuditHead(db: Db, masterKey: Buffer, dir: string): Promise<AuditAnchor | undefined> {
  const head = (await db('audit_head').where({ id: 1 }).first()) as Head | undefined;
  if (!head || Number(head.seq) === 0) return undefined;
  const file = path.join(dir, ANCHOR_FILE);
  const last = lastLine(file);
  if (last && (JSON.parse(last) as AuditAnchor).seq >= Number(head.seq)) return undefined;
  const body = {
    seq: Number(head.seq),
    hash: head.hash,
    keyedFrom: Number(head.keyed_from ?? 1),
    at: new Date().toISOString(),
  };
  const anchor = { ...body, mac: anchorMac(keysOf(masterKey).key('auditAnchor'), body) };
  await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
  await fs.promises.appendFile(file, JSON.stringify(anchor) + '\n', { mode: 0o600 });
  return anchor;
}

export type AnchorReading = { ok: true; anchors: AuditAnchor[] } | { ok: false; line: number; reason: string };

/** Every checkpoint in the directory, each checked against its MAC. */
export function readAuditAnchors(dir: string, masterKey: Buffer): AnchorReading {
  const file = path.join(dir, ANCHOR_FILE);
  if (!fs.existsSync(file)) return { ok: true, anchors: [] };
  const key = keysOf(masterKey).key('auditAnchor');
  const anchors: AuditAnchor[] = [];
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  for (const [i, line] of lines.entries()) {
    if (!line.trim()) continue;
    let a: AuditAnchor;
    try {
      a = JSON.parse(line) as AuditAnchor;
    } catch {
      // A crash mid-append leaves a torn last line; anything else unreadable is damage.
      if (i >= lines.length - 2) continue;
      return { ok: false, line: i + 1, reason: `audit checkpoint on line ${i + 1} of ${file} is not JSON` };
    }
    const expected = anchorMac(key, { seq: a.seq, hash: a.hash, keyedFrom: a.keyedFrom, at: a.at });
    if (
      typeof a.mac !== 'string' ||
      a.mac.length !== expected.length ||
      !timingSafeEqual(Buffer.from(a.mac), Buffer.from(expected))
    ) {
      return {
        ok: false,
        line: i + 1,
        reason: `audit checkpoint on line ${i + 1} of ${file} is not signed with this master key`,
      };
    }
    anchors.push(a);
  }
  return { ok: true, anchors };
}

/** Anchors every `everySeconds` while the process runs; the returned function stops it. */
export function startAuditAnchoring(
  db: Db,
  masterKey: Buffer,
  dir: string,
  everySeconds: number,
  onError: (err: Error) => void,
): () => Promise<void> {
  let running: Promise<unknown> = Promise.resolve();
  const tick = () => {
    running = anchorAuditHead(db, masterKey, dir).catch(onError);
  };
  const timer = setInterval(tick, everySeconds * 1000);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
    // One last checkpoint on a clean stop, so entries written since the last tick are covered too.
    await anchorAuditHead(db, masterKey, dir).catch(onError);
  };
}
