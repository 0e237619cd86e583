// A worker-thread pool (piscina) for inference: bounded queue, per-call abort and message channel, worker restarts.
import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { geulError, type ErrorCode, type ErrorParams } from '../core/errors.js';

/** What a worker answers: a value, or a catalog error to rebuild on the main thread. */
export type WorkerReply = ({ ok: true; value: unknown } | { ok: false; code: ErrorCode; params: ErrorParams; detail?: string }) & {
  /** Models first loaded during this call, with their load time (metrics). */
  loads?: { model: string; seconds: number }[];
};

/** The last message a worker posts on a call's port; the pool waits for it so no streamed piece is lost. */
export const END_OF_MESSAGES = '\u0000geul:end';

/**
 * What the pool sends a worker for one call. `port` carries streamed messages out and "abort" in; calls that can
 * neither stream nor be aborted (merged encoder batches) go without one, which saves a channel per call.
 */
export interface WorkerCall {
  op: string;
  payload: unknown;
  port?: MessagePort;
  /** Int32Array over a SharedArrayBuffer; [0] becomes 1 once the caller aborted (checked before work starts). */
  abortFlag?: Int32Array;
  /** The pool's shutdown flag, shared by all calls: once [0] is 1, a call not yet started answers OVERLOADED at once. */
  poolClosing?: Int32Array;
}

/** True when a call reaches its worker after the pool began to close (it is then answered without running). */
export function arrivedAfterClose(call: WorkerCall): boolean {
  return call.op !== RELEASE_OP && call.poolClosing !== undefined && Atomics.load(call.poolClosing, 0) === 1;
}

/** The pool's last call to each worker: free what it holds (ONNX sessions) before it is terminated. */
export const RELEASE_OP = 'release';
export interface ReleasePayload { barrier: Int32Array; workers: number }

export interface PoolOptions {
  /** The worker module (a file URL or path). */
  filename: string | URL;
  threads: number;
  /** Calls allowed to wait beyond the ones running; more are refused with OVERLOADED. */
  maxQueue: number;
  workerData?: unknown;
  /** Extra Node flags for workers (e.g. ["--import", "tsx"] when running from TypeScript sources). */
  execArgv?: string[];
  /**
   * An extra "wide" worker, started with this workerData (its sessions use every core), for calls that allow it
   * and find the pool idle: a lone request then gets all cores, while under load the one-thread workers share
   * them without oversubscription. It holds its own copy of the models it runs, so callers allow it only for
   * small (encoder) models.
   */
  wide?: { workerData: unknown };
}

export interface PoolStats { running: number; queued: number; threads: number; restarts: number }

/** How one call may be placed: `widen` lets it run on the wide worker when the pool is idle. */
export interface RunOptions { signal?: AbortSignal; onMessage?: (message: unknown) => void; widen?: boolean }

/** Worker count when configured as 0: one per core, 1 to 4 (each worker's ONNX Runtime gets its share of the cores). */
export function autoWorkers(cores = availableParallelism()): number {
  return Math.max(1, Math.min(4, cores));
}

/**
 * ONNX Runtime intra-op threads per worker when the config leaves them at 0: the cores shared out among the
 * workers, at least 1. Left to ONNX Runtime, every worker's session would start one spinning thread per core, and
 * on a machine shared with other work those threads spin against each other and the event loop (measured in
 * bench/README.md: single-threaded sessions in two workers used about half the CPU per request under load).
 */
export function onnxThreadsPerWorker(workers: number, configured: number, cores = availableParallelism()): number {
  return configured > 0 ? configured : Math.max(1, Math.floor(cores / Math.max(1, workers)));
}

/**
 * Threads of the wide worker (0 = none): one is worth having only when the per-worker split left each worker fewer
 * threads than there are cores and the user chose no thread count of their own.
 */
