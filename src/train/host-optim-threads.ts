// The host optimizer step shared out over worker threads: each thread updates a fixed set of dense parameters in
// place while the main thread updates its own set and the sparse (embedding) rows.
//
//   const threads = HostOptimizerThreads.start(config, 2, sizes);            // sizes: dense parameter → element count
//   const moved = await threads.step({ entries, scalars, clip: (norm) => clipScale(config, norm) });
//   for (const [name, arrays] of moved) …                                    // the moved parameters' arrays, rewrapped
//
// Why buffers are moved (transferred) rather than shared: onnxruntime-node refuses tensors over a SharedArrayBuffer
// ("Invalid argument", as feeds and as preallocated fetches alike), and parameters are fed and gradients fetched
// every step. Transferring an ArrayBuffer to a worker and back hands over the same memory without copying it; the
// arrays are rewrapped after each step, so callers must take them from the trainer's maps again (they do).
// Why the result equals one thread's bit for bit: the update is elementwise, with the same code (hostUpdate), and
// the clipping norm is a sum of per-gradient sums (globalNorm) added in model order on the main thread.
import { Worker } from 'node:worker_threads';
import { geulError } from '../core/errors.js';
import { siblingThreadEntry } from '../runtime/pool.js';
import { hostUpdate, sumOfSquares, type HostParamUpdate } from './host-optim.js';
import type { OptimizerConfig } from './optim.js';

/** One parameter of a step, in model order. */
export interface HostStepEntry {
  name: string;
  update: HostParamUpdate;
  decay: boolean;
}

export interface HostStep {
  entries: readonly HostStepEntry[];
  /** stepScalars(config, t, lr). */
  scalars: ArrayLike<number>;
  /** Global-norm clipping: the gradient scale for a norm. Absent: scale 1, no norm computed. */
  clip?: (norm: number) => number;
}

/** A moved parameter's arrays after the step (the old views are detached). */
export interface MovedArrays {
  param: Float32Array;
  grad: Float32Array;
  states: Float32Array[];
}

/** Messages between the main thread and an optimizer worker (host-optim-worker.ts). */
export interface WorkerEntry { param: ArrayBuffer; grad: ArrayBuffer; states: ArrayBuffer[]; decay?: boolean }
export type ToWorker =
  | { type: 'step'; entries: WorkerEntry[]; scalars: number[]; gradScale: number | null }
  | { type: 'scale'; gradScale: number };
export type FromWorker = { type: 'norms'; sums: number[] } | { type: 'done'; entries: WorkerEntry[] };

/** What the optimizer code needs of the config (functions such as noDecay cannot cross to a worker). */
export type WorkerOptimizerConfig = Pick<OptimizerConfig, 'name' | 'lr' | 'momentum' | 'beta1' | 'beta2' | 'weightDecay'>;

/** True when the array can be moved to a worker alone: it owns its whole, unshared ArrayBuffer. */
export function ownsBuffer(a: Float32Array): boolean {
  return a.byteOffset === 0 && a.buffer instanceof ArrayBuffer && a.buffer.byteLength === a.byteLength;
}

/**
 * Shares `sizes` (name → elements, in model order) out among `lanes` lanes, lane 0 being the main thread: largest
 * first onto the least loaded lane, so the split is the same for the same model and thread count.
 */
export function assignLanes(sizes: ReadonlyMap<string, number>, lanes: number): string[][] {
  const out: string[][] = Array.from({ length: lanes }, () => []);
  const load = new Array<number>(lanes).fill(0);
  const order = [...sizes].map(([name, size], i) => ({ name, size, i })).sort((a, b) => b.size - a.size || a.i - b.i);
  for (const { name, size } of order) {
    const lane = load.indexOf(Math.min(...load));
    out[lane].push(name);
    load[lane] += size;
  }
  return out;
}

class OptimizerWorker {
  private readonly waiting: { resolve: (m: FromWorker) => void; reject: (e: unknown) => void }[] = [];
  private readonly arrived: FromWorker[] = [];
  private failure?: unknown;

  constructor(readonly worker: Worker) {
    worker.on('message', (m: FromWorker) => {
      const next = this.waiting.shift();
      if (next) next.resolve(m);
      else this.arrived.push(m);
    });
    const fail = (err: unknown) => {
      this.failure ??= err;
      for (const w of this.waiting.splice(0)) w.reject(this.failure);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`optimizer thread exited with code ${code}`)));
    // An idle optimizer thread never keeps the process alive (release() ends it; so does the process's exit); a
    // step holds it referenced while its answer is awaited (hold).
    worker.unref();
  }

  post(message: ToWorker, transfer: ArrayBuffer[] = []): void {
    if (this.failure) throw this.failure;
    this.worker.postMessage(message, transfer);
  }

  /** While held, the event loop waits for this thread's messages. */
  hold(held: boolean): void {
    if (held) this.worker.ref();
    else this.worker.unref();
  }

  next(): Promise<FromWorker> {
    const ready = this.arrived.shift();
    if (ready) return Promise.resolve(ready);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }
}

