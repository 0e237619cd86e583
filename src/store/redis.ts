// The one way geul opens Redis: a URL in, a connected ioredis client out, or REDIS_UNREACHABLE naming the host
// (never the password) within a bounded wait, so `geul serve --redis` with Redis down fails at start, not later.
import { Redis, type RedisOptions } from 'ioredis';
import { geulError } from '../core/errors.js';

/** The URL with any password replaced, for messages and logs. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '(unparseable URL)';
  }
}

export interface OpenRedisOptions {
  /** How long to wait for the first connection before giving up (ms). */
  connectTimeoutMs?: number;
  /** Name shown by CLIENT LIST (helps operators see who is connected). */
  connectionName?: string;
  /**
   * Fail a command that has no answer within this many ms (while Redis is down, commands otherwise wait in the offline
   * queue until it is back). Not for blocking connections (BullMQ workers).
   */
  commandTimeoutMs?: number;
}

/**
 * Connects and waits until the server answers. `maxRetriesPerRequest: null` is what BullMQ requires of connections
 * that block (workers); after the first connection, ioredis reconnects on its own with backoff.
 */
export async function openRedis(url: string, options: OpenRedisOptions = {}): Promise<Redis> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw geulError('INVALID_CONFIG', { detail: `redis: "${redactRedisUrl(url)}" is not a URL (expected redis://host:port)` });
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw geulError('INVALID_CONFIG', { detail: `redis: expected a redis:// or rediss:// URL, got ${parsed.protocol}` });
  }
  const timeout = options.connectTimeoutMs ?? 5000;
  const redisOptions: RedisOptions = {
    maxRetriesPerRequest: null,
    lazyConnect: true,
    connectTimeout: timeout,
    enableOfflineQueue: true,
    ...(options.connectionName && { connectionName: options.connectionName }),
    ...(options.commandTimeoutMs !== undefined && { commandTimeout: options.commandTimeoutMs }),
  };
  const client = new Redis(url, redisOptions);
  // Until the first connection succeeds, errors are reported by connect() below; keep ioredis from logging them.
  const swallow = () => {};
  client.on('error', swallow);
  try {
    await withTimeout(client.connect().then(() => client.ping()), timeout);
  } catch (err) {
    client.disconnect();
    throw geulError('REDIS_UNREACHABLE', { url: redactRedisUrl(url), detail: (err as Error).message || String(err) });
  }
  return client;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then((v) => { clearTimeout(timer); resolve(v); }, (e: unknown) => { clearTimeout(timer); reject(e instanceof Error ? e : new Error(String(e))); });
  });
}

/** Deletes every key under `prefix:` (SCAN, not KEYS, so a big shared Redis is not blocked): tests and benchmarks clean up with it. */
export async function dropRedisPrefix(url: string, prefix: string): Promise<void> {
  const client = await openRedis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      if (keys.length > 0) await client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}
