import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { z } from 'zod';
import { ApiRouter } from '../../api/routing';
import { problemMiddleware } from '../../api/problem';

/**
 * CERTFLOW_CHECK_RESPONSES=1 (docs/api.md, "Response schemas"): a handler whose body does not fit the
 * schema its spec documents answers 500 naming the field, so a drifted schema cannot pass the contract tests.
 */
describe('the response check of the router (CERTFLOW_CHECK_RESPONSES)', () => {
  let server: http.Server;
  let url: string;
  const before = process.env.CERTFLOW_CHECK_RESPONSES;

  beforeEach(async () => {
    const api = new ApiRouter('/api/v1');
    const Thing = z.looseObject({ id: z.number().int(), name: z.string() });
    for (const [path, body] of [
      ['/fits', { id: 1, name: '市场监督管理局', extra: true }],
      ['/drifted', { id: '1', name: '市场监督管理局' }],
    ] as const) {
      api.route(
        {
          method: 'get',
          path,
          operationId: path === '/fits' ? 'getFitting' : 'getDrifted',
          summary: 'A thing',
          tag: 'test',
          auth: 'public',
          responses: { 200: { description: 'The thing', schema: Thing } },
        },
        () => body,
      );
    }
    const app = new Koa();
    app.context.log = { error: () => {}, info: () => {} } as never;
    app.use(async (ctx, next) => {
      ctx.state.actor = { kind: 'anonymous' };
      await next();
    });
    app.use(problemMiddleware());
    app.use(api.router.routes());
    server = http.createServer(app.callback());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
  });
  afterEach(async () => {
    await new Promise((r) => server.close(r));
    if (before === undefined) delete process.env.CERTFLOW_CHECK_RESPONSES;
    else process.env.CERTFLOW_CHECK_RESPONSES = before;
  });

  it('answers 500 for a body its schema does not describe, and passes one it does (extra fields allowed)', async () => {
    process.env.CERTFLOW_CHECK_RESPONSES = '1';
    assert.equal((await fetch(`${url}/fits`)).status, 200);
    const drifted = await fetch(`${url}/drifted`);
    assert.equal(drifted.status, 500);
    const problem = (await drifted.json()) as { status: number; detail: string };
    assert.equal(problem.status, 500);
    assert.match(problem.detail, /getDrifted 200: the body does not match its schema: id: /);
  });

  it('checks nothing without the variable (production answers what the handler returns)', async () => {
    delete process.env.CERTFLOW_CHECK_RESPONSES;
    assert.equal((await fetch(`${url}/drifted`)).status, 200);
  });
});
