import net from 'node:net';
import type { Context, Next } from 'koa';

/**
 * The client's address for rate limits, lockouts and the audit log. X-Forwarded-For is
 * written by whoever sends the request, so it is believed only from TRUSTED_PROXIES: the
 * list is walked from the right (the hop nearest to us) past trusted proxies, and the first
 * address no trusted proxy vouches for is the client. Without trusted proxies it is ignored.
 */
export function clientAddress(trustedProxies: readonly string[]) {
  const trusted = new net.BlockList();
  for (const entry of trustedProxies) {
    const [addr = '', prefix] = entry.split('/');
    const type = net.isIPv6(addr) ? 'ipv6' : 'ipv4';
    if (prefix === undefined) trusted.addAddress(addr, type);
    else trusted.addSubnet(addr, Number(prefix), type);
  }
  const isTrusted = (ip: string) => {
    const type = net.isIPv6(ip) ? 'ipv6' : net.isIPv4(ip) ? 'ipv4' : undefined;
    return type !== undefined && trusted.check(ip, type);
  };
  return async (ctx: Context, next: Next) => {
    let ip = plain(ctx.req.socket.remoteAddress ?? '');
    if (trustedProxies.length && isTrusted(ip)) {
      const hops = (ctx.get('x-forwarded-for') || '')
        .split(',')
        .map((h) => plain(h.trim()))
        .filter(Boolean);
      while (hops.length && isTrusted(ip)) ip = hops.pop()!;
    }
    ctx.request.ip = ip;
    await next();
  };
}

/** IPv4 clients of a dual-stack socket appear as ::ffff:a.b.c.d. */
function plain(ip: string): string {
  return ip.startsWith('::ffff:') && net.isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
}
