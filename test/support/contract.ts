import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { json } from './issuance';
import type { IssuanceHarness } from './issuance';

/** The identities an integrator calls with (docs/api.md, "The contract"): one header each. */
export interface Identity {
  name: 'anonymous' | 'api-key' | 'filler' | 'admin';
  headers: Record<string, string>;
}

export async function identities(h: IssuanceHarness): Promise<Identity[]> {
  const admin = await h.app.login('market-admin');
  const filler = await h.app.login('market-filler');
  const scopes = [
    'applications:write',
    'applications:read',
    'certificates:read',
    'certificates:compare',
    'certificates:import',
    'certificates:fetch',
    'operations:ping',
  ];
  const client = await json<{ apiKey: string }>(
    await h.app.fetch('/api/v1/api-clients', {
      token: admin,
      json: { name: '契约测试系统', department: 'market', scopes },
    }),
    201,
  );
  return [
    { name: 'anonymous', headers: {} },
    { name: 'api-key', headers: { authorization: `ApiKey ${client.apiKey}` } },
    { name: 'filler', headers: { authorization: `Bearer ${filler}` } },
    { name: 'admin', headers: { authorization: `Bearer ${admin}` } },
  ];
}

/** Installed by scripts/setup.sh (pip --target); absent, the contract tests say so loudly. */
export const SCHEMATHESIS_DIR = path.resolve(__dirname, '../../.tools/schemathesis');
const HOOKS = path.resolve(__dirname, '../contract/schemathesis-hooks.py');
export const schemathesisInstalled = () => fs.existsSync(path.join(SCHEMATHESIS_DIR, 'bin/st'));

export interface SchemathesisRun {
  code: number | null;
  output: string;
}

/** One Schemathesis run against the live instance, bounded by `maxTime` seconds. */
export function runSchemathesis(
  baseUrl: string,
  identity: Pick<Identity, 'headers'>,
  opts: { maxExamples: number; maxTime: number; exclude?: string[]; include?: string[]; reportDir: string },
): Promise<SchemathesisRun> {
  const args = [
    'run',
    `${baseUrl}/openapi.json`,
    '--url',
    baseUrl,
    '--checks',
    'not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance',
    '--phases',
    'examples,coverage,fuzzing',
    '--max-examples',
    String(opts.maxExamples),
    '--max-time',
    String(opts.maxTime),
    '--seed',
    '20',
    '--request-timeout',
    '20',
    // One worker: with more, Hypothesis' lambda-source cache races on Python 3.11 (a tool error, not a finding).
    '--workers',
    '1',
    '--no-color',
    '--report',
    'junit',
    '--report-dir',
    opts.reportDir,
    ...Object.entries(identity.headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]),
    ...(opts.exclude ?? []).flatMap((id) => ['--exclude-operation-id', id]),
    ...(opts.include ?? []).flatMap((id) => ['--include-operation-id', id]),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(SCHEMATHESIS_DIR, 'bin/st'), args, {
      env: {
        ...process.env,
        PYTHONPATH: SCHEMATHESIS_DIR,
        NO_COLOR: '1',
        SCHEMATHESIS_TELEMETRY: 'false',
        // Serializers for the binary media types certflow takes (the TSA's application/timestamp-query).
        SCHEMATHESIS_HOOKS: HOOKS,
      },
      // Schemathesis keeps its example cache in the working directory: there, not in the repository.
      cwd: opts.reportDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}
