// Runs queued jobs off the event loop: each claimed job in its own child process (concurrency from config), its
// events recorded in the queue, cancel delivered as an abort message, heartbeats while it runs.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { GeulConfig } from '../core/config.js';
import { siblingWorker } from '../runtime/pool.js';
import type { JobRunEvent } from './job-type.js';
import type { ChildMessage, ParentMessage } from './protocol.js';
import type { JobOutcome, JobQueue, JobRecord } from './queue.js';
import { randomId } from './sqlite-queue.js';
import { JobTrace, type Mark } from './trace.js';

export function jobsDir(config: GeulConfig): string {
  return config.jobs.dir ?? join(config.dataDir, 'jobs');
}

export function jobWorkDir(config: GeulConfig, id: string): string {
  return join(jobsDir(config), id);
}

interface Running {
  job: JobRecord;
  child: ChildProcess;
  finished?: JobOutcome;
  /** The job's queue writes, applied one after another in the order they were made. */
  writes: Promise<unknown>;
  /** Progress and step metrics are stored at most once per 1% of the total (logs and epoch metrics always). */
  lastStep: number;
  lastMetricsStep: number;
  cancelSent: boolean;
  /** The queue gave the job to another worker (its lock expired): this copy is stopped and records nothing more. */
  lost?: boolean;
  /** GEUL_JOB_TRACE=1: this runner's side of the job (event handling, queue writes), logged when the child exits. */
  trace: JobTrace;
  launched: Mark;
}

export class JobRunner {
  private readonly running = new Map<string, Running>();
  private readonly worker = randomId('runner_', 12);
  private closed = false;
  private timer?: NodeJS.Timeout;
  /** The heartbeat round in flight (one at a time: a slow queue does not pile rounds up). */
  private beating?: Promise<void>;
  private unsubscribe?: () => void;
  private ticking = false;
  private tickAgain = false;

  /**
   * `perOwnerLimit`: whether jobs.maxRunningPerKey applies (with auth off every job is the same "local" owner's, and
   * only jobs.concurrency limits them).
   */
  constructor(
    private readonly queue: JobQueue, private readonly config: GeulConfig, private readonly onError: (err: unknown) => void = () => {}, private readonly perOwnerLimit = true,
    /** Runs once a job's final state is recorded (the batch refunds); its failures go to onError. */
    private readonly onFinished?: (job: JobRecord, outcome: JobOutcome) => Promise<void>,
  ) {}

  /** Starts taking jobs: on every queue change and on each heartbeat tick. */
  start(): void {
    this.unsubscribe = this.queue.onChange(() => this.tick());
    this.timer = setInterval(() => {
      this.beating ??= this.heartbeat().finally(() => { this.beating = undefined; });
    }, this.config.jobs.heartbeatMs);
    this.timer.unref();
    this.tick();
  }

  get active(): number {
    return this.running.size;
  }

  /** Delivers a cancel at once (the heartbeat would find it within heartbeatMs anyway). */
  cancel(id: string): void {
    const r = this.running.get(id);
    if (r && !r.cancelSent && r.child.connected) {
      r.cancelSent = true;
      r.child.send({ type: 'abort' } satisfies ParentMessage);
    }
  }

  /** Claims jobs while there is room; calls made while one runs are folded into one more round. */
  private tick(): void {
    if (this.closed) return;
    if (this.ticking) {
      this.tickAgain = true;
      return;
    }
    this.ticking = true;
    void (async () => {
      try {
        do {
          this.tickAgain = false;
          while (!this.closed && this.running.size < this.config.jobs.concurrency) {
            const job = await this.queue.claim(this.worker, { maxRunningPerOwner: this.perOwnerLimit ? this.config.jobs.maxRunningPerKey : this.config.jobs.concurrency });
            if (!job) break;
            if (this.closed) break; // claimed as the runner closed: the next start re-queues it
            this.launch(job);
          }
        } while (this.tickAgain && !this.closed);
      } catch (err) {
        this.onError(err);
      } finally {
        this.ticking = false;
      }
    })();
  }

  private async heartbeat(): Promise<void> {
    try {
      for (const id of [...this.running.keys()]) {
        const beat = await this.queue.heartbeat(id, this.worker);
        if (beat.lost) this.abandon(id);
        else if (beat.cancelRequested) this.cancel(id);
      }
    } catch (err) {
      this.onError(err);
    }
    this.tick();
  }

  /** Stops a job this runner lost (another worker may run it now): its child is killed, its outcome not recorded. */
  private abandon(id: string): void {
    const r = this.running.get(id);
    if (!r || r.lost) return;
    r.lost = true;
    r.child.kill('SIGKILL');
    this.write(r, () => this.queue.appendEvent(id, 'log', { level: 'warning', message: `runner ${this.worker} lost the job's lock (it was paused or cut off for longer than a lock): its copy was stopped`, runner: this.worker }));
  }

  /** Queues a write for the job after its earlier ones. */
  private write(r: Running, fn: () => Promise<unknown>): void {
    r.writes = r.writes.then(fn).catch(this.onError);
  }

