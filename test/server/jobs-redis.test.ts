// An API server in Redis mode (in-process, inject()): Redis unreachable at start is REDIS_UNREACHABLE; Redis lost
// while serving makes submits and reads fail with 503 REDIS_UNREACHABLE at once (never a 201 for a job no worker
// gets); once Redis is back, jobs submitted before the outage are still queued and every accepted job is delivered.
// With --with-worker (jobs.withWorker) the server also runs what it enqueues.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisJobQueue } from '../../src/jobs/redis-queue.js';
import { buildServer } from '../../src/server/app.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { dropRedisPrefix, redisUrl, uniqueRedisPrefix } from '../helpers/redis.js';
import { post, serverConfig } from '../helpers/server.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor, writeTextsJsonl } from '../jobs/helpers.js';

test('serve --redis with Redis unreachable fails at start with REDIS_UNREACHABLE', async (t) => {
  if (!(await redisUrl(t))) return;
  const proxy = await startTcpProxy('127.0.0.1', 6379);
  await proxy.cut();
  try {
    await assert.rejects(() => buildServer(serverConfig({}, { redis: `redis://127.0.0.1:${proxy.port}` })), (err: Error & { code?: string }) => err.code === 'REDIS_UNREACHABLE' && /Cannot reach Redis at redis:\/\/127\.0\.0\.1/.test(err.message));
  } finally {
    await proxy.close();
  }
});

test('Redis lost while serving: 503 REDIS_UNREACHABLE, nothing accepted is dropped, and it recovers', { timeout: 120_000 }, async (t) => {
  const url = await redisUrl(t);
  if (!url) return;
  const { hostname, port } = new URL(url);
  const proxy = await startTcpProxy(hostname, Number(port || 6379));
  const prefix = uniqueRedisPrefix();
  const fixtures = await fixturesDir();
  const work = mkdtempSync(join(tmpdir(), 'geul-jobs-redis-'));
  writeTextsJsonl(join(work, 'texts.jsonl'), 20);
  const app = await buildServer(serverConfig({ defaults: { embeddings: join(fixtures, 'tiny-bert-embed') } }, { redis: `redis://127.0.0.1:${proxy.port}`, redisPrefix: prefix }));
  const worker = await RedisJobQueue.open({ url, prefix, lockDurationMs: 30_000, stalledIntervalMs: 30_000, attempts: 1, backoffMs: 0, consumer: true });
  t.after(async () => {
    await app.close();
    await worker.close();
    await proxy.close();
    await dropRedisPrefix(url, prefix);
  });
  const body = { type: 'embed', params: { input: join(work, 'texts.jsonl') } };

  const before = await post(app, '/v1/jobs', body);
  assert.equal(before.status, 201, before.body);
  const first = before.json().id as string;

  await proxy.cut();
  const during = await waitFor(async () => {
    const res = await post(app, '/v1/jobs', body);
    return res.status === 201 ? undefined : res;
  }, 'the server to notice Redis is gone', 100, 50);
  assert.equal(during.status, 503, during.body);
  assert.equal(during.json().error!.code, 'REDIS_UNREACHABLE');
  const read = await app.inject({ method: 'GET', url: `/v1/jobs/${first}` });
  assert.equal(read.statusCode, 503);

  await proxy.restore();
  await waitFor(async () => ((await app.inject({ method: 'GET', url: `/v1/jobs/${first}` })).statusCode === 200 ? true : undefined), 'the server to reconnect', 500, 50);
  // The record and delivery connections reconnect on their own schedules: until both are back a submit is a clear 503
  // (its record cancelled, as checked below), never a 201 for a job that is not delivered.
  const afterwards = await waitFor(async () => {
    const res = await post(app, '/v1/jobs', body);
    if (res.status === 201) return res;
    assert.equal(res.json().error!.code, 'REDIS_UNREACHABLE', res.body);
    return undefined;
  }, 'a submit to succeed after Redis is back', 100, 50);
  assert.equal(afterwards.status, 201, afterwards.body);
  const second = afterwards.json().id as string;

  // Every job a client was told about is queued and delivered, in order; any submit cut short was cancelled.
  const listed = (await worker.list({ limit: 100 })).data;
  assert.deepEqual(listed.filter((j) => j.state !== 'cancelled').map((j) => j.id), [second, first]);
  assert.equal((await worker.claim('w', { maxRunningPerOwner: 5 }))?.id, first);
  assert.equal((await worker.claim('w', { maxRunningPerOwner: 5 }))?.id, second);
  assert.equal(await worker.claim('w', { maxRunningPerOwner: 5 }), undefined);
});

test('serve --redis --with-worker runs the jobs it enqueues', { timeout: 120_000 }, async (t) => {
  const url = await redisUrl(t);
  if (!url) return;
  const fixtures = await fixturesDir();
  const work = mkdtempSync(join(tmpdir(), 'geul-jobs-redis-'));
  writeTextsJsonl(join(work, 'texts.jsonl'), 20);
  const prefix = uniqueRedisPrefix();
  const app = await buildServer(serverConfig({ defaults: { embeddings: join(fixtures, 'tiny-bert-embed') } }, { redis: url, redisPrefix: prefix, jobs: { withWorker: true, heartbeatMs: 100 } }));
  t.after(async () => {
    await app.close();
    await dropRedisPrefix(url, prefix);
  });
  const res = await post(app, '/v1/jobs', { type: 'embed', params: { input: join(work, 'texts.jsonl') } });
  assert.equal(res.status, 201, res.body);
  const id = res.json().id as string;
  const job = await waitFor(async () => {
    const j = JSON.parse((await app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).body) as { state: string; artifacts: { name: string }[] };
    return ['succeeded', 'failed', 'cancelled'].includes(j.state) ? j : undefined;
  }, 'the job to finish', 3000, 50);
  assert.equal(job.state, 'succeeded');
  assert.ok(job.artifacts.some((a) => a.name === 'embeddings.jsonl'));
});
