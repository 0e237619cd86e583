// The embedded SQLite queue passes the JobQueue contract (test/jobs/queue-contract.ts), file-backed so a "crash"
// (the database closed with jobs still running) and a reopen see what a restarted server sees.
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
