import pino from 'pino';
import type { Config } from './config';

export type Logger = pino.Logger;

export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({
    level: config.logLevel,
    base: { service: 'certflow' },
    // Never let credentials reach the log, whatever a caller passes in.
    redact: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.secret'],
  });
}
