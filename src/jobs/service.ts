// The embedded jobs service a server owns: the SQLite queue, the uploaded-file store and the child-process runner.
// Opening it re-queues the jobs a crash left running, so they resume; closing it stops their children.
import { join } from 'node:path';
import type { GeulConfig } from '../core/config.js';
import { FileStore } from './files.js';
import type { JobQueue } from './queue.js';
import { jobsDir, JobRunner } from './runner.js';
import { SqliteJobQueue } from './sqlite-queue.js';

export class JobService {
  private constructor(readonly queue: JobQueue, readonly files: FileStore, readonly runner: JobRunner, private readonly sqlite: SqliteJobQueue) {}

  /**
   * `onError`: what the runner could not record (a queue write failed; the job itself is unaffected). `perOwnerLimit`:
   * apply jobs.maxRunningPerKey (the server passes whether API keys are on).
   */
  static open(config: GeulConfig, options: { onError?: (err: unknown) => void; perOwnerLimit?: boolean } = {}): JobService {
    const sqlite = SqliteJobQueue.open(config.dataDir);
    const files = new FileStore(sqlite.db, join(jobsDir(config), 'files'));
    return new JobService(sqlite, files, new JobRunner(sqlite, config, options.onError, options.perOwnerLimit), sqlite);
  }

  /** Re-queues what a crash left running, then starts taking jobs; returns how many were re-queued. */
  async start(): Promise<number> {
    const requeued = await this.queue.requeueRunning();
    this.runner.start();
    return requeued;
  }

  async close(): Promise<void> {
    await this.runner.close();
    await this.sqlite.close();
  }
}
