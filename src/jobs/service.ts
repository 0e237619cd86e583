// The jobs service a server or worker owns: the queue (embedded SQLite, or Redis/BullMQ with config.redis), the
// uploaded-file store (in the same backend) and the child-process runner. Opening it re-queues what a crash left running; closing stops it.
import { join } from 'node:path';
import type { GeulConfig } from '../core/config.js';
import type { ApiKeyStore } from '../store/key-store.js';
import { batchRefund } from './batch-job.js';
import { SqliteFileStore, type FileStore } from './files.js';
import { RedisFileStore } from './redis-files.js';
import type { JobQueue } from './queue.js';
import { RedisJobQueue, redisQueueOptions } from './redis-queue.js';
import { jobsDir, jobWorkDir, JobRunner } from './runner.js';
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
   * (REDIS_UNREACHABLE when it does not answer) and this process takes jobs only with config.jobs.withWorker. `keys`:
   * the key store a finished batch gives back the charges of its lines that failed while running to.
   */
  static async open(config: GeulConfig, options: { onError?: (err: unknown) => void; perOwnerLimit?: boolean; keys?: ApiKeyStore } = {}): Promise<JobService> {
    const processes = !config.redis || config.jobs.withWorker;
    const queue = config.redis ? await RedisJobQueue.open(redisQueueOptions(config, processes)) : undefined;
    const sqlite = SqliteJobQueue.open(config.dataDir, { maxAttempts: config.jobs.attempts });
    // File records live where the job records do: in Redis every replica must know every upload.
    const filesDir = join(jobsDir(config), 'files');
    let files: FileStore;
    try {
      files = config.redis ? await RedisFileStore.open(config.redis, config.redisPrefix, filesDir) : new SqliteFileStore(sqlite.db, filesDir);
    } catch (err) {
      await queue?.close();
      await sqlite.close();
      throw err;
    }
    const used = queue ?? sqlite;
    const { keys } = options;
    const refund = keys && (async (job: { id: string; type: string; runParams: Record<string, unknown> }) => {
      if (job.type !== 'batch') return;
      const due = await batchRefund(job.runParams, jobWorkDir(config, job.id));
      if (due) await keys.refund(due.key, due.day, due.amount);
    });
    return new JobService(used, files, new JobRunner(used, config, options.onError, options.perOwnerLimit, refund), sqlite, processes);
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
    await this.files.close();
    if (this.queue !== this.sqlite) await this.sqlite.close();
  }
}