  private launch(job: JobRecord): void {
    const { filename, execArgv } = siblingWorker(import.meta.url, 'child');
    const workDir = jobWorkDir(this.config, job.id);
    const child = fork(filename, [], { execArgv: [...process.execArgv.filter((a) => !a.startsWith('--inspect')), ...execArgv], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const trace = new JobTrace();
    const r: Running = { job, child, writes: Promise.resolve(), lastStep: -Infinity, lastMetricsStep: -Infinity, cancelSent: false, trace, launched: trace.mark() };
    this.running.set(job.id, r);
    this.write(r, () => this.queue.appendEvent(job.id, 'log', { level: 'info', message: `attempt ${job.attempts} started in process ${child.pid} (runner ${this.worker} on ${hostname()}, pid ${process.pid})`, pid: child.pid, attempt: job.attempts, runner: this.worker, runnerPid: process.pid }));
    child.on('message', (message: ChildMessage) => {
      if (r.lost) return;
      if (message.type === 'ready') {
        void mkdir(workDir, { recursive: true }).then(() => {
          if (!child.connected) return;
          child.send({ type: 'run', jobId: job.id, jobType: job.type, params: job.runParams, workDir, resume: job.attempts > 1, config: this.config } satisfies ParentMessage);
          if (job.cancelRequested) this.cancel(job.id);
        }, this.onError);
      } else if (message.type === 'event') r.trace.span(`${message.event.kind} event handled`, () => this.record(r, message.event));
      else r.finished = message.outcome;
    });
    child.on('error', this.onError);
    child.on('exit', (code, signal) => {
      // A runner that is closing leaves the job running: the next start re-queues it and it resumes.
      if (this.closed) {
        this.running.delete(job.id);
        return;
      }
      if (r.lost) {
        void r.writes.then(() => {
          this.running.delete(job.id);
          this.tick();
        });
        return;
      }
      const outcome: JobOutcome = r.finished ?? { state: 'failed', error: { code: 'JOB_PROCESS_DIED', message: `The job process exited unexpectedly (${signal ? `signal ${signal}` : `exit code ${code}`})` } };
      if (outcome.state === 'succeeded' && r.job.total !== null) this.write(r, () => this.queue.progress(job.id, r.job.total!, r.job.total));
      if (r.trace.enabled) this.write(r, () => this.queue.appendEvent(job.id, 'log', { level: 'info', message: this.traceSummary(r) }));
      this.write(r, () => this.queue.finish(job.id, outcome));
      if (this.onFinished) this.write(r, () => this.onFinished!(r.job, outcome));
      void r.writes.then(() => {
        this.running.delete(job.id);
        this.tick();
      });
    });
  }

  /** The runner's trace per chunk of a batch job (chunkSize rows of its total), else per progress event received. */
  private traceSummary(r: Running): string {
    r.trace.since('runner process, whole job', r.launched);
    const chunkSize = Number(r.job.runParams.chunkSize);
    const per = r.job.total && chunkSize > 0 ? Math.ceil(r.job.total / chunkSize) : r.lastStep;
    return r.trace.summary(`runner ${this.worker}, queue writes and event handling`, per);
  }

  private record(r: Running, event: JobRunEvent): void {
    const id = r.job.id;
    if (event.kind === 'log') {
      this.write(r, () => r.trace.span('log write', () => this.queue.appendEvent(id, 'log', { level: event.level, message: event.message })));
      return;
    }
    const total = event.kind === 'progress' ? event.total : r.job.total ?? 0;
    const stride = Math.max(1, (total || 0) / 100);
    if (event.kind === 'progress') {
      r.job.total = event.total;
      if (event.step - r.lastStep < stride && event.step !== event.total) return;
      r.lastStep = event.step;
      r.job.step = event.step;
      this.write(r, () => r.trace.span('progress write', () => this.queue.progressEvent(id, event.step, event.total)));
    } else {
      if (event.step >= 0 && event.step - r.lastMetricsStep < stride) return;
      if (event.step >= 0) r.lastMetricsStep = event.step;
      this.write(r, () => r.trace.span('metrics write', () => this.queue.appendEvent(id, 'metrics', { ...(event.step >= 0 && { step: event.step }), ...event.values })));
    }
  }

  /**
   * Stops taking jobs and ends the running children: each is asked to abort (training writes a checkpoint, a batch
   * stops after its chunk) and killed if it has not exited within `graceMs`. Their jobs stay `running`, so the next
   * start re-queues them and they resume from there; a queue that can (Redis) gets them back at once for another worker.
   */
  async close(graceMs = this.config.server.shutdownTimeoutMs): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    const exits = [...this.running.values()].map((r) => new Promise<void>((resolve) => {
      if (r.child.exitCode !== null || r.child.signalCode !== null) return resolve();
      const kill = setTimeout(() => r.child.kill('SIGKILL'), graceMs);
      r.child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      if (r.child.connected) r.child.send({ type: 'abort' } satisfies ParentMessage);
      else r.child.kill('SIGKILL');
    }).then(() => r.writes).then(() => this.queue.release?.(r.job.id)).catch(this.onError));
    // Heartbeats go on until the children are gone: a child still writing its checkpoint keeps its job's lock, so
    // no other worker takes the job up while this copy is still running.
    await Promise.all(exits);
    clearInterval(this.timer);
    // A heartbeat still in flight finishes before the caller closes the queue under it.
    await this.beating;
  }
}
