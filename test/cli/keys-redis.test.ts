// `geul keys create|list|revoke|usage` with --redis (the keys every replica shares) and on the local SQLite store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyStore } from '../../src/store/keys.js';
import { RedisKeyStore } from '../../src/store/redis-keys.js';
import { openRedis } from '../../src/store/redis.js';
import { jsonLines, runCli } from '../helpers/cli.js';
import { redisUrl, uniqueRedisPrefix } from '../helpers/redis.js';

type Listed = { id: string; name: string; revokedAt?: string; scopes: string[] };

test('keys with --redis: create, list, usage and revoke act on the shared Redis store, not the data dir', async (t) => {
  const url = await redisUrl(t);
  if (!url) return;
  const prefix = uniqueRedisPrefix();
  const dataDir = join(mkdtempSync(join(tmpdir(), 'geul-cli-keys-')), 'data');
  const env = { GEUL_REDIS_PREFIX: prefix };
  const cli = (...args: string[]) => runCli(['keys', ...args, '--redis', url, '--data-dir', dataDir], { env });
  const store = await RedisKeyStore.open(url, prefix);
  try {
    const created = await cli('create', '--name', 'ci', '--scopes', 'tasks,jobs', '--quota', '100chars/day', '--json');
    assert.equal(created.code, 0, created.stderr);
    const { key, id } = jsonLines(created.stdout)[0] as { key: string; id: string };
    assert.equal((await store.verify(key))?.id, id, 'the key is in Redis under the prefix');
    assert.equal(KeyStore.openExisting(dataDir), undefined, 'no SQLite store was made');
    assert.equal((await cli('create', '--name', 'ci')).code, 2, 'names are unique in Redis too');

    assert.equal(await store.charge(id, '2026-03-01', 40, 100), true);
    const usage = await cli('usage', 'ci', '--day', '2026-03-01', '--json');
    assert.equal(usage.code, 0, usage.stderr);
    assert.deepEqual(jsonLines(usage.stdout)[0], { id, name: 'ci', day: '2026-03-01', used: 40, quota: { amount: 100, unit: 'chars' }, remaining: 60 });

    const listed = jsonLines((await cli('list', '--json')).stdout) as Listed[];
    assert.deepEqual(listed.map((k) => [k.id, k.name, k.scopes]), [[id, 'ci', ['tasks', 'jobs']]]);
    const revoke = await cli('revoke', 'ci');
    assert.equal(revoke.code, 0, revoke.stderr);
    assert.equal(await store.verify(key), undefined, 'revoked for every replica');
    assert.ok((jsonLines((await cli('list', '--json')).stdout) as Listed[])[0].revokedAt);
    assert.equal((await cli('revoke', 'ci')).code, 2, 'nothing left to revoke');
  } finally {
    await store.close();
    const raw = await openRedis(url);
    const keys = await raw.keys(`${prefix}:*`);
    if (keys.length > 0) await raw.del(...keys);
    raw.disconnect();
  }
});

test('keys usage on the local store; --redis with nothing listening fails with REDIS_UNREACHABLE', async () => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'geul-cli-keys-')), 'data');
  const created = await runCli(['keys', 'create', '--name', 'local', '--quota', '5tokens/day', '--json', '--data-dir', dataDir]);
  assert.equal(created.code, 0, created.stderr);
  const usage = await runCli(['keys', 'usage', 'local', '--data-dir', dataDir]);
  assert.equal(usage.code, 0, usage.stderr);
  assert.match(usage.stdout, /\tlocal\t\d{4}-\d{2}-\d{2}\t0 of 5 tokens\n$/);
  const missing = await runCli(['keys', 'usage', 'nobody', '--data-dir', dataDir]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /API key "nobody" not found \[NOT_FOUND\]/);

  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const down = await runCli(['keys', 'list', '--redis', `redis://127.0.0.1:${port}`]);
  assert.equal(down.code, 3);
  assert.match(down.stderr, /Cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+.*\[REDIS_UNREACHABLE\]/);
});
