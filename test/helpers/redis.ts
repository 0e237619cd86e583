// The one way tests find a Redis server: GEUL_TEST_REDIS_URL, else redis://127.0.0.1:6379. Absent: the test is
// skipped with a message, except under CI=true, where .ci/run has started one and its absence is a failure.
import { randomBytes } from 'node:crypto';
import { createConnection } from 'node:net';
import type { TestContext } from 'node:test';

export const TEST_REDIS_URL = process.env.GEUL_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

let reachable: Promise<boolean> | undefined;

/** Answers PING within a second? (checked once per test process, over a raw socket so no client library logs). */
function probe(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port || 6379) });
    const done = (ok: boolean) => { socket.destroy(); resolve(ok); };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

/** The URL of a reachable Redis, or undefined after skipping the test (throws under CI=true). */
export async function redisUrl(t: TestContext): Promise<string | undefined> {
  reachable ??= probe(TEST_REDIS_URL);
  if (await reachable) return TEST_REDIS_URL;
  const message = `no Redis at ${TEST_REDIS_URL} (install redis-server and start it, or set GEUL_TEST_REDIS_URL)`;
  if (process.env.CI === 'true') throw new Error(`${message}; CI=true, where .ci/run starts one, so this is a failure`);
  t.skip(message);
  return undefined;
}

/** A key prefix no other test uses, so tests share one Redis without seeing each other's keys. */
export function uniqueRedisPrefix(): string {
  return `geul-test-${randomBytes(6).toString('hex')}`;
}

/** Deletes every key under `prefix` (tests call it when done, so a shared Redis does not fill up). */
export { dropRedisPrefix } from '../../src/store/redis.js';
