import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { issuanceHarness, json, LICENCE, waitForTask, type IssuanceHarness } from '../support/issuance';
import { runSchemathesis, schemathesisInstalled } from '../support/contract';

/**
 * The inbox's assignment, delegation and bulk routes (docs/issuance.md) fuzzed by Schemathesis as
 * a department admin and as a reviewer, with real open tasks and a delegation to meet.
 */
const OPS = [
  'assignTask',
  'setTaskFollowUp',
  'decideTasks',
  'listDelegations',
  'createDelegation',
  'revokeDelegation',
  'listTasks',
  'listTaskAssignees',
  'listDelegationCandidates',
];

describe('inbox assignment, delegation and bulk decisions under Schemathesis', function () {
  this.timeout(300_000);
  let h: IssuanceHarness;
  const tokens: Record<string, string> = {};

  before(async function () {
    if (!schemathesisInstalled()) {
      const message = 'Schemathesis is not installed (bash scripts/setup.sh): skipped';
      if (process.env.CI === 'true') throw new Error(message);
      console.warn(`\n  !!! ${message}\n`);
      return this.skip();
    }
    h = await issuanceHarness('sqlite');
    const filler = await h.app.login('market-filler');
    for (let i = 0; i < 3; i++) {
      const { id } = await json<{ id: string }>(
        await h.app.fetch('/api/v1/applications', { token: filler, json: LICENCE }),
        201,
      );
      await waitForTask(h.app, filler, id);
    }
    tokens['market-admin'] = await h.app.login('market-admin');
    tokens['market-reviewer'] = await h.app.login('market-reviewer');
    const admin = await h.t.db('users').where({ username: 'market-admin' }).first('id');
    const endsAt = new Date(Date.now() + 86_400_000).toISOString();
    await json(
      await h.app.fetch('/api/v1/delegations', {
        token: tokens['market-reviewer'],
        json: { delegateId: admin.id, endsAt },
      }),
      201,
    );
  });
  after(async () => h?.close());

  for (const name of ['market-admin', 'market-reviewer']) {
    it(`finds no server error, schema, status or content-type mismatch as ${name}`, async () => {
      const reportDir = path.resolve(__dirname, '../../test-artifacts/schemathesis', `inbox-${name}`);
      fs.mkdirSync(reportDir, { recursive: true });
      const identity = { headers: { authorization: `Bearer ${tokens[name]}` } };
      const run = await runSchemathesis(h.app.url, identity, { maxExamples: 10, maxTime: 40, include: OPS, reportDir });
      fs.writeFileSync(path.join(reportDir, 'output.txt'), run.output);
      assert.equal(run.code, 0, run.output.split('\n').slice(-80).join('\n'));
      assert.match(run.output, /\d+ generated, \d+ passed/);
    });
  }
});
