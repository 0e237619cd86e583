// openRedis: connects to a real Redis, and fails fast with REDIS_UNREACHABLE (password redacted) when none answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { isGeulError } from '../../src/core/errors.js';
import { openRedis, redactRedisUrl } from '../../src/store/redis.js';
import { redisUrl } from '../helpers/redis.js';

test('openRedis connects and the client answers commands', async (t) => {
  const url = await redisUrl(t);
  if (!url) return;
  const client = await openRedis(url);
  try {
    assert.equal(await client.ping(), 'PONG');
  } finally {
    client.disconnect();
  }
});

test('openRedis with nothing listening fails with REDIS_UNREACHABLE and never shows the password', async () => {
  // A port that was free a moment ago: nothing listens there.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const started = Date.now();
  await assert.rejects(openRedis(`redis://user:s3cret@127.0.0.1:${port}`, { connectTimeoutMs: 1500 }), (err: unknown) => {
    assert.ok(isGeulError(err) && err.code === 'REDIS_UNREACHABLE', String(err));
    assert.ok(!String((err as Error).message).includes('s3cret'), (err as Error).message);
    assert.match((err as Error).message, /127\.0\.0\.1/);
    return true;
  });
  assert.ok(Date.now() - started < 10_000, 'gave up within the bounded wait');
});

test('redactRedisUrl hides the password and openRedis refuses a non-redis URL', async () => {
  assert.equal(redactRedisUrl('redis://u:pw@h:1/2'), 'redis://u:***@h:1/2');
  await assert.rejects(openRedis('http://127.0.0.1:6379'), /redis:\/\//);
});
