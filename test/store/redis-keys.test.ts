// The key-store contract on Redis (two connections, one unique prefix), plus what only Redis does: no secret in
// Redis, everything under the prefix, and usage counters that expire.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { openRedis } from '../../src/store/redis.js';
import { RedisKeyStore, USAGE_TTL_S } from '../../src/store/redis-keys.js';
import { redisUrl, uniqueRedisPrefix } from '../helpers/redis.js';
import { keyStoreContract } from './key-store-contract.js';

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
    const secret = key.split('_')[2];
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
