import type { Config } from '../platform/config';
import type { Db } from '../db/knex';
import {
  duePendingMessages,
  getOutboxMessage,
  insertOutboxMessage,
  recordOutboxAttempt,
  type OutboxMessage,
} from '../db/outbox';
import {
  bodySha256,
  callbackSigningKey,
  isPermanentHttpStatus,
  OutboundError,
  postJsonGuarded,
  signCallbackBody,
} from './outbound';

/**
 * The one way certflow sends a message to a business system: `enqueue` stores the exact body
 * once per dedupe key, `deliver` POSTs it, signed, and records the attempt. The callers are
 * Temporal activities, so `deliver` throws on failure and Temporal's retry policy does the
 * waiting; the expiry sweep, which has no activity per message, uses `relayPending`.
 *
 * What a receiver gets (docs for integrators: `GET /api/v1/callbacks/signing-key`):
 * - `x-certflow-event`: e.g. `certificate.issued`, `certificate.revoked`, `certificate.expiring`;
 * - `x-certflow-signature: sha256=<hex HMAC-SHA256 of the exact body>` with its callback key;
 * - `x-certflow-body-sha256`: the body's SHA-256, the same on every attempt;
 * - `x-certflow-delivery`: the outbox id, the same on every attempt, so a receiver that got a
 *   message whose answer was lost can recognise the retry.
 */

/**
 * Whose key signs a message: a business system's (derived, platform/keys.ts), or — for holder
 * notifications — the city's notification gateway, with the shared HOLDER_NOTIFY_SECRET
 * (docs/holders.md, "Notifications to the holder").
 */
export type SigningOwner = Parameters<typeof callbackSigningKey>[1] | { kind: 'holder-gateway' };

export interface OutboxDeps {
  config: Pick<Config, 'callbacks'> & { holder?: Pick<Config['holder'], 'notify'> };
  db: Db;
  masterKey: Buffer;
}

const GATEWAY = 'gateway:holder-notify';

/** The owner as stored and as `GET /api/v1/callbacks/signing-key` names it. */
export function ownerName(owner: SigningOwner): string {
  if (owner.kind === 'holder-gateway') return GATEWAY;
  return owner.kind === 'api-client' ? `api-client:${owner.id}` : `department:${owner.code}`;
}

export function parseOwner(name: string): SigningOwner {
  if (name === GATEWAY) return { kind: 'holder-gateway' };
  const i = name.indexOf(':');
  const kind = name.slice(0, i);
  const value = name.slice(i + 1);
  if (i > 0 && value && kind === 'api-client') return { kind, id: value };
  if (i > 0 && value && kind === 'department') return { kind, code: value };
  throw new Error(`unknown callback key owner ${JSON.stringify(name)}`);
}

/** The HMAC key of a message; the gateway's is the configured secret, so a message waits while it is unset. */
function signingKey(deps: OutboxDeps, owner: SigningOwner): Buffer {
  if (owner.kind !== 'holder-gateway') return callbackSigningKey(deps.masterKey, owner);
  const secret = deps.config.holder?.notify?.secret;
  if (!secret) throw new OutboundError('HOLDER_NOTIFY_SECRET is not set: holder notifications wait', false);
  return Buffer.from(secret, 'utf8');
}

/** `occurrence` tells apart events that happen to a subject more than once (the n-th suspension). */
export const dedupeKey = (event: string, subject: string, occurrence?: string) =>
  occurrence ? `${event}:${subject}:${occurrence}` : `${event}:${subject}`;

export interface NewMessage {
  event: string;
  /** Certificate number or application id: with the event it is the dedupe key. */
  subject: string;
  occurrence?: string;
  targetUrl: string;
  owner: SigningOwner;
  body: Record<string, unknown>;
}

/**
 * Stores the message unless the same event for the same subject is already in the outbox;
 * returns the stored row either way, so its body (and signature) never changes on a retry.
 */
export async function enqueue(db: Db, m: NewMessage): Promise<OutboxMessage> {
  const body = JSON.stringify(m.body);
  return insertOutboxMessage(db, {
    event: m.event,
    dedupeKey: dedupeKey(m.event, m.subject, m.occurrence),
    subject: m.subject,
    targetUrl: m.targetUrl,
    signingOwner: ownerName(m.owner),
    body,
    bodySha256: bodySha256(body),
  });
}

/** How long a relay waits after the n-th failed attempt: 10 s doubling, at most 2 h (like the notify retry policy). */
const backoffMs = (attempts: number) => Math.min(10_000 * 2 ** Math.max(0, attempts - 1), 2 * 3600_000);