export function wideWorkerThreads(workers: number, configured: number, enabled: boolean, cores = availableParallelism()): number {
  if (!enabled || configured > 0) return 0;
  return onnxThreadsPerWorker(workers, 0, cores) < cores ? cores : 0;
}

/** The worker module next to a calling module: `worker.ts` under tsx (sources), `worker.js` from dist/. */
export function siblingWorker(moduleUrl: string, base = 'worker'): { filename: string; execArgv: string[] } {
  const fromSource = moduleUrl.endsWith('.ts');
  const filename = fileURLToPath(new URL(`./${base}.${fromSource ? 'ts' : 'js'}`, moduleUrl));
  const execArgv = fromSource && !process.execArgv.some((a) => a.includes('tsx')) ? ['--import', 'tsx'] : [];
  return { filename, execArgv };
}

/**
 * What `new Worker(entry, { eval })` needs to start the worker module `base` next to a calling module: from
 * TypeScript sources (tests, benchmarks) a snippet that registers tsx first, since a plain worker does not get the
 * parent's loader hooks; from dist/, the file itself.
 */
export function siblingThreadEntry(moduleUrl: string, base: string): { entry: string; eval: boolean } {
  const { filename } = siblingWorker(moduleUrl, base);
  if (!filename.endsWith('.ts')) return { entry: filename, eval: false };
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  return { entry: `import(${tsx}).then((tsx) => { tsx.register(); return import(${JSON.stringify(pathToFileURL(filename).href)}); })`, eval: true };
}

export class WorkerPool {
  private readonly piscina: Piscina;
  private readonly widePiscina?: Piscina;
  private readonly maxQueue: number;
  private readonly maxThreads: number;
  /** Calls run, and how many of them on the wide worker (tests). */
  calls = 0;
  wideCalls = 0;
  private closing = false;
  private readonly closingFlag = new Int32Array(new SharedArrayBuffer(4));
  private active = 0;
  restarts = 0;
  /** Called when a worker died and was replaced (metrics). */
  onRestart?: () => void;
  /** Called with each model load a worker reports (metrics). */
  onLoad?: (model: string, seconds: number) => void;

  constructor(options: PoolOptions) {
    this.maxQueue = options.maxQueue;
    this.maxThreads = options.threads;
    this.piscina = this.start(options, options.threads, options.workerData);
    if (options.wide) this.widePiscina = this.start(options, 1, options.wide.workerData);
  }

  private start(options: PoolOptions, threads: number, workerData: unknown): Piscina {
    const piscina = new Piscina({
      filename: options.filename instanceof URL ? fileURLToPath(options.filename) : options.filename,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: Number.MAX_SAFE_INTEGER,
      workerData,
      // Workers inherit the parent's Node flags; extra ones (tsx for sources) are appended.
      execArgv: options.execArgv?.length ? [...process.execArgv, ...options.execArgv] : undefined,
      // Queue bounds are enforced in run(), before anything is allocated for the call.
      maxQueue: Infinity,
    });
    piscina.on('workerDestroy', () => {
      if (this.closing) return;
      this.restarts++;
      this.onRestart?.();
    });
    // A worker crash rejects its calls; the pool itself must never throw on the main thread.
    piscina.on('error', () => undefined);
    return piscina;
  }

  get stats(): PoolStats {
    const threads = this.threads.length;
    return { running: Math.min(this.active, threads), queued: this.piscina.queueSize + (this.widePiscina?.queueSize ?? 0), threads, restarts: this.restarts };
  }

  /** Calls admitted and not yet finished (running + waiting). */
  get pending(): number {
    return this.active;
  }

  /** The worker threads (tests use this to kill one mid-request). */
  get threads() {
    return this.widePiscina ? [...this.piscina.threads, ...this.widePiscina.threads] : this.piscina.threads;
  }

  /** True when another call would exceed the queue bound. */
  get full(): boolean {
    return this.active >= this.maxThreads + this.maxQueue;
  }

