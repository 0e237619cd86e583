// The Redis/BullMQ queue passes the same JobQueue contract as the SQLite one (test/jobs/queue-contract.ts); a "crash"
// drops the queue's connections without releasing anything, and the reopened queue sees BullMQ's stalled-job check
// hand the dead worker's jobs back once their short locks expire (short, yet long enough that the other tests, which
// claim without heartbeats, keep theirs on a loaded machine). Skipped without Redis (a failure under CI=true).
import { after } from 'node:test';
import type { JobQueue } from '../../src/jobs/queue.js';
import { RedisJobQueue, type RedisQueueOptions } from '../../src/jobs/redis-queue.js';
import { dropRedisPrefix, redisUrl, uniqueRedisPrefix } from '../helpers/redis.js';
import { waitFor } from './helpers.js';
import { queueContract } from './queue-contract.js';

const settings = new WeakMap<JobQueue, RedisQueueOptions>();
const used: { url: string; prefix: string }[] = [];
after(async () => { for (const { url, prefix } of used) await dropRedisPrefix(url, prefix); });

async function open(options: RedisQueueOptions): Promise<RedisJobQueue> {
  const queue = await RedisJobQueue.open(options);
  settings.set(queue, options);
  return queue;
}

queueContract('redis', {
  async open(t) {
    const url = await redisUrl(t);
    if (!url) return undefined;
    const prefix = uniqueRedisPrefix();
    used.push({ url, prefix });
    // No sweep timer: the contract's crash tests call requeueRunning() themselves and count what it changed (the
    // timer's sweep has its own tests in redis-sweep.test.ts).
    return open({ url, prefix, lockDurationMs: 1500, stalledIntervalMs: 200, attempts: 3, backoffMs: 10, consumer: true, sweepIntervalMs: 0 });
  },
  async reopenAfterCrash(queue) {
    (queue as RedisJobQueue).crash();
    const reopened = await open(settings.get(queue)!);
    // BullMQ moves jobs whose lock expired back to wait (two stalled checks apart): the dead worker's are gone.
    await waitFor(async () => ((await reopened.bull.getActiveCount()) === 0 ? true : undefined), 'the stalled jobs back in wait', 500, 20);
    return reopened;
  },
  attempts: 3,
});
