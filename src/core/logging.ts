// Structured logging (pino) shared by every layer; secrets are redacted before anything is written.
import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  'api_key',
  '*.api_key',
  'apiKey',
  '*.apiKey',
  'token',
  '*.token',
];

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino({
    level: process.env.GEUL_LOG_LEVEL ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    ...options,
  });
}

/** A logger that writes nothing; the library default so importing geul never prints. */
export const silentLogger: Logger = pino({ level: 'silent' });
