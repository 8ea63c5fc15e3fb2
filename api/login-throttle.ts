import type { Context } from 'koa';
import type { AppDeps } from './app';
import { HttpProblem } from './problem';

export interface LoginAttempt {
  /** The password was right: the username's count starts again, the address's reservation is returned. */
  succeeded(): Promise<void>;
  /** The password was wrong: the reservation stays, as one failure. */
  failed(): Promise<void>;
}

/**
 * Failed password checks are counted per username and per client address (in Redis when
 * configured, so every API process sees them); past the limit the account or address is
 * locked for the lockout window. An attempt reserves its place in both counters BEFORE the
 * password is checked — with an atomic increment — so twenty parallel guesses cannot all
 * read "4 failures so far": at most maxFailures of them are ever checked. Refused attempts
 * return their reservation. When the counters cannot be reached, sign-in is refused (503):
 * a lockout that quietly stops counting is no lockout.
 */
export function loginThrottle(deps: AppDeps) {
  const { maxFailures, maxFailuresPerAddress, lockoutMinutes } = deps.config.auth;
  const window = lockoutMinutes * 60;

  async function release(ctx: Context, ...keys: string[]) {
    await Promise.all(keys.map((k) => deps.cache.decr(k))).catch((err: Error) =>
      ctx.log.warn({ err: err.message }, 'login throttle: could not release a reservation'),
    );
  }

  return {
    /** Throws 429 when the username or address is locked, 503 when the counters are unavailable. */
    async begin(ctx: Context, username: string): Promise<LoginAttempt> {
      const userKey = `login-fail:user:${username}`;
      const ipKey = `login-fail:ip:${ctx.ip}`;
      let counts: number[];
      try {
        counts = await Promise.all([deps.cache.incr(userKey, window), deps.cache.incr(ipKey, window)]);
      } catch (err) {
        ctx.log.error({ err: (err as Error).message }, 'login throttle: counters unavailable; refusing sign-in');
        throw new HttpProblem(
          503,
          'Service Unavailable',
          'Sign-in is unavailable for the moment (the failed-attempt counters cannot be reached); try again shortly',
        );
      }
      const [userCount = 0, ipCount = 0] = counts;
      if (userCount > maxFailures || ipCount > maxFailuresPerAddress) {
        await release(ctx, userKey, ipKey);
        await ctx.auditAggregator.record(ctx, `${ctx.ip}|${username}`, {
          category: 'login',
          action: 'login',
          outcome: 'denied',
          actor: { type: 'anonymous', id: null, name: username },
          detail: { reason: 'too many failed attempts' },
        });
        ctx.set('Retry-After', String(window));
        const detail = `Too many failed sign-ins; try again in ${lockoutMinutes} minutes`;
        throw new HttpProblem(429, 'Too Many Requests', detail);
      }
      return {
        async succeeded() {
          await Promise.all([deps.cache.del(userKey), release(ctx, ipKey)]);
        },
        async failed() {},
      };
    },
  };
}
