import assert from 'node:assert/strict';
import path from 'node:path';
import { loadConfig, ConfigError } from '../../platform/config';

describe('config', () => {
  it('defaults to the embedded setup: SQLite under ./data, in-process cache, own Temporal dev server', () => {
    const c = loadConfig({ DATA_DIR: '/tmp/cf-data' });
    assert.deepEqual(c.database, { client: 'sqlite', filename: path.join('/tmp/cf-data', 'certflow.sqlite') });
    assert.equal(c.redisUrl, undefined);
    assert.equal(c.temporal.address, undefined);
    assert.equal(c.temporal.taskQueue, 'certflow');
    assert.equal(c.temporal.devServer.uiPort, 8233);
    assert.equal(c.temporal.devServer.dbFilename, path.join('/tmp/cf-data', 'temporal', 'temporal.db'));
    assert.equal(c.http.port, 3000);
    assert.equal(c.http.publicUrl, 'http://127.0.0.1:3000');
  });

  it('takes MySQL, Redis and an external Temporal from the environment', () => {
    const c = loadConfig({
      DATABASE_URL: 'mysql://certflow:pw@db:3306/certflow',
      REDIS_URL: 'redis://cache:6379',
      TEMPORAL_ADDRESS: 'temporal:7233',
      PORT: '8080',
      PUBLIC_URL: 'https://certs.example.gov.cn/',
    });
    assert.deepEqual(c.database, { client: 'mysql', url: 'mysql://certflow:pw@db:3306/certflow' });
    assert.equal(c.redisUrl, 'redis://cache:6379');
    assert.equal(c.temporal.address, 'temporal:7233');
    assert.equal(c.http.port, 8080);
    assert.equal(c.http.publicUrl, 'https://certs.example.gov.cn');
  });

  it('treats empty variables as unset', () => {
    assert.equal(loadConfig({ REDIS_URL: '', PORT: '' }).http.port, 3000);
  });

  it('names every bad variable', () => {
    assert.throws(
      () =>
        loadConfig({ PORT: 'eighty', DATABASE_URL: 'postgres://x', TEMPORAL_ADDRESS: 'no-port', LOG_LEVEL: 'loud' }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.deepEqual(err.problems.map((p) => p.variable).sort(), [
          'DATABASE_URL',
          'LOG_LEVEL',
          'PORT',
          'TEMPORAL_ADDRESS',
        ]);
        assert.match(err.message, /PORT: /);
        return true;
      },
    );
  });
  it('reads TRUSTED_PROXIES as addresses and CIDR ranges, and names a bad entry', () => {
    assert.deepEqual(loadConfig({}).http.trustedProxies, []);
    const proxies = loadConfig({ TRUSTED_PROXIES: ' 10.0.0.1, 10.1.0.0/16 ,::1' }).http.trustedProxies;
    assert.deepEqual(proxies, ['10.0.0.1', '10.1.0.0/16', '::1']);
    assert.throws(
      () => loadConfig({ TRUSTED_PROXIES: '10.0.0.1,proxy.example.gov' }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.problems[0]?.variable === 'TRUSTED_PROXIES' &&
        /proxy\.example\.gov/.test(err.message),
    );
    assert.throws(() => loadConfig({ TRUSTED_PROXIES: '10.0.0.0/33' }), /TRUSTED_PROXIES/);
  });

  it('serves metrics only on ports of their own, and drains workers within a grace period', () => {
    const off = loadConfig({});
    assert.deepEqual(off.metrics, { port: undefined, temporalPort: undefined });
    assert.equal(off.shutdownGraceSeconds, 90, 'below docker-compose.yml stop_grace_period of 120 s');
    const on = loadConfig({ METRICS_PORT: '9464', TEMPORAL_METRICS_PORT: '9465', WORKER_SHUTDOWN_GRACE_SECONDS: '30' });
    assert.deepEqual(on.metrics, { port: 9464, temporalPort: 9465 });
    assert.equal(on.shutdownGraceSeconds, 30);
    const clash = (env: Record<string, string>, variable: string) =>
      assert.throws(
        () => loadConfig(env),
        (err: unknown) =>
          err instanceof ConfigError && err.problems[0]?.variable === variable && /own/.test(err.message),
      );
    clash({ METRICS_PORT: '3000' }, 'METRICS_PORT');
    clash({ PORT: '8080', TEMPORAL_METRICS_PORT: '8080' }, 'TEMPORAL_METRICS_PORT');
    clash({ METRICS_PORT: '9464', TEMPORAL_METRICS_PORT: '9464' }, 'TEMPORAL_METRICS_PORT');
    assert.throws(() => loadConfig({ WORKER_SHUTDOWN_GRACE_SECONDS: '0' }), /WORKER_SHUTDOWN_GRACE_SECONDS/);
    assert.throws(() => loadConfig({ METRICS_PORT: '70000' }), /METRICS_PORT/);
  });

  it('takes the holder notification gateway with its secret, both or none, https in production', () => {
    assert.equal(loadConfig({}).holder.notify, undefined);
    assert.equal(loadConfig({}).holder.requestDeadlineHours, 120);
    const secret = 'a-shared-secret-of-at-least-32-characters';
    const c = loadConfig({ HOLDER_NOTIFY_URL: 'http://gateway.local/notify', HOLDER_NOTIFY_SECRET: secret });
    assert.deepEqual(c.holder.notify, { url: 'http://gateway.local/notify', secret });
    const refused = (env: Record<string, string>, variable: string) =>
      assert.throws(
        () => loadConfig(env),
        (err: unknown) => err instanceof ConfigError && err.problems[0]?.variable === variable,
      );
    refused({ HOLDER_NOTIFY_URL: 'http://gateway.local/notify' }, 'HOLDER_NOTIFY_SECRET');
    refused({ HOLDER_NOTIFY_SECRET: secret }, 'HOLDER_NOTIFY_URL');
    refused(
      { HOLDER_NOTIFY_URL: 'http://gateway.local/notify', HOLDER_NOTIFY_SECRET: 'short' },
      'HOLDER_NOTIFY_SECRET',
    );
    refused({ HOLDER_REQUEST_DEADLINE_HOURS: '0' }, 'HOLDER_REQUEST_DEADLINE_HOURS');
  });

  describe('BLOB_STORE_URL', () => {
    it('defaults to files under DATA_DIR/blobs', () => {
      assert.deepEqual(loadConfig({ DATA_DIR: '/tmp/cf-data' }).blobs, { kind: 'file', dir: '/tmp/cf-data/blobs' });
    });

    it('takes a bucket, a key prefix, an endpoint and a region; credentials from the AWS variables', () => {
      const c = loadConfig({
        BLOB_STORE_URL: 's3://certflow-blobs/prod/eu/?endpoint=http://seaweedfs:8333/&region=cn-north-1',
        AWS_ACCESS_KEY_ID: 'id',
        AWS_SECRET_ACCESS_KEY: 'secret',
        AWS_REGION: 'us-west-2',
      });
      assert.deepEqual(c.blobs, {
        kind: 's3',
        bucket: 'certflow-blobs',
        prefix: 'prod/eu/',
        endpoint: 'http://seaweedfs:8333',
        region: 'cn-north-1',
        credentials: { accessKeyId: 'id', secretAccessKey: 'secret' },
      });
      const plain = loadConfig({ BLOB_STORE_URL: 's3://certflow', AWS_REGION: 'us-west-2' }).blobs;
      const expected = { bucket: 'certflow', prefix: '', endpoint: undefined, region: 'us-west-2' };
      assert.deepEqual(plain, { kind: 's3', ...expected, credentials: undefined });
    });

    it('stops start-up on a bad URL, naming BLOB_STORE_URL', () => {
      const bad = [
        'http://127.0.0.1:8333/certflow',
        's3://Bad_Bucket?endpoint=http://127.0.0.1:8333',
        's3://certflow?endpoint=ftp://x',
        's3://certflow?endpoint=http://host:8333/path',
        's3://certflow?endpont=http://host:8333',
        's3://key:secret@certflow',
        'not a url',
      ];
      for (const value of bad) {
        assert.throws(
          () => loadConfig({ BLOB_STORE_URL: value }),
          (err: unknown) => {
            assert.ok(err instanceof ConfigError, value);
            assert.deepEqual(
              err.problems.map((p) => p.variable),
              ['BLOB_STORE_URL'],
              value,
            );
            assert.match(err.message, /BLOB_STORE_URL: /);
            return true;
          },
        );
      }
    });

    it('wants both AWS keys or neither', () => {
      assert.throws(
        () => loadConfig({ BLOB_STORE_URL: 's3://certflow', AWS_ACCESS_KEY_ID: 'id' }),
        (err: unknown) => err instanceof ConfigError && err.problems[0]?.variable === 'AWS_SECRET_ACCESS_KEY',
      );
    });
  });
});
