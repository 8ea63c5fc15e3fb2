/**
 * The real services the tests run against. MariaDB and Redis are required: when one is
 * not reachable the suite says so loudly, and in CI (CI=true) that is a failure, never a skip.
 */
export const TEST_MYSQL_URL = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

/** Call from a before hook: fails in CI, skips loudly elsewhere. */
export function requireService(ctx: Mocha.Context, service: string, err: unknown): never {
  const message = `${service} is not reachable (${(err as Error).message ?? err}).`;
  if (IN_CI) throw new Error(`${message} CI must run these tests against the real service.`);
  process.stderr.write(`\n!!!! SKIPPING ${service} TESTS: ${message} Start it to run them. !!!!\n\n`);
  ctx.skip();
}

export function uniqueSuffix(): string {
  return `${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
}
