// `geul worker`: takes jobs from the Redis/BullMQ queue and runs them, each in its own child process; any number of
// workers on any machines that share the job folders (--jobs-dir) and the artifact store (--artifacts). SIGTERM/SIGINT
// hand running jobs back, then exit.
import type { Command } from 'commander';
import { artifactsOption, type ConfigOverrides } from '../../core/config.js';
import { geulError } from '../../core/errors.js';
import { RedisKeyStore } from '../../store/redis-keys.js';
import { redactRedisUrl } from '../../store/redis.js';
import { JobService } from '../../jobs/service.js';
import { configFromCommand, numberOption } from '../context.js';

export interface WorkerFlags { models?: string; jobsDir?: string; artifacts?: string; concurrency?: number }

/** The config a worker's flags set: the job folders (jobs.dir) and the artifact store (jobs.artifacts) each on its own. */
export function workerOverrides(flags: WorkerFlags): ConfigOverrides {
  return {
    jobs: { withWorker: true, concurrency: flags.concurrency, dir: flags.jobsDir, ...(flags.artifacts !== undefined && { artifacts: artifactsOption(flags.artifacts) }) },
    server: { modelsDir: flags.models },
  };
}

export function register(program: Command): void {
  program
    .command('worker')
    .description('Run jobs from the Redis queue (--redis URL): training, Word2Vec and batch jobs submitted to any `geul serve --redis`')
    .option('--models <dir>', 'model folders, by folder name (the same paths the API servers resolve models to)')
    .option('--jobs-dir <dir>', 'job folders: work in progress, checkpoints, uploads (shared by every server and worker; default <data-dir>/jobs, or GEUL_JOBS_DIR)')
    .option('--artifacts <dir|s3://bucket/prefix>', 'where finished jobs publish their artifacts: a folder or an S3 bucket (as GEUL_ARTIFACTS; default: the job folders)')
    .option('--concurrency <n>', 'jobs run at once, each in its own child process (default: jobs.concurrency, 1)', numberOption('concurrency'))
    .addHelpText('after', '\nExamples:\n  $ geul worker --redis redis://127.0.0.1:6379 --models ./models --jobs-dir /shared/jobs --concurrency 2\n  $ geul worker --redis redis://127.0.0.1:6379 --jobs-dir /shared/jobs --artifacts s3://my-bucket/geul\n')
    .action(async (flags: WorkerFlags, cmd: Command) => {
      const config = configFromCommand(cmd, workerOverrides(flags));
      if (!config.redis) throw geulError('INVALID_CONFIG', { detail: 'geul worker takes jobs from Redis: pass --redis URL (or set GEUL_REDIS_URL)' });
      if (config.jobs.concurrency < 1) throw geulError('INVALID_CONFIG', { detail: '--concurrency: a worker runs at least one job at a time' });
      // The shared key store: a finished batch gives back what its lines that failed while running were charged.
      const keys = await RedisKeyStore.open(config.redis, config.redisPrefix);
      const service = await JobService.open(config, {
        onError: (err) => process.stderr.write(`geul: worker: could not record to the queue: ${(err as Error).message}\n`),
        keys,
      }).catch(async (err: unknown) => {
        await keys.close();
        throw err;
      });
      const requeued = await service.start();
      process.stderr.write(`geul: worker taking jobs from ${redactRedisUrl(config.redis)} (concurrency ${config.jobs.concurrency}, pid ${process.pid})${requeued ? `; ${requeued} job(s) of stopped workers re-queued` : ''}\n`);
      const stop = (signal: string): void => {
        process.stderr.write(`geul: ${signal} received, handing running jobs back to the queue\n`);
        void service.close().then(() => keys.close()).then(() => process.exit(0), () => process.exit(1));
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
}
