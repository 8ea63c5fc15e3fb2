import type { Knex } from 'knex';
import { migrationContext } from './context';
import { createFaceCrypto, idNumberFields, isEncryptedFaceValue } from '../../platform/face-crypto';
import type { FaceField } from '../../domain/face-fields';

/**
 * Resident ID numbers in face data (idNumber fields) are encrypted at rest from now on
 * (platform/face-crypto.ts); this re-writes the rows stored before: every application revision
 * and every certificate whose type version has idNumber fields. Values already encrypted are
 * left alone, so running it again changes nothing; it only updates rows (no DDL), so on MySQL
 * as on SQLite it runs inside the migration's transaction and is applied whole or not at all.
 * Rows are read by primary key in pages, so tens of millions never sit in memory. Without the
 * master key it refuses when there is anything to encrypt: run `certflow migrate` with
 * CERTFLOW_MASTER_KEY set (or the development key file).
 */

const PAGE = 500;

type Versions = Map<string, Set<string>>;

async function idFieldsByVersion(knex: Knex): Promise<Versions> {
  const rows = (await knex('certificate_type_versions as v')
    .join('certificate_types as t', 't.id', 'v.type_id')
    .select('t.code', 'v.version', 'v.definition')) as { code: string; version: number | string; definition: string }[];
  const out: Versions = new Map();
  for (const r of rows) {
    const fields = (JSON.parse(r.definition) as { faceFields?: FaceField[] }).faceFields ?? [];
    const ids = idNumberFields(fields);
    if (ids.size) out.set(`${r.code}\n${Number(r.version)}`, ids);
  }
  return out;
}

/** The rewritten face data, or undefined when nothing changes. */
function rewrite(text: string, ids: Set<string>, f: (v: string) => string | undefined): string | undefined {
  const data = JSON.parse(text) as Record<string, unknown>;
  let changed = false;
  for (const k of ids) {
    const v = data[k];
    if (typeof v !== 'string') continue;
    const next = f(v);
    if (next !== undefined && next !== v) {
      data[k] = next;
      changed = true;
    }
  }
  return changed ? JSON.stringify(data) : undefined;
}

async function convert(knex: Knex, f: (v: string) => string | undefined, needKey: () => void): Promise<void> {
  const versions = await idFieldsByVersion(knex);
  if (!versions.size) return;
  const codes = [...new Set([...versions.keys()].map((k) => k.split('\n')[0]!))];

  // application_revisions: primary key (application_id, revision); paged by application id.
  let after = '';
  for (;;) {
    const apps = (await knex('applications')
      .whereIn('type_code', codes)
      .where('id', '>', after)
      .orderBy('id')
      .limit(PAGE)
      .select('id', 'type_code', 'type_version')) as { id: string; type_code: string; type_version: number | string }[];
    if (!apps.length) break;
    after = apps[apps.length - 1]!.id;
    const byApp = new Map(apps.map((a) => [a.id, versions.get(`${a.type_code}\n${Number(a.type_version)}`)]));
    const ids = apps.filter((a) => byApp.get(a.id)).map((a) => a.id);
    if (!ids.length) continue;
    const revs = (await knex('application_revisions')
      .whereIn('application_id', ids)
      .select('application_id', 'revision', 'face_data')) as {
      application_id: string;
      revision: number | string;
      face_data: string;
    }[];
    for (const r of revs) {
      const next = rewrite(r.face_data, byApp.get(r.application_id)!, (v) => (needKey(), f(v)));
      if (next !== undefined) {
        await knex('application_revisions')
          .where({ application_id: r.application_id, revision: Number(r.revision) })
          .update({ face_data: next });
      }
    }
  }

  // certificates: auto-increment id.
  let lastId = 0;
  for (;;) {
    const certs = (await knex('certificates')
      .whereIn('type_code', codes)
      .where('id', '>', lastId)
      .orderBy('id')
      .limit(PAGE)
      .select('id', 'type_code', 'type_version', 'face_data')) as {
      id: number | string;
      type_code: string;
      type_version: number | string;
      face_data: string;
    }[];
    if (!certs.length) break;
    lastId = Number(certs[certs.length - 1]!.id);
    for (const c of certs) {
      const ids = versions.get(`${c.type_code}\n${Number(c.type_version)}`);
      const next = ids && rewrite(c.face_data, ids, (v) => (needKey(), f(v)));
      if (next !== undefined)
        await knex('certificates')
          .where({ id: Number(c.id) })
          .update({ face_data: next });
    }
  }
}

function keyOrRefuse(): Buffer {
  const key = migrationContext.masterKey;
  if (!key)
    throw new Error(
      'migration 010 encrypts ID numbers in stored face data and needs the master key: run `certflow migrate` with CERTFLOW_MASTER_KEY set',
    );
  return key;
}

export async function up(knex: Knex): Promise<void> {
  let faces: ReturnType<typeof createFaceCrypto> | undefined;
  const need = () => void (faces ??= createFaceCrypto(keyOrRefuse()));
  await convert(knex, (v) => (isEncryptedFaceValue(v) ? undefined : faces!.encrypt(v)), need);
}

export async function down(knex: Knex): Promise<void> {
  let faces: ReturnType<typeof createFaceCrypto> | undefined;
  const need = () => void (faces ??= createFaceCrypto(keyOrRefuse()));
  await convert(knex, (v) => (isEncryptedFaceValue(v) ? faces!.decrypt(v) : undefined), need);
}
