// Structured logging (pino) shared by every layer; secrets are redacted before anything is written.
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

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

/** Query parameters that carry secrets (LibreTranslate clients send `?api_key=`). */
const SECRET_QUERY = /([?&](?:api_key|apikey|api-key|key|token|access_token)=)[^&#]*/gi;

/** A URL with the values of secret-bearing query parameters replaced by `[redacted]`. */
export function redactUrl(url: string): string {
  return url.replace(SECRET_QUERY, '$1[redacted]');
}

interface RequestLike { method?: string; url?: string; host?: string; ip?: string; socket?: { remotePort?: number } }

/** What a request log line says about its request: never headers, and the URL without secrets. */
function requestSummary(req: RequestLike) {
  return { method: req.method, url: redactUrl(req.url ?? ''), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort };
}

export function createLogger(options: LoggerOptions = {}, destination?: DestinationStream): Logger {
  const settings: LoggerOptions = {
    level: process.env.GEUL_LOG_LEVEL ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    ...options,
    serializers: { req: requestSummary, ...options.serializers },
  };
  return destination ? pino(settings, destination) : pino(settings);
}

/** A logger that writes nothing; the library default so importing geul never prints. */
export const silentLogger: Logger = pino({ level: 'silent' });