/**
 * POSTs one message and records the attempt. Returns the delivered row (at once if it was
 * delivered before); throws OutboundError otherwise, `permanent` when the receiver refused the
 * content (4xx other than 408/429) or the message was refused before. `giveUpAfter` turns a
 * transient failure at that many attempts into a permanent one (for the relay, which has no
 * Temporal retry policy to stop it).
 */
export async function deliver(
  deps: OutboxDeps,
  id: number,
  opts: { giveUpAfter?: number } = {},
): Promise<OutboxMessage> {
  const msg = await getOutboxMessage(deps.db, id);
  if (!msg) throw new OutboundError(`no outbox message ${id}`, true);
  if (msg.status === 'delivered') return msg;
  if (msg.status === 'failed') {
    throw new OutboundError(`${msg.event} to ${msg.targetUrl} was refused: ${msg.lastError}`, true);
  }
  const owner = parseOwner(msg.signingOwner);
  let key: Buffer;
  try {
    key = signingKey(deps, owner);
  } catch (err) {
    return recordFailure(deps, msg, err as OutboundError, null, 0, opts);
  }
  const headers = {
    'x-certflow-event': msg.event,
    'x-certflow-signature': signCallbackBody(key, msg.body),
    'x-certflow-body-sha256': msg.bodySha256,
    'x-certflow-delivery': String(msg.id),
  };
  const failed = (err: OutboundError, statusCode: number | null, durationMs: number) =>
    recordFailure(deps, msg, err, statusCode, durationMs, opts);
  const t0 = performance.now();
  let res;
  try {
    // The address is checked as the connection is made (DNS rebinding), services/callback-target.ts.
    // The gateway's URL is the operator's own (like CATALOG_URL), usually on the city's network.
    const { timeoutMs } = deps.config.callbacks;
    const allowPrivate = deps.config.callbacks.allowPrivate || owner.kind === 'holder-gateway';
    res = await postJsonGuarded(msg.targetUrl, msg.body, headers, timeoutMs, allowPrivate);
  } catch (err) {
    const e = err instanceof OutboundError ? err : new OutboundError((err as Error).message, false);
    return failed(e, null, performance.now() - t0);
  }
  if (res.status < 200 || res.status > 299) {
    const why = `callback ${msg.targetUrl} answered ${res.status}${res.body ? `: ${res.body.slice(0, 300)}` : ''}`;
    return failed(new OutboundError(why, isPermanentHttpStatus(res.status)), res.status, res.durationMs);
  }
  const delivered = { outcome: 'delivered' as const, statusCode: res.status, error: null, durationMs: res.durationMs };
  return recordOutboxAttempt(deps.db, id, delivered);
}

/** Records a failed attempt (backed off) and throws; `giveUpAfter` attempts make it permanent. */
async function recordFailure(
  deps: OutboxDeps,
  msg: OutboxMessage,
  err: OutboundError,
  statusCode: number | null,
  durationMs: number,
  opts: { giveUpAfter?: number },
): Promise<never> {
  const exhausted = opts.giveUpAfter !== undefined && msg.attempts + 1 >= opts.giveUpAfter;
  const permanent = err.permanent || exhausted;
  await recordOutboxAttempt(deps.db, msg.id, {
    outcome: 'failed',
    permanent,
    statusCode,
    error: err.message,
    durationMs,
    retryAt: new Date(Date.now() + backoffMs(msg.attempts + 1)),
  });
  if (permanent === err.permanent) throw err;
  throw new OutboundError(`${err.message} (gave up after ${msg.attempts + 1} attempts)`, true);
}

/**
 * Tries each pending message of `event` that is due, once, oldest first, until `budgetMs` has
 * passed; a failure is recorded (with its next try backed off) and does not stop the others.
 * For messages no activity of their own retries, such as expiry reminders.
 */
export async function relayPending(
  deps: OutboxDeps,
  event: string,
  opts: { limit: number; giveUpAfter: number; budgetMs: number },
): Promise<{ attempted: number; delivered: number }> {
  const due = await duePendingMessages(deps.db, event, new Date(), opts.limit);
  const stopAt = Date.now() + opts.budgetMs;
  let delivered = 0;
  let attempted = 0;
  for (const m of due) {
    if (Date.now() >= stopAt) break; // the rest stay due for the next run
    attempted++;
    try {
      await deliver(deps, m.id, { giveUpAfter: opts.giveUpAfter });
      delivered++;
    } catch (err) {
      if (!(err instanceof OutboundError)) throw err;
    }
  }
  return { attempted, delivered };
}
