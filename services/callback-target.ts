import dns from 'node:dns';
import net from 'node:net';
import { invalidError } from './errors';

/**
 * Where callbacks may go (docs/security.md, "Server-side requests…"). A callbackUrl comes from
 * whoever submits an application, and certflow POSTs signed personal data to it from inside
 * the network, so:
 * - it must lie under an origin registered for the submitting API client (api_clients.
 *   callback_origins, migration 011); staff, who have no registered receiver, may not set one;
 * - loopback, private, link-local and other special addresses are refused unless the operator
 *   allows them (CALLBACK_ALLOW_PRIVATE=true, for tests and closed networks) — checked on the
 *   URL at submission and again on every address the host resolves to when delivering
 *   (`guardedLookup`, used for the connection itself, so a DNS answer that changes between
 *   the check and the connection — rebinding — cannot slip through).
 */

const SPECIAL = new net.BlockList();
for (const [net4, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  SPECIAL.addSubnet(net4, bits, 'ipv4');
}
for (const [net6, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
] as const) {
  SPECIAL.addSubnet(net6, bits, 'ipv6');
}

/** Loopback, private, link-local, CGNAT, multicast or otherwise not a public unicast address. */
export function isSpecialAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 0) return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return SPECIAL.check(mapped[1]!, 'ipv4');
  return SPECIAL.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export const originOf = (url: string) => new URL(url).origin;

/** Normalises an origin as an admin writes it (`https://approval.example.gov.cn`), or throws. */
export function parseOrigin(value: string): string {
  const u = new URL(value);
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('must be an http(s) origin');
  if (u.username || u.password || (u.pathname !== '/' && u.pathname !== '') || u.search || u.hash) {
    throw new Error('must be an origin only: scheme, host and port, no path');
  }
  return u.origin;
}

/** At submission: the URL must be under one of the client's origins, and not special unless allowed. */
export function checkCallbackUrl(url: string, origins: readonly string[] | null, allowPrivate: boolean): void {
  const refuse = (message: string) =>
    invalidError('The callbackUrl is not allowed', [{ field: 'callbackUrl', message }]);
  if (origins === null) throw refuse('only API clients may set a callbackUrl (to an origin registered for them)');
  const u = new URL(url);
  if (!origins.includes(u.origin)) {
    throw refuse(
      `${u.origin} is not a callback origin registered for this API client` +
        (origins.length ? ` (registered: ${origins.join(', ')})` : ' (none registered)'),
    );
  }
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (
    !allowPrivate &&
    (net.isIP(host) ? isSpecialAddress(host) : host === 'localhost' || host.endsWith('.localhost'))
  ) {
    throw refuse(`${host} is a loopback or private address`);
  }
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | dns.LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for http.request: resolves the host and refuses the connection if any of its
 * addresses is special (unless allowed); the socket connects to an address checked here.
 */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: dns.LookupOptions, callback: LookupCallback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      const list = addresses as dns.LookupAddress[];
      const bad = allowPrivate ? undefined : list.find((a) => isSpecialAddress(a.address));
      if (bad) {
        const e = Object.assign(new Error(`${hostname} resolves to ${bad.address}, a loopback or private address`), {
          code: 'ECALLBACKADDRESS',
        });
        return callback(e, '');
      }
      if (options.all) return callback(null, list);
      callback(null, list[0]!.address, list[0]!.family);
    });
  };
}
