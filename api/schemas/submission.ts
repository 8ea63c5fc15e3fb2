import { CALLBACK_EVENTS, webhooks } from '../openapi-webhooks';
import { DEMO } from './common';

/** The documentation parts of submitApplication (api/routes/applications.ts) that zod does not carry. */

export const IDEMPOTENCY_KEY = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'Any string of at most 100 characters, unique per business case. A request with a key this API client (or ' +
    'user) used before answers 200 with the application the first one made, whatever its body; no second ' +
    'application is created. Without the header, `externalRef` plays the same role.',
  schema: { type: 'string', maxLength: 100 },
  example: 'QY-2026-000123-submit',
};

export const LOCATION = {
  description: 'The application: `/api/v1/applications/{id}`',
  schema: { type: 'string' },
};

export const SUBMIT_DESCRIPTION = [
  'Starts the issuance workflow (docs/issuance.md). `faceData` is checked against the published version of the',
  'type (`getCertificateType` lists its face fields: keys, types, required, patterns; dates are `YYYY-MM-DD`),',
  'and `holder.id` must be a valid resident ID number or unified social credit code (check digit included);',
  "every invalid field is named in one 422. Modes: `review` runs the type's approval chain (answers",
  '`in-review`); `auto-seal` (API clients only: the approval system already approved the case) seals at once',
  '(answers `sealing`); `online-seal` asks a sealing officer to seal on `sealingUrl`. With `callbackUrl`,',
  'certflow POSTs the signed callbacks described under `webhooks` there. With `kind` change, renewal or reissue',
  'and `replaces`, the application supersedes that certificate when sealed: holder and face are carried from it',
  '(a change sends only the fields that change), and the old one becomes `superseded` in the same transaction',
  '(docs/lifecycle.md).',
].join(' ');

/** The demo company's business licence as a submission (db/seed-demo.ts); the tests' LICENCE is this. */
export const DEMO_LICENCE = {
  typeCode: 'BL',
  holder: { kind: 'entity', id: DEMO.company.id as string, name: DEMO.company.name as string },
  faceData: { ...DEMO.licenceFaceData },
};

export const SUBMIT_EXAMPLE = {
  ...DEMO_LICENCE,
  externalRef: 'QY-2026-000123',
  callbackUrl: 'https://approval.example.gov.cn/certflow/callback',
  mode: 'auto-seal',
};

/** The same messages as `webhooks`, tied to the submission's callbackUrl. */
export const CALLBACKS: Record<string, unknown> = (() => {
  const all = webhooks() as Record<string, { post: Record<string, unknown> }>;
  const out: Record<string, unknown> = {};
  // A submission's callbackUrl hears of its certificate; access requests have their own (docs/sharing.md).
  for (const event of CALLBACK_EVENTS.filter((e) => e.startsWith('certificate.'))) {
    const { operationId: _id, ...post } = all[event]!.post;
    out[event] = { '{$request.body#/callbackUrl}': { post } };
  }
  return out;
})();
