import assert from 'node:assert/strict';
import net from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { Client } from '@temporalio/client';
import { forEachDatabase, type TestDatabase } from '../../support/databases';
import { startTestApp, testDeps, type TestApp } from '../../support/app';
import { seedDemo, seedDemoTypes } from '../../../db/seed-demo';
import { ensureDevelopmentTrust } from '../../../services/trust/seals';

forEachDatabase('hardening: a client aborting an upload', (get) => {
  let tdb: TestDatabase;
  let app: TestApp;
  const lines: { level: number; msg: string }[] = [];

  before(async () => {
    tdb = get();
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
        done();
      },
    });
    const deps = testDeps(tdb.db, { logger: pino({ level: 'info' }, sink) });
    await seedDemo(tdb.db, 'certflow-demo');
    await ensureDevelopmentTrust(deps);
    await seedDemoTypes(tdb.db, deps.blobs);
    app = await startTestApp({ db: tdb.db, temporal: {} as Client, deps });
  });
  after(async () => {
    await app?.close();
  });

  it('is logged at info as aborted, not as a 500 with a stack trace', async () => {
    const token = await app.login('market-admin');
    const { port } = new URL(app.url);
    const socket = net.connect(Number(port), '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.write(
      'POST /api/v1/certificate-types/BL/template HTTP/1.1\r\nHost: x\r\n' +
        `authorization: Bearer ${token}\r\ncontent-type: application/octet-stream\r\ncontent-length: 1000000\r\n\r\n`,
    );
    socket.write(Buffer.alloc(50_000));
    await new Promise((r) => setTimeout(r, 300));
    socket.destroy();
    for (let i = 0; i < 50 && !lines.some((l) => /aborted/.test(l.msg)); i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.ok(
      lines.some((l) => l.level === 30 && /client aborted/.test(l.msg)),
      JSON.stringify(lines),
    );
    assert.deepEqual(
      lines.filter((l) => l.level >= 50).map((l) => l.msg),
      [],
    );
  });
});
