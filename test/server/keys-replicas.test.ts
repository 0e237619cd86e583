// Two real `geul serve --redis URL` processes on loopback ports sharing one Redis (a unique prefix) behave as one
// server: a key created on one works on the other, revoked on one is refused on the other, and its quota and rate
// limit are shared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisKeyStore } from '../../src/store/redis-keys.js';
import { openRedis } from '../../src/store/redis.js';
import { redisUrl, uniqueRedisPrefix } from '../helpers/redis.js';
import { spawnServe, type SpawnedServer } from '../helpers/server.js';

type Body = Record<string, unknown> & { error?: { code: string; message: string } };

async function replica(redis: string, prefix: string): Promise<SpawnedServer> {
  const dir = mkdtempSync(join(tmpdir(), 'geul-replica-'));
  return spawnServe(['--import', 'tsx', 'src/cli/bin.ts', 'serve', '--port', '0', '--workers', '1', '--auth', 'required',
    '--data-dir', join(dir, 'data'), '--redis', redis, '--log-level', 'warn'], { ...process.env, GEUL_REDIS_PREFIX: prefix, GEUL_OFFLINE: '1' });
}

async function call(base: string, method: string, path: string, key: string, body?: unknown): Promise<{ status: number; json: Body }> {
  const res = await fetch(`${base}${path}`, {
    method, headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Body };
}

test('two replicas on one Redis share keys, revocations, quotas and rate limits', async (t) => {
  const url = await redisUrl(t);
  if (!url) return;
  const prefix = uniqueRedisPrefix();
  // The first admin key, as `geul keys create --redis URL --scopes admin` makes it.
  const bootstrap = await RedisKeyStore.open(url, prefix);
  const root = (await bootstrap.create({ name: 'root', scopes: ['admin'] })).key;
  await bootstrap.close();
  const servers: SpawnedServer[] = [];
  try {
    servers.push(...await Promise.all([replica(url, prefix), replica(url, prefix)]));
    const [a, b] = servers.map((s) => s.url);
    assert.notEqual(a, b);

    // Created on A (each replica has its own data dir: the key can only come from Redis), used on B.
    const created = await call(a, 'POST', '/v1/keys', root, { name: 'client', scopes: ['tasks'], quota: '50chars/day' });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const key = String(created.json.key);
    const id = String(created.json.id);
    const thirty = { inputs: ['Which way to the train station'] };
    assert.equal(thirty.inputs[0].length, 30);
    const onB = await call(b, 'POST', '/v1/detect', key, thirty);
    assert.equal(onB.status, 200, JSON.stringify(onB.json));

    // The quota is one counter: B's 30 characters leave 20 for A.
    const overOnA = await call(a, 'POST', '/v1/detect', key, thirty);
    assert.equal(overOnA.status, 429);
    assert.equal(overOnA.json.error!.code, 'QUOTA_EXCEEDED');
    assert.equal((await call(a, 'POST', '/v1/detect', key, { inputs: ['twenty characters!!!'] })).status, 200);
    const usage = await call(b, 'GET', `/v1/keys/${id}/usage`, root);
    assert.deepEqual([usage.json.used, usage.json.remaining], [50, 0]);

    // A rate limit is one bucket too: two requests a minute, taken on A and B, the third refused on either.
    const limited = String((await call(b, 'POST', '/v1/keys', root, { name: 'limited', scopes: ['tasks'], rate: '2/min' })).json.key);
    assert.equal((await call(a, 'GET', '/v1/tasks', limited)).status, 200);
    assert.equal((await call(b, 'GET', '/v1/tasks', limited)).status, 200);
    const third = await call(a, 'GET', '/v1/tasks', limited);
    assert.equal(third.status, 429);
    assert.equal(third.json.error!.code, 'RATE_LIMITED');

    // Revoked on B, refused on A at once; both list the same keys.
    assert.equal((await call(b, 'DELETE', `/v1/keys/${id}`, root)).status, 200);
    assert.equal((await call(a, 'GET', '/v1/tasks', key)).status, 401);
    const names = async (base: string) => ((await call(base, 'GET', '/v1/keys', root)).json.data as { name: string; revoked_at: number | null }[])
      .map((k) => `${k.name}:${k.revoked_at === null ? 'active' : 'revoked'}`);
    assert.deepEqual(await names(a), ['root:active', 'client:revoked', 'limited:active']);
    assert.deepEqual(await names(b), await names(a));
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => {
      if (s.child.exitCode !== null) return resolve();
      s.child.once('exit', () => resolve());
      s.child.kill('SIGTERM');
    })));
    const raw = await openRedis(url);
    const keys = await raw.keys(`${prefix}:*`);
    if (keys.length > 0) await raw.del(...keys);
    raw.disconnect();
  }
});
