// The embedded SQLite queue passes the JobQueue contract (test/jobs/queue-contract.ts), file-backed so a "crash"
// (the database closed with jobs still running) and a reopen see what a restarted server sees; an older file migrates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobQueue } from '../../src/jobs/queue.js';
import { SqliteJobQueue } from '../../src/jobs/sqlite-queue.js';
import { queueContract } from './queue-contract.js';

const paths = new WeakMap<JobQueue, string>();

queueContract('sqlite', {
  async open() {
    const path = join(mkdtempSync(join(tmpdir(), 'geul-queue-')), 'jobs.sqlite');
    const queue = new SqliteJobQueue(path, { maxAttempts: 3 });
    paths.set(queue, path);
    return queue;
  },
  async reopenAfterCrash(queue) {
    (queue as SqliteJobQueue).db.close();
    const reopened = new SqliteJobQueue(paths.get(queue)!, { maxAttempts: 3 });
    paths.set(reopened, paths.get(queue)!);
    return reopened;
  },
  attempts: 3,
});

test('a jobs.sqlite from before cancel_requested_at gets the column on open; its jobs read with it null', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'geul-queue-')), 'jobs.sqlite');
  const old = new SqliteJobQueue(path);
  const job = await old.submit({ type: 'embed', params: {}, runParams: {}, owner: 'a' });
  old.db.exec('ALTER TABLE jobs DROP COLUMN cancel_requested_at');
  await old.close();
  const reopened = new SqliteJobQueue(path);
  assert.equal((await reopened.get(job.id))!.cancelRequestedAt, null);
  assert.equal(typeof (await reopened.requestCancel(job.id))!.cancelRequestedAt, 'number');
  await reopened.close();
});
