import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Config } from './config';

/**
 * The master key from CERTFLOW_MASTER_KEY, or — outside production — one generated once
 * and kept in DATA_DIR/keys/master.key (mode 0600), so a fresh `npm start` needs no setup.
 */
export function loadMasterKey(config: Pick<Config, 'masterKey' | 'dataDir' | 'env'>): Buffer {
  if (config.masterKey) return Buffer.from(config.masterKey, 'utf8');
  if (config.env === 'production') throw new Error('CERTFLOW_MASTER_KEY: required in production');
  const file = path.join(config.dataDir, 'keys', 'master.key');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    try {
      fs.writeFileSync(file, randomBytes(48).toString('base64'), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; // another process made it first
    }
  }
  return Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'utf8');
}
