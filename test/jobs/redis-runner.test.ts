// The runner on the Redis queue, in-process: a runner that cannot renew a job's lock in time (heartbeat slower than
// the lock, as a paused or cut-off worker) loses the job to another consumer, and on its next heartbeat stops its own
// copy (the child is killed, nothing more recorded) instead of running it twice. A job whose process dies is retried
// by BullMQ with backoff up to jobs.attempts runs, then fails with JOB_PROCESS_DIED.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/core/config.js';
import { RedisJobQueue } from '../../src/jobs/redis-queue.js';
import { JobRunner } from '../../src/jobs/runner.js';
import { dropRedisPrefix, redisUrl, uniqueRedisPrefix } from '../helpers/redis.js';
import { waitFor, writeToyTsv } from './helpers.js';

const FINAL = ['succeeded', 'failed', 'cancelled'];

test('a job process that dies is retried with backoff, then fails after jobs.attempts runs', { timeout: 120_000 }, async (t) => {
  const url = await redisUrl(t);
  if (!url) return;
  const work = mkdtempSync(join(tmpdir(), 'geul-redis-retry-'));
  writeToyTsv(join(work, 'toy.tsv'));
  const params = { data: { source: join(work, 'toy.tsv'), maxLength: 10, vocabSize: 50 }, model: { name: 'bow' }, run: { epochs: 2000, batchSize: 8, threads: 1 } };
  const prefix = uniqueRedisPrefix();
  const queue = await RedisJobQueue.open({ url, prefix, lockDurationMs: 30_000, stalledIntervalMs: 30_000, attempts: 2, backoffMs: 50, consumer: true });
  const config = loadConfig({ offline: true, dataDir: join(work, 'data'), cacheDir: join(work, 'cache'), logLevel: 'silent', jobs: { concurrency: 1, heartbeatMs: 100 } }, { skipFile: true, env: {} });
  const runner = new JobRunner(queue, config, (err) => { throw err; }, false);
  t.after(async () => {
    await runner.close(5000);
    await queue.close();
    await dropRedisPrefix(url, prefix);
  });
  const { id } = await queue.submit({ type: 'train', params, runParams: params, owner: 'local' });
  runner.start();
  for (const attempt of [1, 2]) {
    const pid = await waitFor(async () => (await queue.events(id, 0)).find((e) => e.data.attempt === attempt)?.data.pid as number | undefined, `attempt ${attempt} to start`);
    process.kill(pid, 'SIGKILL'); // the OOM killer, say
  }
  const job = await waitFor(async () => { const j = await queue.get(id); return j && FINAL.includes(j.state) ? j : undefined; }, 'the job to fail');
  assert.equal(job.state, 'failed');
  assert.equal(job.error!.code, 'JOB_PROCESS_DIED');
  assert.equal(job.attempts, 2);
  const events = await queue.events(id, 0);
  assert.deepEqual(events.filter((e) => e.kind === 'state').map((e) => e.data.state), ['queued', 'running', 'queued', 'running', 'failed']);
  assert.ok(events.some((e) => e.kind === 'log' && /retrying in .* \(run 2 of 2\)/.test(String(e.data.message))));
  assert.equal(await queue.bull.getJobState(id), 'failed', 'BullMQ ran out of attempts too');
});

test('a runner that lost its lock stops its copy of the job; the other consumer has it', { timeout: 120_000 }, async (t) => {
  const url = await redisUrl(t);
  if (!url) return;
  const work = mkdtempSync(join(tmpdir(), 'geul-redis-runner-'));
  writeToyTsv(join(work, 'toy.tsv'));
  const params = { data: { source: join(work, 'toy.tsv'), maxLength: 10, vocabSize: 50 }, model: { name: 'bow' }, run: { epochs: 2000, batchSize: 8, threads: 1 } };
  const prefix = uniqueRedisPrefix();
  const options = { url, prefix, lockDurationMs: 400, stalledIntervalMs: 100, attempts: 3, backoffMs: 10, consumer: true };
  const slow = await RedisJobQueue.open(options);
  const other = await RedisJobQueue.open(options);
  const config = loadConfig({ offline: true, dataDir: join(work, 'data'), cacheDir: join(work, 'cache'), logLevel: 'silent', jobs: { concurrency: 1, heartbeatMs: 3000 } }, { skipFile: true, env: {} });
  const runner = new JobRunner(slow, config, (err) => { throw err; }, false);
  const timers: { renew?: NodeJS.Timeout } = {};
  t.after(async () => {
    clearInterval(timers.renew);
    await runner.close(5000);
    await slow.close();
    await other.close();
    await dropRedisPrefix(url, prefix);
  });

  const { id } = await slow.submit({ type: 'train', params, runParams: params, owner: 'local' });
  runner.start();
  await waitFor(async () => (runner.active === 1 ? true : undefined), 'the slow runner to start the job');
  // Its lock (400 ms) expires long before its first heartbeat (3 s): BullMQ's stalled check hands the job on.
  const taken = await waitFor(() => other.claim('w2', { maxRunningPerOwner: 5 }), 'the other consumer to get the stalled job', 500, 20);
  assert.equal(taken.id, id);
  assert.equal(taken.attempts, 2);
  // The new holder renews its lock (as its runner's heartbeat would), so the job stays with it.
  timers.renew = setInterval(() => void other.heartbeat(id, 'w2'), 100);
  await waitFor(async () => (runner.active === 0 ? true : undefined), 'the slow runner to stop its copy', 500, 20);
  const events = await other.events(id, 0);
  assert.ok(events.some((e) => e.kind === 'log' && /lost the job's lock/.test(String(e.data.message))));
  assert.deepEqual(events.filter((e) => e.kind === 'state').map((e) => e.data.state), ['queued', 'running', 'queued', 'running'], 'no outcome recorded by the lost copy');
  assert.equal((await other.finish(id, { state: 'cancelled' }))!.state, 'cancelled', 'the holder finishes it');
});
