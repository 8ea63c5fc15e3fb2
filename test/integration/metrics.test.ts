import assert from 'node:assert/strict';
import { issuanceHarness, json, LICENCE, type IssuanceHarness } from '../support/issuance';
import { SEALING_STEPS, serveMetrics, type MetricsServer } from '../../platform/metrics';
import { refreshDatabaseGauges } from '../../services/metrics';
import { parseMetrics, valueOf } from '../support/metrics';

const STEP_COUNT = 'certflow_sealing_step_duration_seconds_count';

/** One certificate through the HTTP API on a real Temporal dev server, scraped before and after. */
describe('GET /metrics (Prometheus) across one issuance', function () {
  this.timeout(120_000);
  let h: IssuanceHarness;
  let metrics: MetricsServer;
  let apiKey = '';
  const scrape = async () => {
    const r = await fetch(`http://127.0.0.1:${metrics.port}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return parseMetrics(await r.text());
  };

  before(async () => {
    h = await issuanceHarness('sqlite');
    metrics = await serveMetrics({ host: '127.0.0.1', port: 0, refresh: () => refreshDatabaseGauges(h.t.db) });
    const admin = await h.app.login('market-admin');
    const scopes = ['applications:write', 'applications:read', 'certificates:read'];
    const client = { name: '监控测试系统', department: 'market', scopes };
    const created = await h.app.fetch('/api/v1/api-clients', { token: admin, json: client });
    apiKey = (await json<{ apiKey: string }>(created, 201)).apiKey;
  });
  after(async () => {
    await metrics?.close();
    await h?.close();
  });

  it('serves only GET /metrics on its own port', async () => {
    assert.equal((await fetch(`http://127.0.0.1:${metrics.port}/`)).status, 404);
    assert.equal((await fetch(`http://127.0.0.1:${metrics.port}/metrics`, { method: 'POST' })).status, 405);
    assert.equal((await h.app.fetch('/metrics')).status, 404, 'the API port does not serve metrics');
  });

  it('moves requests, applications, sealing steps, the converter pool, cache and audit series', async () => {
    const before = await scrape();
    const submitRoute = { method: 'POST', route: '/api/v1/applications', status: '201' };
    const submit = { apiKey, json: { ...LICENCE, mode: 'auto-seal' } };
    const submitted = await json<{ id: string }>(await h.app.fetch('/api/v1/applications', submit), 201);

    // The workflow is done when the last step (notify) has been timed.
    let after = before;
    for (let i = 0; i < 300; i++) {
      after = await scrape();
      const notified = (s: Map<string, number>) => valueOf(s, STEP_COUNT, { step: 'notify' });
      if (notified(after) > notified(before)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const moved = (name: string, labels: Record<string, string> = {}) =>
      valueOf(after, name, labels) - valueOf(before, name, labels);

    assert.equal(moved('certflow_http_requests_total', submitRoute), 1, 'the submit route, by its template');
    const raw = [...after.keys()].filter((k) => k.startsWith('certflow_http') && k.includes(submitted.id));
    assert.deepEqual(raw, [], 'no series carries a raw URL');
    assert.equal(moved('certflow_applications', { status: 'issued' }), 1);
    assert.ok(after.has('certflow_applications{status="failed"}'), 'every status is reported, zeros included');
    for (const step of SEALING_STEPS) {
      assert.ok(moved(STEP_COUNT, { step, outcome: 'ok' }) >= 1, `sealing step ${step} timed`);
    }
    assert.ok(moved('certflow_sealing_step_duration_seconds_sum', { step: 'convert' }) > 0);
    assert.ok(moved('certflow_audit_appends_total', { category: 'sealing' }) >= 1);
    assert.ok(moved('certflow_audit_appends_total') >= 3, 'submit, seal, store are audited');
    assert.equal(valueOf(after, 'certflow_converter_pool_size'), 2, 'the warm pool of the render worker');
    assert.equal(valueOf(after, 'certflow_converter_pool_busy'), 0);
    assert.ok(after.has('certflow_tasks_open') && after.has('certflow_tasks_overdue'));

    // A certificate read twice: the sealing pipeline warmed the cache, so both are hits.
    const read = await h.app.fetch(`/api/v1/applications/${submitted.id}`, { apiKey });
    const app = await json<{ certificateNumber: string }>(read, 200);
    const beforeReads = await scrape();
    const path = `/api/v1/certificates/${app.certificateNumber}?reason=${encodeURIComponent('核验')}`;
    for (let i = 0; i < 2; i++) await json(await h.app.fetch(path, { apiKey }), 200);
    const afterReads = await scrape();
    const hitsOf = (s: Map<string, number>) => valueOf(s, 'certflow_cache_lookups_total', { result: 'hit' });
    const hits = hitsOf(afterReads) - hitsOf(beforeReads);
    assert.ok(hits >= 2, `cache hits moved by ${hits}`);
    const submitTimed = { route: '/api/v1/applications', method: 'POST' };
    assert.equal(moved('certflow_http_request_duration_seconds_count', submitTimed), 1);
    const readRoute = { route: '/api/v1/certificates/:number', status: '200' };
    assert.ok(valueOf(afterReads, 'certflow_http_requests_total', readRoute) >= 2);
  });
});
