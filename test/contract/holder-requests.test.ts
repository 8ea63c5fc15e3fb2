import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { holderHarness, type HolderHarness } from '../support/holder';
import { runSchemathesis, schemathesisInstalled } from '../support/contract';

/**
 * The reminders and requests routes (docs/holders.md) fuzzed by Schemathesis as the callers they
 * are for — a signed-in holder, and a department admin — which the whole-API run
 * (openapi.test.ts) cannot be: it has no holder session and no holder requests.
 */
const HOLDER_OPS = [
  'listMyReminders',
  'markMyRemindersRead',
  'listCorrectableFields',
  'listMyRequests',
  'getMyRequest',
  'createMyRequest',
];
const STAFF_OPS = ['getHolderRequest', 'decideHolderRequest'];

describe('holder reminders and requests under Schemathesis', function () {
  this.timeout(300_000);
  let h: HolderHarness;
  const ids: { name: string; headers: Record<string, string>; ops: string[] }[] = [];

  before(async function () {
    if (!schemathesisInstalled()) {
      const message = 'Schemathesis is not installed (bash scripts/setup.sh): skipped';
      if (process.env.CI === 'true') throw new Error(message);
      console.warn(`\n  !!! ${message}\n`);
      return this.skip();
    }
    h = await holderHarness('sqlite');
    const holder = await h.signIn('demo-company');
    // One real request, so the fuzzed ids meet an existing one too.
    const filed = await h.fetch('/api/v1/holder/requests', {
      method: 'POST',
      holder,
      json: { certificateNumber: h.numbers.companyBL, kind: 'correct', field: 'other', statement: '地址有误' },
    });
    assert.equal(filed.status, 201);
    ids.push({ name: 'holder', headers: { cookie: holder }, ops: HOLDER_OPS });
    ids.push({
      name: 'market-admin',
      headers: { authorization: `Bearer ${await h.login('market-admin')}` },
      ops: STAFF_OPS,
    });
  });
  after(async () => h?.close());

  for (const name of ['holder', 'market-admin']) {
    it(`finds no server error, schema, status or content-type mismatch as ${name}`, async () => {
      const identity = ids.find((i) => i.name === name)!;
      const reportDir = path.resolve(__dirname, '../../test-artifacts/schemathesis', `requests-${name}`);
      fs.mkdirSync(reportDir, { recursive: true });
      const run = await runSchemathesis(h.url, identity, {
        maxExamples: 10,
        maxTime: 40,
        include: identity.ops,
        reportDir,
      });
      fs.writeFileSync(path.join(reportDir, 'output.txt'), run.output);
      assert.equal(run.code, 0, run.output.split('\n').slice(-80).join('\n'));
      assert.match(run.output, /\d+ generated, \d+ passed/);
    });
  }
});
