// The jobs service a server or worker owns: the queue (embedded SQLite, or Redis/BullMQ with config.redis), the
// uploaded-file store and the child-process runner. Opening it re-queues what a crash left running; closing stops it.
import { join } from 'node:path';
import type { GeulConfig } from '../core/config.js';
import { FileStore } from './files.js';
import type { JobQueue } from './queue.js';
import { RedisJobQueue, redisQueueOptions } from './redis-queue.js';
import { jobsDir, JobRunner } from './runner.js';
import { SqliteJobQueue } from './sqlite-queue.js';

export class JobService {
  private constructor(
    readonly queue: JobQueue, readonly files: FileStore, readonly runner: JobRunner, private readonly sqlite: SqliteJobQueue,
    /** Whether this process runs jobs: always in embedded mode; in Redis mode a worker or `serve --with-worker`. */
    readonly processes: boolean,
  ) {}

  /**
   * `onError`: what the runner could not record (a queue write failed; the job itself is unaffected). `perOwnerLimit`:
   * apply jobs.maxRunningPerKey (the server passes whether API keys are on). With config.redis the queue is Redis's
   * (REDIS_UNREACHABLE when it does not answer) and this process takes jobs only with config.jobs.withWorker.
   */
  static async open(config: GeulConfig, options: { onError?: (err: unknown) => void; perOwnerLimit?: boolean } = {}): Promise<JobService> {
    const processes = !config.redis || config.jobs.withWorker;
    const queue = config.redis ? await RedisJobQueue.open(redisQueueOptions(config, processes)) : undefined;
    const sqlite = SqliteJobQueue.open(config.dataDir, { maxAttempts: config.jobs.attempts });
    const files = new FileStore(sqlite.db, join(jobsDir(config), 'files'));
    const used = queue ?? sqlite;
    return new JobService(used, files, new JobRunner(used, config, options.onError, options.perOwnerLimit), sqlite, processes);
  }

  /** Re-queues what a crash left running, then (if this process runs jobs) starts taking them; returns how many. */
  async start(): Promise<number> {
    const requeued = await this.queue.requeueRunning();
    if (this.processes) this.runner.start();
    return requeued;
  }

  async close(): Promise<void> {
    await this.runner.close();
    await this.queue.close();
    if (this.queue !== this.sqlite) await this.sqlite.close();
  }
}
