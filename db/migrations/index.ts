import type { Knex } from 'knex';
import * as m001 from './001_foundation';
import * as m002 from './002_org_access';
import * as m003 from './003_certificate_types';
import * as m004 from './004_issuance';
import * as m005 from './005_certificates';
import * as m006 from './006_catalog_indexes';
import * as m007 from './007_lifecycle';
import * as m008 from './008_outbox';
import * as m009 from './009_audit_keyed_chain';
import * as m010 from './010_face_id_encryption';
import * as m011 from './011_callback_origins';
import * as m013 from './013_trust_time';
import * as m014 from './014_holder_portal';
import * as m015 from './015_metrics_indexes';
import * as m016 from './016_holder_requests';
import * as m017 from './017_credential_status';
import * as m018 from './018_sharing';
import * as m019 from './019_certificate_changes';
import * as m020 from './020_imports';
import * as m022 from './022_staff_assignment';

/**
 * Migrations are listed here rather than discovered on disk, so they load the same
 * way under tsx, compiled JS and the test runner. Append only; never edit a released one.
 */
const migrations: Record<string, Knex.Migration> = {
  '001_foundation': m001,
  '002_org_access': m002,
  '003_certificate_types': m003,
  '004_issuance': m004,
  '005_certificates': m005,
  '006_catalog_indexes': m006,
  '007_lifecycle': m007,
  '008_outbox': m008,
  '009_audit_keyed_chain': m009,
  '010_face_id_encryption': m010,
  '011_callback_origins': m011,
  '013_trust_time': m013,
  '014_holder_portal': m014,
  '015_metrics_indexes': m015,
  '016_holder_requests': m016,
  '017_credential_status': m017,
  '018_sharing': m018,
  '019_certificate_changes': m019,
  '020_imports': m020,
  '022_staff_assignment': m022,
};

export const migrationSource: Knex.MigrationSource<string> = {
  async getMigrations() {
    return Object.keys(migrations).sort();
  },
  getMigrationName(name) {
    return name;
  },
  async getMigration(name) {
    const m = migrations[name];
    if (!m) throw new Error(`unknown migration ${name}`);
    return m;
  },
};