export class HostOptimizerThreads {
  private constructor(
    private readonly config: OptimizerConfig,
    private readonly workers: OptimizerWorker[],
    /** Parameter names per worker (the main thread's lane is not listed: everything else is its own). */
    private readonly lanes: string[][],
  ) {}

  /** Starts `threads − 1` workers (the main thread is one of the `threads`) over the dense parameters `sizes`. */
  static start(config: OptimizerConfig, threads: number, sizes: ReadonlyMap<string, number>): HostOptimizerThreads {
    const lanes = assignLanes(sizes, Math.max(1, threads));
    const { entry, eval: fromSource } = siblingThreadEntry(import.meta.url, 'host-optim-worker');
    const plain: WorkerOptimizerConfig = { name: config.name, lr: config.lr, momentum: config.momentum, beta1: config.beta1, beta2: config.beta2, weightDecay: config.weightDecay };
    const workers = lanes.slice(1).map(() => new OptimizerWorker(new Worker(entry, { eval: fromSource, workerData: { config: plain } })));
    return new HostOptimizerThreads(config, workers, lanes.slice(1));
  }

  /** Threads taking part in a step, the main thread included. */
  get threads(): number {
    return this.workers.length + 1;
  }

  /**
   * One optimizer step over `step.entries`: the workers' parameters are moved to them and updated there, the rest
   * here, at the same time. Returns the moved parameters' arrays, which replace the detached ones.
   */
  async step(step: HostStep): Promise<Map<string, MovedArrays>> {
    const byName = new Map(step.entries.map((e) => [e.name, e]));
    const scalars = Array.from(step.scalars);
    const gradScale = step.clip ? null : 1;
    const sent = this.lanes.map((names) => names.filter((n) => byName.has(n)).map((n) => byName.get(n) as HostStepEntry));
    const mine = new Set(sent.flat().map((e) => e.name));
    const local = step.entries.filter((e) => !mine.has(e.name));
    this.workers.forEach((w) => w.hold(true));
    try {
      sent.forEach((entries, w) => {
        const message = entries.map(({ update, decay }) => ({ param: update.param.buffer as ArrayBuffer, grad: update.grad.buffer as ArrayBuffer, states: update.states.map((s) => s.buffer as ArrayBuffer), decay }));
        this.workers[w].post({ type: 'step', entries: message, scalars, gradScale }, message.flatMap((e) => [e.param, e.grad, ...e.states]));
      });
      let scale = 1;
      if (step.clip) {
        const sums = new Map(local.map((e) => [e.name, sumOfSquares(e.update.grad)]));
        for (const [w, entries] of sent.entries()) {
          const reply = await this.workers[w].next();
          if (reply.type !== 'norms') throw new Error(`optimizer thread answered ${reply.type} for norms`);
          entries.forEach((e, i) => sums.set(e.name, reply.sums[i]));
        }
        let total = 0;
        for (const e of step.entries) total += sums.get(e.name) as number;
        scale = step.clip(Math.sqrt(total));
        this.workers.forEach((w) => w.post({ type: 'scale', gradScale: scale }));
      }
      for (const e of local) hostUpdate(this.config, scalars, e.update, { gradScale: scale, decay: e.decay });
      const moved = new Map<string, MovedArrays>();
      for (const [w, entries] of sent.entries()) {
        const reply = await this.workers[w].next();
        if (reply.type !== 'done') throw new Error(`optimizer thread answered ${reply.type} for done`);
        entries.forEach((e, i) => {
          const back = reply.entries[i];
          moved.set(e.name, { param: new Float32Array(back.param), grad: new Float32Array(back.grad), states: back.states.map((s) => new Float32Array(s)) });
        });
      }
      return moved;
    } catch (err) {
      // The moved parameters are lost with the thread: the run cannot go on from this state.
      throw geulError('TRAINING_FAILED', { detail: `a host optimizer thread failed: ${err instanceof Error ? err.message : String(err)}` }, err);
    } finally {
      this.workers.forEach((w) => w.hold(false));
    }
  }

  async release(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
