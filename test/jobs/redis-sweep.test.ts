// The Redis queue's sweep, against a real Redis: a worker that died mid-job (its connections dropped, its BullMQ lock
// left to expire) leaves a record `running` that an API replica alone (no consumer alive) corrects: back to queued, or
// cancelled when a cancel was pending, or failed with JOB_PROCESS_DIED once out of jobs.attempts; a job whose lock is
// held is never touched; two replicas sweeping at once change each record once; and the sweep runs on its own timer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RedisJobQueue, type RedisQueueOptions } from '../../src/jobs/redis-queue.js';
import { openRedis } from '../../src/store/redis.js';
import { dropRedisPrefix, redisUrl, uniqueRedisPrefix } from '../helpers/redis.js';
import { waitFor } from './helpers.js';

const submit = (q: RedisJobQueue) => q.submit({ type: 'embed', params: { n: 1 }, runParams: { n: 1 }, owner: 'local' });
const states = async (q: RedisJobQueue, id: string) => (await q.events(id, 0)).filter((e) => e.kind === 'state').map((e) => e.data.state);

test('the sweep: dead workers\' running records become queued, cancelled or failed; held locks are left alone; concurrent sweeps count once', { timeout: 120_000 }, async (t) => {
  const url = await redisUrl(t);
  if (!url) return;
  const prefix = uniqueRedisPrefix();
  const opened: RedisJobQueue[] = [];
  const raw = await openRedis(url, { connectionName: 'geul-test-sweep' });
  t.after(async () => {
    for (const q of opened) await q.close();
    raw.disconnect();
    await dropRedisPrefix(url, prefix);
  });
  const base: RedisQueueOptions = { url, prefix, lockDurationMs: 60_000, stalledIntervalMs: 100, attempts: 2, backoffMs: 10, consumer: false, sweepIntervalMs: 0 };
  const open = async (options: Partial<RedisQueueOptions>) => {
    const q = await RedisJobQueue.open({ ...base, ...options });
    opened.push(q);
    return q;
  };
  const lockGone = (id: string) => waitFor(async () => ((await raw.exists(`${prefix}:jobs:${id}:lock`)) === 0 ? true : undefined), `the lock of ${id} to expire`, 1000, 20);

  // Two API replicas (no consumer: nothing here runs BullMQ's stalled check on the dead worker's jobs).
  const apiA = await open({});
  const apiB = await open({});
  // A worker with short locks that will die, and one that holds its job under a long lock.
  const dying = await open({ consumer: true, lockDurationMs: 300 });
  const living = await open({ consumer: true });
  const resumes = await submit(apiA);
  const cancelling = await submit(apiA);
  const held = await submit(apiA);
  assert.equal((await dying.claim('w-dying', { maxRunningPerOwner: 5 }))?.id, resumes.id);
  assert.equal((await dying.claim('w-dying', { maxRunningPerOwner: 5 }))?.id, cancelling.id);
  assert.equal((await living.claim('w-living', { maxRunningPerOwner: 5 }))?.id, held.id);
  assert.equal((await apiB.requestCancel(cancelling.id))?.state, 'running', 'a cancel waits for the runner');
  dying.crash();
  await lockGone(resumes.id);
  await lockGone(cancelling.id);
  assert.equal((await apiA.get(resumes.id))?.state, 'running', 'nothing corrects it before a sweep');

  const [a, b] = await Promise.all([apiA.sweep(), apiB.sweep()]);
  assert.equal(a + b, 2, `two records changed once in all (${a} + ${b})`);
  assert.equal(await apiA.sweep(), 0, 'a later sweep finds nothing more');
  assert.equal((await apiB.get(resumes.id))?.state, 'queued');
  assert.deepEqual(await states(apiA, resumes.id), ['queued', 'running', 'queued'], 'one state event, not one per sweep');
  assert.equal((await apiA.events(resumes.id, 0)).filter((e) => e.kind === 'log' && /lock expired\): re-queued/.test(String(e.data.message))).length, 1);
  const cancelled = (await apiB.get(cancelling.id))!;
  assert.equal(cancelled.state, 'cancelled');
  assert.ok(cancelled.finishedAt !== null);
  assert.deepEqual(await states(apiA, cancelling.id), ['queued', 'running', 'cancelled']);

  const stillHeld = (await apiA.get(held.id))!;
  assert.equal(stillHeld.state, 'running', 'a job whose lock is held is untouched');
  assert.equal(stillHeld.attempts, 1);
  assert.deepEqual(await states(apiA, held.id), ['queued', 'running']);
  assert.deepEqual((await apiA.list({ limit: 10, state: 'running' })).data.map((j) => j.id), [held.id]);

  // The swept job runs again (BullMQ's stalled check, run for the whole queue by some consumer, hands it over) and its
  // worker dies again: out of its 2 attempts, an API replica's own timer fails it, as CLAIM would have.
  const second = await open({ consumer: true, lockDurationMs: 300 });
  const again = await waitFor(() => second.claim('w-second', { maxRunningPerOwner: 5 }), 'the swept job to be delivered again', 500, 20);
  assert.equal(again.id, resumes.id);
  assert.equal(again.attempts, 2);
  second.crash();
  await open({ sweepIntervalMs: undefined });
  const failed = await waitFor(async () => { const j = await apiA.get(resumes.id); return j?.state === 'failed' ? j : undefined; }, 'the timer\'s sweep to fail the job', 1000, 20);
  assert.equal(failed.error?.code, 'JOB_PROCESS_DIED');
  assert.match(failed.error!.message, /each of its 2 runs/);
  assert.equal(failed.attempts, 2, 'not run a third time');
  assert.deepEqual(await states(apiA, resumes.id), ['queued', 'running', 'queued', 'running', 'failed']);

  // Owner counters agree with the records: only the held job is pending or running.
  assert.deepEqual(await raw.hgetall(`${prefix}:jobdb:running`), { local: '1' });
  assert.deepEqual(await raw.hgetall(`${prefix}:jobdb:pending`), { local: '1' });
  assert.equal((await living.finish(held.id, { state: 'succeeded' }))?.state, 'succeeded', 'its holder still finishes it');
});