  /**
   * Runs `op` in a worker. Throws OVERLOADED (503) at once when the queue is full, CANCELLED when `signal`
   * aborts, INTERNAL when the worker died. `onMessage` receives what the worker posts on the call's port.
   */
  async run<T>(op: string, payload: unknown, options: RunOptions = {}): Promise<T> {
    if (this.closing) throw geulError('OVERLOADED', { retryAfter: 5 });
    if (this.full) throw geulError('OVERLOADED', { retryAfter: 1 });
    if (options.signal?.aborted) throw geulError('CANCELLED');
    // Only a call that finds nothing else admitted goes wide, so the wide worker never competes with busy ones for long.
    const target = options.widen && this.widePiscina && this.active === 0 ? this.widePiscina : this.piscina;
    if (target !== this.piscina) this.wideCalls++;
    this.calls++;
    this.active++;
    if (!options.signal && !options.onMessage) {
      try {
        return unwrap<T>(await this.dispatch(target, { op, payload }), this.onLoad);
      } finally {
        this.active--;
      }
    }
    const { port1, port2 } = new MessageChannel();
    const abortFlag = new Int32Array(new SharedArrayBuffer(4));
    const onAbort = (): void => {
      Atomics.store(abortFlag, 0, 1);
      port1.postMessage('abort');
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let allMessages: Promise<void> = Promise.resolve();
    if (options.onMessage) {
      const onMessage = options.onMessage;
      allMessages = new Promise((resolve) => {
        port1.on('message', (m: unknown) => (m === END_OF_MESSAGES ? resolve() : onMessage(m)));
        port1.on('close', () => resolve());
      });
    }
    try {
      const reply = await this.dispatch(target, { op, payload, port: port2, abortFlag }, [port2]);
      // The result can overtake the streamed messages; deliver them all before answering.
      await allMessages;
      return unwrap<T>(reply, this.onLoad);
    } finally {
      this.active--;
      options.signal?.removeEventListener('abort', onAbort);
      port1.close();
    }
  }

  private async dispatch(piscina: Piscina, call: WorkerCall, transferList?: MessagePort[]): Promise<WorkerReply> {
    try {
      return (await piscina.run({ ...call, poolClosing: this.closingFlag }, transferList ? { transferList } : {})) as WorkerReply;
    } catch (err) {
      throw geulError('INTERNAL', {}, err);
    }
  }

  /** Calls already running finish; calls still queued answer OVERLOADED (retry) without running; then workers stop. */
  async close(): Promise<void> {
    this.closing = true;
    Atomics.store(this.closingFlag, 0, 1);
    const pools = this.widePiscina ? [this.piscina, this.widePiscina] : [this.piscina];
    await Promise.all(pools.map((p) => releaseWorkers(p)));
    await Promise.all(pools.map((p) => p.close({ force: true })));
  }
}

function unwrap<T>(reply: WorkerReply, onLoad?: (model: string, seconds: number) => void): T {
  for (const l of reply.loads ?? []) onLoad?.(l.model, l.seconds);
  if (!reply.ok) throw geulError(reply.code, reply.params, reply.detail);
  return reply.value as T;
}

/**
 * Has every worker release what it holds (ONNX sessions) before it is terminated: onnxruntime-node aborted the
 * whole process (exit 134) when several workers that had run sessions were terminated with them alive. One
 * release call per worker, each held at a barrier until all have arrived, so no worker takes two.
 */
async function releaseWorkers(piscina: Piscina): Promise<void> {
  const workers = piscina.threads.length;
  if (workers === 0) return;
  const payload: ReleasePayload = { barrier: new Int32Array(new SharedArrayBuffer(4)), workers };
  const calls = Array.from({ length: workers }, () => piscina.run({ op: RELEASE_OP, payload } satisfies WorkerCall));
  // A worker that cannot release (a test worker, a dead one) is terminated as before.
  await Promise.allSettled(calls);
}
