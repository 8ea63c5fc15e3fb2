import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';

/**
 * A TypeScript client generated from /openapi.json with openapi-typescript, plus code written
 * against it with openapi-fetch, compiled with the TypeScript compiler API: if the document
 * typed a response as `never` or `unknown`, the client code below would not compile
 * (test/contract/openapi.test.ts).
 */

// Loaded at run time: both are ESM-only dev tools, and tsc must not need them to check the project.
interface OpenapiTs {
  default: (schema: unknown) => Promise<unknown>;
  astToString: (ast: unknown) => string;
}

export const CLIENT_SOURCE = `
import createClient from 'openapi-fetch';
import type { paths, components } from './schema';

type Status = 'in-review' | 'returned' | 'sealing' | 'issued' | 'rejected' | 'withdrawn' | 'failed' | 'cancelled';
type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

export async function issueOne(baseUrl: string, apiKey: string, externalRef: string): Promise<string> {
  const client = createClient<paths>({ baseUrl, headers: { authorization: 'ApiKey ' + apiKey } });
  const type = await client.GET('/api/v1/certificate-types/{code}', { params: { path: { code: 'BL' } } });
  if (!type.data) throw new Error('no type BL');
  const submitted = await client.POST('/api/v1/applications', {
    params: { header: { 'Idempotency-Key': externalRef } },
    body: {
      typeCode: 'BL',
      mode: 'auto-seal',
      externalRef,
      holder: { kind: 'entity', id: '91330106MA2B3C4DB0', name: '杭州西湖示例科技有限公司' },
      faceData: {
        entityName: '杭州西湖示例科技有限公司', creditCode: '91330106MA2B3C4DB0', entityType: '有限责任公司',
        legalRepresentative: '张三', businessScope: '软件开发；信息技术咨询服务。', registeredCapital: '100万元',
        establishedOn: '2024-03-15', address: '浙江省杭州市西湖区文三路1号',
      },
    },
  });
  if (!submitted.data) throw new Error('submit failed: ' + JSON.stringify(submitted.error));
  // Typed, not never/unknown: these lines only compile if the document states the response.
  const first: Status = submitted.data.status;
  const typed: Exact<typeof submitted.data.status, Status> = true;
  const problem: components['schemas']['Problem'] | undefined = submitted.error;
  void problem;
  void typed;
  if (first !== 'sealing') throw new Error('auto-seal answered ' + first);
  const id: string = submitted.data.id;
  for (let i = 0; i < 300; i++) {
    const got = await client.GET('/api/v1/applications/{id}', { params: { path: { id } } });
    if (!got.data) throw new Error('read failed');
    const number: string | null = got.data.certificateNumber;
    if (got.data.status === 'issued' && number) {
      const cert = await client.GET('/api/v1/certificates/{number}', {
        params: { path: { number }, query: { reason: 'contract test: read the issued certificate' } },
      });
      if (!cert.data) throw new Error('certificate read failed: ' + JSON.stringify(cert.error));
      const validFrom: string = cert.data.validFrom;
      void validFrom;
      return cert.data.number;
    }
    if (got.data.status === 'failed') throw new Error('issuance failed');
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('not issued in time');
}
`;

/** Generates schema.d.ts and client.ts into a fresh directory under the repository (so node_modules resolves). */
export async function generateClient(document: unknown): Promise<{ dir: string; diagnostics: string[] }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { default: openapiTS, astToString } = require('openapi-typescript') as OpenapiTs;
  const root = path.resolve(__dirname, '../..');
  // test-artifacts/ is not in git: on a fresh clone this may be the first test to write there.
  fs.mkdirSync(path.join(root, 'test-artifacts'), { recursive: true });
  const dir = fs.mkdtempSync(path.join(root, 'test-artifacts', 'typed-client-'));
  fs.writeFileSync(path.join(dir, 'schema.d.ts'), astToString(await openapiTS(document)));
  fs.writeFileSync(path.join(dir, 'client.ts'), CLIENT_SOURCE);
  const fetchTypes = require.resolve('openapi-fetch').replace(/index\.cjs$/, 'index.d.ts');
  const program = ts.createProgram([path.join(dir, 'client.ts')], {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    types: [],
    skipLibCheck: true,
    esModuleInterop: true,
    noUnusedLocals: false,
    paths: { 'openapi-fetch': [fetchTypes] },
    baseUrl: dir,
  });
  const diagnostics = ts
    .getPreEmitDiagnostics(program)
    .map(
      (d) =>
        ts.flattenDiagnosticMessageText(d.messageText, '\n') + (d.file ? ` (${path.basename(d.file.fileName)})` : ''),
    );
  return { dir, diagnostics };
}

export function cleanupClient(dir: string) {
  fs.rmSync(dir, { recursive: true, force: true });
}

export const tmpRoot = () => os.tmpdir();
