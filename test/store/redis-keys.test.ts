// The key-store contract on Redis (two connections, one unique prefix), plus what only Redis does: no secret in
// Redis, everything under the prefix, and usage counters that expire.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { isGeulError } from '../../src/core/errors.js';
import { openRedis } from '../../src/store/redis.js';
import { RedisKeyStore, USAGE_TTL_S } from '../../src/store/redis-keys.js';
import { redisUrl, uniqueRedisPrefix } from '../helpers/redis.js';
import { keyStoreContract } from './key-store-contract.js';
import { keySecret } from '../helpers/keys.js';

async function dropPrefix(url: string, prefix: string): Promise<void> {
  const redis = await openRedis(url);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
}

async function openPair(t: TestContext) {
  const url = await redisUrl(t);
  if (!url) return undefined;
  const prefix = uniqueRedisPrefix();
  const a = await RedisKeyStore.open(url, prefix);
  const b = await RedisKeyStore.open(url, prefix);
  return {
    a, b, url, prefix,
    cleanup: async () => {
      await a.close();
      await b.close();
      await dropPrefix(url, prefix);
    },
  };
}

keyStoreContract('redis', openPair);

test('redis: the secret is never stored, every key sits under the prefix, usage counters expire', async (t) => {
  const pair = await openPair(t);
  if (!pair) return;
  const raw = await openRedis(pair.url);
  try {
    const { key, info } = await pair.a.create({ name: 'x', scopes: ['tasks'] });
    await pair.a.charge(info.id, '2026-01-01', 5, 10);
    await pair.a.takeToken(info.id, { count: 2, periodMs: 1000 }, Date.now());
    const names = await raw.keys(`${pair.prefix}:*`);
    assert.deepEqual(names.map((n) => n.slice(pair.prefix.length)).sort(),
      [':keys:all', `:keys:key:${info.id}`, ':keys:name:x', `:keys:rate:${info.id}`, `:keys:usage:${info.id}:2026-01-01`].sort());
    const secret = keySecret(key);
    for (const name of names) {
      const type = await raw.type(name);
      const values = type === 'hash' ? Object.values(await raw.hgetall(name)) : type === 'zset' ? await raw.zrange(name, '0', '-1') : [await raw.get(name) ?? ''];
      assert.ok(values.every((v) => !v.includes(secret)), `${name} holds no secret`);
    }
    const ttl = await raw.ttl(`${pair.prefix}:keys:usage:${info.id}:2026-01-01`);
    assert.ok(ttl > 0 && ttl <= USAGE_TTL_S, `usage expires (ttl ${ttl})`);
    assert.ok(await raw.pttl(`${pair.prefix}:keys:rate:${info.id}`) > 0, 'rate buckets expire');
  } finally {
    raw.disconnect();
    await pair.cleanup();
  }
});

test('redis: when Redis goes away, key checks fail with REDIS_UNREACHABLE (never pass, never hang)', async (t) => {
  const url = await redisUrl(t);
  if (!url) return;
  // A loopback proxy in front of the real Redis, closed mid-test as a Redis that goes down would be.
  const target = new URL(url);
  const sockets = new Set<Socket>();
  const proxy = createServer((client) => {
    const upstream = connect(Number(target.port || 6379), target.hostname);
    for (const s of [client, upstream]) { sockets.add(s); s.on('error', () => {}); s.on('close', () => sockets.delete(s)); }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const prefix = uniqueRedisPrefix();
  const store = await RedisKeyStore.open(`redis://127.0.0.1:${(proxy.address() as AddressInfo).port}`, prefix, { commandTimeoutMs: 500 });
  try {
    const { key, info } = await store.create({ name: 'k', scopes: ['tasks'] });
    assert.equal((await store.verify(key))?.id, info.id);
    await new Promise<void>((resolve) => { proxy.close(() => resolve()); for (const s of sockets) s.destroy(); });
    for (const attempt of [() => store.verify(key), () => store.charge(info.id, '2026-01-01', 1, 10), () => store.takeToken(info.id, { count: 1, periodMs: 1000 }, 0)]) {
      await assert.rejects(attempt(), (err: unknown) => isGeulError(err) && err.code === 'REDIS_UNREACHABLE' && err.status === 503);
    }
  } finally {
    await store.close();
    await dropPrefix(url, prefix);
  }
});
