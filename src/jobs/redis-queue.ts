// The Redis job queue (`--redis`): job records, owners and events in Redis, shared by every API replica and worker;
// delivery through BullMQ (its locks, stalled-job recovery and retries with backoff), pulled by the runner's claim().
import { Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import { ReplyError, type Redis } from 'ioredis';
import { geulError, isGeulError } from '../core/errors.js';
import type { GeulConfig } from '../core/config.js';
import { openRedis, redactRedisUrl } from '../store/redis.js';
import { runsExhausted, type JobEvent, type JobEventKind, type JobOutcome, type JobQueue, type JobRecord, type JobState, type ListRequest, type SubmitRequest } from './queue.js';
import { APPEND_EVENT, CANCEL, CLAIM, FINISH, HEARTBEAT, PROGRESS, PROGRESS_EVENT, SUBMIT, SWEEP } from './redis-scripts.js';
import { randomId } from './sqlite-queue.js';

/** The BullMQ queue name (its keys are `<redisPrefix>:jobs:…`); the records live under `<redisPrefix>:jobdb:`. */
export const BULL_QUEUE = 'jobs';
/** Failures worth another run (the process died: OOM killer, a crash); every other failure is the job's own and final. */
const RETRYABLE = new Set(['JOB_PROCESS_DIED']);

export interface RedisQueueOptions {
  url: string;
  prefix: string;
  lockDurationMs: number;
  stalledIntervalMs: number;
  attempts: number;
  backoffMs: number;
  /** Takes jobs (a worker, or a server with --with-worker): runs BullMQ's stalled-job check. */
  consumer: boolean;
  /**
   * How often this process sweeps the running records whose lock expired back to queued or final (sweep()); consumer
   * or not (default: stalledIntervalMs; 0: no timer, the caller sweeps, as the queue contract's crash tests do).
   */
  sweepIntervalMs?: number;
  now?: () => number;
}

export function redisQueueOptions(config: GeulConfig, consumer: boolean): RedisQueueOptions {
  if (!config.redis) throw geulError('INVALID_CONFIG', { detail: 'redis: a Redis URL is needed for the Redis job queue' });
  const { lockDurationMs, stalledIntervalMs, attempts, backoffMs } = config.jobs;
  return { url: config.redis, prefix: config.redisPrefix, lockDurationMs, stalledIntervalMs, attempts, backoffMs, consumer };
}

type Fields = Record<string, string>;

function toRecord(h: Fields): JobRecord {
  const num = (v: string | undefined) => (v === undefined || v === '' ? null : Number(v));
  return {
    id: h.id, type: h.type, state: h.state as JobState, params: JSON.parse(h.params) as Record<string, unknown>,
    runParams: JSON.parse(h.run_params) as Record<string, unknown>, owner: h.owner, step: Number(h.step ?? 0), total: num(h.total),
    createdAt: Number(h.created_at), startedAt: num(h.started_at), finishedAt: num(h.finished_at),
    error: h.error_code ? { code: h.error_code, message: h.error_message ?? '' } : null,
    attempts: Number(h.attempts ?? 0), cancelRequested: h.cancel_requested === '1',
    cancelRequestedAt: num(h.cancel_requested_at),
  };
}

export class RedisJobQueue implements JobQueue {
  private readonly base: string;
  private readonly listeners = new Set<(jobId: string) => void>();
  /** Deliveries this process holds: the BullMQ job and the lock token it was fetched with. */
  private readonly held = new Map<string, { job: Job; token: string }>();
  private readonly now: () => number;
  private closed = false;
  private sweeper?: NodeJS.Timeout;

  private constructor(
    private readonly redis: Redis,
    private readonly subscriber: Redis,
    /** BullMQ's side, for operators and tests (counts, stalled jobs). */
    readonly bull: Queue,
    private readonly worker: Worker | undefined,
    private readonly options: RedisQueueOptions,
    /** The connections handed to BullMQ, which leaves shared connections open: ours to close. */
    private readonly connections: Redis[],
  ) {
    this.base = `${options.prefix}:jobdb:`;
    this.now = options.now ?? Date.now;
    subscriber.on('message', (_channel: string, jobId: string) => { for (const listener of this.listeners) listener(jobId); });
  }

  /** Connects (REDIS_UNREACHABLE when Redis does not answer) and, for a consumer, starts BullMQ's stalled-job check. */
  static async open(options: RedisQueueOptions): Promise<RedisJobQueue> {
    const subscriber = await openRedis(options.url, { connectionName: 'geul-jobs-events' });
    const opened: Redis[] = [subscriber];
    try {
      return await RedisJobQueue.connect(options, subscriber, opened);
    } catch (err) {
      // Redis went away between connections: close what was opened, so a failed start leaves nothing running.
      for (const client of opened) client.disconnect();
      throw isGeulError(err) ? err : geulError('REDIS_UNREACHABLE', { url: redactRedisUrl(options.url), detail: (err as Error).message }, err);
    }
  }

  private static async connect(options: RedisQueueOptions, subscriber: Redis, opened: Redis[]): Promise<RedisJobQueue> {
    // Records fail fast while Redis is away (REDIS_UNREACHABLE to the client) instead of waiting in an offline queue:
    // a client is never left unsure whether a job it was not told about got submitted later.
    const redis = subscriber.duplicate({ enableOfflineQueue: false, maxRetriesPerRequest: 1, connectionName: 'geul-jobs' });
    opened.push(redis);
    redis.on('error', () => {});
    await redis.connect();
    // The queue's connection fails fast as the records' does; the worker's waits out outages (BullMQ requires it).
    const connections = [subscriber.duplicate({ enableOfflineQueue: false, maxRetriesPerRequest: 1 }), ...(options.consumer ? [subscriber.duplicate()] : [])];
    opened.push(...connections);
    connections[0].on('error', () => {});
    await connections[0].connect();
    const bull = new Queue(BULL_QUEUE, { connection: connections[0], prefix: options.prefix });
    const worker = options.consumer
      ? new Worker(BULL_QUEUE, null, {
        connection: connections[1], prefix: options.prefix, autorun: false, lockDuration: options.lockDurationMs,
        stalledInterval: options.stalledIntervalMs,
        // A job whose worker died is re-queued and resumes; how often is ours to bound: CLAIM fails it after `attempts` runs.
        maxStalledCount: 1_000_000,
      })
      : undefined;
    const queue = new RedisJobQueue(redis, subscriber, bull, worker, options, connections);
    // Errors after the first connection are transient (ioredis reconnects); they surface as failed calls.
    const ignore = () => {};
    subscriber.on('error', ignore);
    bull.on('error', ignore);
    worker?.on('error', ignore);
    await subscriber.subscribe(`${queue.base}changed`);
    await bull.waitUntilReady();
    if (worker) {
      await worker.waitUntilReady();
      void worker.startStalledCheckTimer();
    }
    queue.startSweeping(options.sweepIntervalMs ?? options.stalledIntervalMs);
    return queue;
  }

  /**
   * BullMQ's stalled check runs only in consumers; with API replicas alone (every worker dead) nothing else would ever
   * correct a dead worker's `running` record, so every process sweeps. A failed sweep (Redis away) is retried at the
   * next tick: the calls clients make report REDIS_UNREACHABLE themselves.
   */
  private startSweeping(everyMs: number): void {
    if (everyMs <= 0) return;
    let sweeping = false;
    this.sweeper = setInterval(() => {
      if (sweeping) return;
      sweeping = true;
      this.sweep().catch(() => {}).finally(() => { sweeping = false; });
    }, everyMs);
    this.sweeper.unref();
  }

  /**
   * Running records whose BullMQ lock is gone become queued (a consumer resumes them), cancelled (a cancel was
   * pending) or failed (JOB_PROCESS_DIED, out of jobs.attempts); a record whose lock is held is left alone. Atomic,
   * so concurrent sweeps change each record once. Returns how many it changed.
   */
  async sweep(): Promise<number> {
    return Number(await this.run(SWEEP, this.bull.toKey(''), this.now(), this.options.attempts, runsExhausted(this.options.attempts).message));
  }

  onChange(listener: (jobId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async run(script: string, ...args: (string | number)[]): Promise<unknown> {
    try {
      return await this.redis.eval(script, 0, this.base, ...args.map(String));
    } catch (err) {
      throw this.unreachable(err);
    }
  }

  /** A lost connection becomes REDIS_UNREACHABLE (503); a script's own error (a bug) stays what it is. */
  private unreachable(err: unknown): unknown {
    if (isGeulError(err) || err instanceof ReplyError) return err;
    return geulError('REDIS_UNREACHABLE', { url: redactRedisUrl(this.options.url), detail: (err as Error).message }, err);
  }

  /** Runs Redis calls, a lost connection reported as REDIS_UNREACHABLE. */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.unreachable(err);
    }
  }

  private async fields(id: string): Promise<Fields | undefined> {
    const h = await this.guard(() => this.redis.hgetall(`${this.base}job:${id}`));
    return h.id ? h : undefined;
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const h = await this.fields(id);
    return h ? toRecord(h) : undefined;
  }

  async submit(request: SubmitRequest): Promise<JobRecord> {
    const id = randomId('job_');
    const seq = await this.run(SUBMIT, id, request.type, JSON.stringify(request.params), JSON.stringify(request.runParams), request.owner, this.now(), request.maxPending ?? -1);
    if (seq === 0) throw geulError('JOB_LIMIT', { limit: request.maxPending, what: 'queued or running' });
    try {
      await this.deliver(id);
    } catch (err) {
      // Not delivered: the caller is told it failed, so the record must not run later (if even this cancel cannot be
      // written, the next start's requeueRunning() delivers the queued record: run, never lost).
      await this.run(CANCEL, id, this.now()).catch(() => {});
      throw this.unreachable(err);
    }
    return (await this.get(id))!;
  }

  /** Hands the job to BullMQ; the job id doubles as BullMQ's, so delivering twice adds it once. */
  private async deliver(id: string): Promise<void> {
    await this.bull.add('run', { id }, {
      jobId: id, attempts: this.options.attempts, backoff: { type: 'exponential', delay: this.options.backoffMs },
      removeOnComplete: true, removeOnFail: { age: 7 * 24 * 3600 },
    });
  }

  async claim(worker: string, options: { maxRunningPerOwner: number }): Promise<JobRecord | undefined> {
    if (!this.worker) throw geulError('INTERNAL', { detail: 'this Redis job queue was opened without consumer: true' });
    const skipped = new Set<string>();
    for (;;) {
      const token = `${worker}:${randomId('', 8)}`;
      const job = (await this.worker.getNextJob(token, { block: false })) as Job | undefined;
      if (!job?.id) return undefined;
      const id = job.id;
      if (skipped.has(id)) {
        // Every waiting job's owner is at its limit: leave them for a later claim.
        await job.moveToDelayed(this.now(), token);
        return undefined;
      }
      const result = await this.run(CLAIM, id, worker, token, options.maxRunningPerOwner, this.now(), this.options.attempts, runsExhausted(this.options.attempts).message);
      if (result === 'ok') {
        this.held.set(id, { job, token });
        return (await this.get(id))!;
      }
      if (result === 'limited') {
        // Behind the owner's other jobs: delayed by nothing, it goes back to the end of the line (no attempt counted).
        skipped.add(id);
        await job.moveToDelayed(this.now(), token);
      } else await job.moveToCompleted(result, token, false); // cancelled before it ran, or no record: nothing to run
    }
  }

  async heartbeat(id: string, worker: string): Promise<{ cancelRequested: boolean; lost?: boolean }> {
    const held = this.held.get(id);
    // The lock is BullMQ's: renewing it is what keeps a long job from being taken as stalled. A lock that cannot be
    // renewed expired (this process was paused or cut off for longer than a lock): the job is no longer ours.
    if (held && !(await this.guard(() => held.job.extendLock(held.token, this.options.lockDurationMs)))) {
      this.held.delete(id);
      return { cancelRequested: false, lost: true };
    }
    return { cancelRequested: (await this.run(HEARTBEAT, id, worker, this.now())) === 1 };
  }

  async progress(id: string, step: number, total: number | null): Promise<void> {
    await this.run(PROGRESS, id, step, total ?? '');
  }

  async progressEvent(id: string, step: number, total: number): Promise<number> {
    return Number(await this.run(PROGRESS_EVENT, id, step, total, this.now()));
  }

  async appendEvent(id: string, kind: JobEventKind, data: Record<string, unknown>): Promise<number> {
    return Number(await this.run(APPEND_EVENT, id, kind, JSON.stringify(data), this.now()));
  }

  async finish(id: string, outcome: JobOutcome): Promise<JobRecord | undefined> {
    const held = this.held.get(id);
    this.held.delete(id);
    const error = outcome.state === 'failed' ? outcome.error : undefined;
    const retry = error && RETRYABLE.has(error.code) && held && held.job.attemptsMade + 1 < this.options.attempts;
    const retryMessage = retry ? `${error.message}: retrying in ${Math.round((this.options.backoffMs * 2 ** held.job.attemptsMade) / 1000)} s (run ${held.job.attemptsMade + 2} of ${this.options.attempts})` : '';
    const state = await this.run(FINISH, id, held?.token ?? '', outcome.state, error?.code ?? '', error?.message ?? '', this.now(), retryMessage);
    if (held && state !== '') {
      if (retry) await held.job.moveToFailed(new Error(error.message), held.token, false);
      else if (error) await held.job.moveToFailed(new UnrecoverableError(`${error.code}: ${error.message}`), held.token, false);
      else await held.job.moveToCompleted(outcome.state, held.token, false);
    }
    return this.get(id);
  }

  async requestCancel(id: string): Promise<JobRecord | undefined> {
    const state = await this.run(CANCEL, id, this.now());
    if (state === '') return undefined;
    // A queued job leaves BullMQ at once; if a worker is taking it right now, its claim sees the record and drops it.
    if (state === 'cancelled') await this.bull.remove(id).catch(() => 0);
    return this.get(id);
  }

  list(request: ListRequest): Promise<{ data: JobRecord[]; hasMore: boolean }> {
    return this.guard(() => this.listPage(request));
  }

  private async listPage(request: ListRequest): Promise<{ data: JobRecord[]; hasMore: boolean }> {
    const index = request.owner !== undefined ? `owner:${request.owner}` : request.state ? `state:${request.state}` : 'all';
    let max = '+inf';
    if (request.after !== undefined) {
      const seq = await this.redis.hget(`${this.base}job:${request.after}`, 'seq');
      if (seq === null) throw geulError('INVALID_INPUT', { detail: `after: no job "${request.after}"` });
      max = `(${seq}`;
    }
    const data: JobRecord[] = [];
    const batch = Math.max(request.limit + 1, 50);
    for (;;) {
      const page = await this.redis.zrevrangebyscore(`${this.base}${index}`, max, '-inf', 'WITHSCORES', 'LIMIT', 0, batch);
      if (page.length === 0) break;
      const ids = page.filter((_, i) => i % 2 === 0);
      const pipeline = this.redis.pipeline();
      for (const id of ids) pipeline.hgetall(`${this.base}job:${id}`);
      for (const [, h] of (await pipeline.exec()) ?? []) {
        const record = h && (h as Fields).id ? toRecord(h as Fields) : undefined;
        if (!record || (request.owner !== undefined && record.owner !== request.owner)) continue;
        if ((request.state && record.state !== request.state) || (request.type && record.type !== request.type)) continue;
        data.push(record);
        if (data.length > request.limit) return { data: data.slice(0, request.limit), hasMore: true };
      }
      if (ids.length < batch) break;
      max = `(${page[page.length - 1]}`;
    }
    return { data, hasMore: false };
  }

  async events(id: string, afterEventId: number): Promise<JobEvent[]> {
    const members = await this.guard(() => this.redis.zrangebyscore(`${this.base}events:${id}`, `(${afterEventId}`, '+inf'));
    return members.map((member) => {
      const space = member.indexOf(' ');
      const { kind, at, data } = JSON.parse(member.slice(space + 1)) as { kind: JobEventKind; at: number; data: Record<string, unknown> };
      return { id: Number(member.slice(0, space)), jobId: id, kind, data, at };
    });
  }

  /**
   * At start: jobs whose worker stopped (their lock expired) are swept (queued again, or final, as sweep());
   * BullMQ's stalled-job check hands the queued ones to a worker. Queued records are (re)delivered, which is a no-op
   * for those BullMQ already holds, so a submit cut short between record and delivery is not lost. Returns how many
   * records the sweep changed.
   */
  requeueRunning(): Promise<number> {
    return this.guard(() => this.requeue());
  }

  private async requeue(): Promise<number> {
    const changed = await this.sweep();
    for (const id of await this.redis.zrange(`${this.base}state:queued`, '0', '-1')) {
      if ((await this.bull.getJobState(id)) === 'unknown') await this.deliver(id);
    }
    return changed;
  }

  /**
   * Gives the jobs this process holds back to BullMQ at once (a graceful shutdown), so another worker resumes them
   * without waiting for their locks to expire.
   */
  async release(id: string): Promise<void> {
    const held = this.held.get(id);
    if (!held) return;
    this.held.delete(id);
    await this.run(FINISH, id, held.token, 'queued', '', '', this.now(), 'the worker shut down: re-queued, it resumes', 1);
    await held.job.moveToWait(held.token);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    await this.worker?.close();
    await this.bull.close();
    // QUIT when connected; with Redis away, just drop the connection rather than wait for it to come back.
    await Promise.allSettled([this.subscriber, this.redis, ...this.connections].map((c) => (c.status === 'ready' ? c.quit() : c.disconnect())));
  }

  /** For crash tests: drops every connection without releasing anything, as a SIGKILLed process would. */
  crash(): void {
    this.closed = true;
    clearInterval(this.sweeper);
    for (const client of [this.redis, this.subscriber, ...this.connections]) client.disconnect();
    void this.worker?.close(true).catch(() => {});
    void this.bull.close().catch(() => {});
  }
}
