import { z } from 'zod';
import type { AppDeps } from '../app';
import type { ApiRouter } from '../routing';
import { notFound } from '../problem';
import { departmentCode } from './departments';
import { getDepartment, listDepartments } from '../../db/org';
import { STATUS_PURPOSES } from '../../db/credentials';
import { statusListCredential } from '../../services/credentials/issue';
import { departmentDidDocument } from '../../services/credentials/keys';
import { offlineQrKeys } from '../../services/credentials/offline-qr';

/**
 * What a relying party fetches to check certflow's W3C credentials and printed QR codes without
 * asking certflow about the certificate itself (docs/trust.md): each department's DID document
 * (did:web), its Bitstring Status Lists, and the keys of the offline QR signatures. Public.
 */

/** A W3C credential: open JSON-LD, described loosely (the VC 2.0 data model is the schema). */
export const VerifiableCredential = z
  .looseObject({
    '@context': z.array(z.unknown()),
    type: z.array(z.string()),
    issuer: z.union([z.string(), z.looseObject({ id: z.string() })]),
    credentialSubject: z.looseObject({}),
    proof: z.looseObject({ type: z.string(), cryptosuite: z.string(), proofValue: z.string() }),
  })
  .meta({ id: 'VerifiableCredential', description: 'W3C Verifiable Credential 2.0 with a Data Integrity proof' });

const DidDocument = z
  .looseObject({
    '@context': z.array(z.string()),
    id: z.string(),
    verificationMethod: z.array(
      z.looseObject({ id: z.string(), type: z.string(), controller: z.string(), publicKeyMultibase: z.string() }),
    ),
    assertionMethod: z.array(z.string()),
  })
  .meta({ id: 'DidDocument' });

const OfflineQrKeys = z
  .looseObject({
    keys: z.array(
      z.looseObject({
        kid: z.string().describe('The department code'),
        name: z.string().describe("The department's name"),
        kty: z.literal('EC'),
        crv: z.literal('P-256'),
        x: z.string(),
        y: z.string(),
        alg: z.literal('ES256'),
        use: z.literal('sig'),
      }),
    ),
  })
  .meta({ id: 'OfflineQrKeys' });

const credentialDeps = (deps: AppDeps) => ({
  db: deps.db,
  cache: deps.cache,
  masterKey: deps.masterKey,
  config: deps.config,
});

export function credentialTrustRoutes(api: ApiRouter, deps: AppDeps) {
  const publicUrl = deps.config.http.publicUrl;

  api.route(
    {
      method: 'get',
      path: '/trust/departments/:code/did.json',
      operationId: 'getDepartmentDidDocument',
      summary: "A department's DID document (did:web): the P-256 key its W3C credentials are signed with",
      tag: 'trust',
      auth: 'public',
      params: z.object({ code: departmentCode }),
      responses: { 200: { description: 'The DID document', schema: DidDocument, contentType: 'application/did+json' } },
    },
    async (ctx, { params }) => {
      if (!(await getDepartment(deps.db, params.code))) throw notFound(`No department ${params.code}`);
      ctx.type = 'application/did+json';
      ctx.body = await departmentDidDocument(deps.masterKey, publicUrl, params.code);
    },
  );

  api.route(
    {
      method: 'get',
      path: '/trust/status-lists/:code/:purpose',
      operationId: 'getCredentialStatusList',
      summary: "A department's Bitstring Status List for revocation or suspension, as a signed credential",
      tag: 'trust',
      auth: 'public',
      params: z.object({ code: departmentCode, purpose: z.enum(STATUS_PURPOSES) }),
      responses: { 200: { description: 'The BitstringStatusListCredential', schema: VerifiableCredential } },
    },
    async (ctx, { params }) => {
      ctx.set('cache-control', 'no-cache');
      return statusListCredential(credentialDeps(deps), params.code, params.purpose);
    },
  );

  api.route(
    {
      method: 'get',
      path: '/trust/offline-keys',
      operationId: 'getOfflineQrKeys',
      summary:
        "Every department's P-256 key for the signature in printed QR codes (JWK set; the verify page caches it)",
      tag: 'trust',
      auth: 'public',
      responses: { 200: { description: 'JWK set, kid = department code', schema: OfflineQrKeys } },
    },
    async (ctx) => {
      ctx.set('cache-control', 'public, max-age=3600');
      const departments = await listDepartments(deps.db);
      return { keys: offlineQrKeys(deps.masterKey, departments) };
    },
  );
}
