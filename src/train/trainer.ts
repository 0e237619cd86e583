// Runs training: one session built per run; each step is one session run (forward, loss, backward) that writes the
// gradients into preallocated buffers, then the optimizer step on the host, in place; with gradient accumulation, one
// run per micro-batch, their gradients summed on the host, then one optimizer step.
//
//   const trainer = await Trainer.create(mlp({ features: 2, hidden: [8], classes: 2 }), { name: 'adam', lr: 0.05 }, { seed: 1 });
//   const { loss } = await trainer.step({ x: tensorX }, labels);
//   const onnx = trainer.exportOnnx();                   // inference graph with the trained weights as initializers
//
// Why this design: the host holds each parameter, its optimizer states and its gradient once (as torch does), and a
// step allocates nothing proportional to the model. The earlier in-graph optimizer fed parameters and states in and
// took new ones out into spare buffers, holding both twice, plus the full-size intermediates ORT made for the update;
// at BERT-base 8 × 256 the step's peak RSS fell from 7.1 to 5.5 GiB with this and the memory pattern off (bench/README.md).
import * as ort from 'onnxruntime-node';
import { geulError } from '../core/errors.js';
import { Rng } from '../core/random.js';
import { GraphBuilder } from '../graph/builder.js';
import { mix32 } from '../graph/random.js';
import { onnxThreadsPerWorker } from '../runtime/pool.js';
import { createSession, type Fetches, type GraphSession } from '../runtime/sessions.js';
import { DROPOUT_SEED_INPUT, ModelContext, type ModelDef, type ParamInfo } from './model.js';
import { clipScale, globalNorm, hostUpdate } from './host-optim.js';
import { HostOptimizerThreads, ownsBuffer, type HostStepEntry } from './host-optim-threads.js';
import { scheduledLr, stateSlots, stepScalars, type OptimizerConfig } from './optim.js';
import { ACCUM_SCALE_INPUT, gradientGraph, gradName, logitsShape } from './trainer-graphs.js';
import { runGuarded } from './trainer-memory.js';

export interface TrainerOptions {
  seed?: number;
  /** Total steps planned (for the LR schedule). */
  totalSteps?: number;
  threads?: number;
  /** Extra onnxruntime session options for the training session (e.g. profiling in benchmarks). */
  sessionOptions?: ort.InferenceSession.SessionOptions;
  /** Seeds the dropout masks (default: from `seed`); step t's masks come from (dropoutSeed, t) only. */
  dropoutSeed?: number;
  /** Parameters held constant: graph initializers, never differentiated, updated or fed, no optimizer state. */
  frozen?: (name: string) => boolean;
  /** Micro-batches per optimizer step (default 1). Above 1, `stepAccumulated` takes that many batches per step. */
  gradAccum?: number;
  /** Fetch the logits of training steps (default true). MLM turns this off: its training logits are [masked, vocab]. */
  fetchLogits?: boolean;
  /**
   * Threads of the host optimizer step, the main thread included (host-optim-threads.ts). Default: the training
   * session's thread count (one per core when unset, as for ONNX Runtime: the two never run at the same time) once
   * the dense parameters reach OPTIMIZER_THREADS_FROM numbers, else 1.
   */
  optimizerThreads?: number;
}

/**
 * Below this many dense parameter numbers the optimizer step stays on the main thread: it takes a few milliseconds
 * there, about what a round trip to the workers costs, and starting them costs more than a short run gains.
 */
export const OPTIMIZER_THREADS_FROM = 1 << 20;

export interface StepResult {
  loss: number;
  /** Logits of this batch before the update ([batch, classes] for classifiers; micro-batches concatenated); empty when not fetched. */
  logits: Float32Array;
}

/** Labels as a flat int64 array (shape [batch]) or a tensor of the model's label shape (MLM: [batch, seq]). */
export type Labels = BigInt64Array | ort.Tensor;

export interface MicroBatch {
  features: Record<string, ort.Tensor>;
  labels: Labels;
}

/** Model weights and optimizer state as plain typed arrays, by parameter name. */
export interface TrainState {
  step: number;
  /** Trainable parameters (frozen ones are not part of the state: they keep the model's initial values). */
  params: Map<string, Float32Array>;
  states: Map<string, Float32Array[]>;
  /**
   * Sparse (embedding) tables: 1 for each row some step updated. The other rows still hold their initial values and
   * zero optimizer state, so a checkpoint stores only the touched rows and a resume re-initialises the rest from the seed.
   */
  touched?: Map<string, Uint8Array>;
  /** A checkpoint's touched rows of sparse tables (ids, width, then param and state rows), applied by Trainer.create. */
  rows?: Map<string, { ids: Int32Array; width: number; slots: Float32Array[] }>;
}

interface Sessions {
  /** Forward + loss + backward (gradients scaled per micro-batch when accumulating). */
  train: GraphSession;
  eval?: GraphSession;
}

interface Internals {
  sessions: Sessions;
  featureNames: string[];
  /** Parameters updated by rows (embedding tables): the session returns the touched rows' gradients and their ids. */
  sparse: ReadonlySet<string>;
  /** One gradient buffer per dense parameter, written in place by each session run. */
  grads: Map<string, Float32Array>;
  /** Summed gradients of a step's micro-batches, when accumulating. */
  accumulators: Map<string, Float32Array>;
  frozen: Map<string, Float32Array>;
  /** Every parameter name in model order (trainable and frozen), for weights(). */
  order: string[];
  /** The optimizer's worker threads, when it has more than one thread. */
  optimizerThreads?: HostOptimizerThreads;
}

export class Trainer {
  private constructor(
    readonly model: ModelDef,
    readonly optimizer: OptimizerConfig,
    readonly state: TrainState,
    /** Shapes of all parameters, frozen ones included. */
    readonly shapes: Map<string, number[]>,
    private readonly options: TrainerOptions,
    private readonly x: Internals,
  ) {}

  static async create(model: ModelDef, optimizer: OptimizerConfig, options: TrainerOptions = {}, resume?: TrainState): Promise<Trainer> {
    const seed = options.seed ?? 0;
    const accumulate = (options.gradAccum ?? 1) > 1;
    const graphOptions = { seed: new Rng(seed), values: resume?.params, frozen: options.frozen };
    const settings = { threads: options.threads, extra: options.sessionOptions };
    const { g, ctx, forward } = gradientGraph(model, { ...graphOptions, accumulate });
    const sessions: Sessions = { train: await createSession(g.serialize(), settings) };
    const slots = stateSlots(optimizer);
    for (const [name, saved] of resume?.states ?? []) {
      if (saved.length !== slots.length) throw geulError('INVALID_INPUT', { detail: `the checkpoint holds ${saved.length} optimizer state tensors for ${name}, ${optimizer.name} needs ${slots.length}: resume with the optimizer it was trained with` });
    }
    const state: TrainState = {
      step: resume?.step ?? 0,
      params: new Map(ctx.params.map((p) => [p.name, p.data])),
      states: new Map(ctx.params.map((p) => [p.name, resume?.states.get(p.name) ?? slots.map(() => new Float32Array(p.data.length))])),
      touched: new Map(resume?.touched),
    };
    applyCheckpointRows(state, resume, ctx.params, slots.length);
    for (const p of ctx.params) if (p.rows && !state.touched?.has(p.name)) state.touched?.set(p.name, new Uint8Array(p.shape[0]));
    const all = [...ctx.params, ...ctx.frozenParams];
    const shapes = new Map(all.map((p) => [p.name, p.shape]));
    const dense = ctx.params.filter((p) => !p.rows);
    const internals: Internals = {
      sessions,
      featureNames: forward.inputs.map((v) => v.name),
      sparse: new Set(ctx.params.filter((p) => p.rows).map((p) => p.name)),
      grads: new Map(dense.map((p) => [p.name, new Float32Array(p.data.length)])),
      accumulators: new Map(accumulate ? dense.map((p) => [p.name, new Float32Array(p.data.length)]) : []),
      frozen: new Map(ctx.frozenParams.map((p) => [p.name, p.data])),
      order: all.map((p) => p.name),
    };
    const threads = optimizerThreadCount(options, dense);
    if (threads > 1) {
      // Moving a buffer to a worker moves all of it: each dense parameter and state gets a buffer of its own.
      for (const p of dense) {
        const own = (a: Float32Array) => (ownsBuffer(a) ? a : Float32Array.from(a));
        state.params.set(p.name, own(state.params.get(p.name) as Float32Array));
        state.states.set(p.name, (state.states.get(p.name) ?? []).map(own));
      }
      internals.optimizerThreads = HostOptimizerThreads.start(optimizer, threads, new Map(dense.map((p) => [p.name, p.data.length])));
    }
    return new Trainer(model, optimizer, state, shapes, options, internals);
  }

  /** Trainable parameters (numbers). */
  get parameterCount(): number {
    let n = 0;
    for (const p of this.state.params.values()) n += p.length;
    return n;
  }

  get frozenParameterCount(): number {
    let n = 0;
    for (const p of this.x.frozen.values()) n += p.length;
    return n;
  }

  /** Every parameter's current values (trainable and frozen), by name, in the order the model made them. */
  weights(): Map<string, Float32Array> {
    return new Map(this.x.order.map((name) => [name, (this.state.params.get(name) ?? this.x.frozen.get(name)) as Float32Array]));
  }

  /**
   * One optimisation step on a batch: the session writes the gradients (dense ones into the preallocated buffers),
   * then parameters and states are updated in place. With gradAccum > 1 this is a step of one micro-batch.
   */
  async step(features: Record<string, ort.Tensor>, labels: Labels): Promise<StepResult> {
    if (this.session.inputNames.includes(ACCUM_SCALE_INPUT)) return this.stepAccumulated([{ features, labels }]);
    const { out, loss } = await this.runGradients({ features, labels }, 0);
    const grads = new Map(this.x.grads);
    for (const name of this.x.sparse) grads.set(name, out[gradName(name)].data as Float32Array);
    await this.update(grads, this.x.grads, out);
    return { loss, logits: out.logits ? (out.logits.data as Float32Array) : new Float32Array(0) };
  }

  /**
   * One optimisation step over micro-batches (each padded to its own length): their gradients are summed, each
   * weighted by its share of the step's loss terms (`ModelDef.lossWeight`), so the step equals one step on their
   * concatenation. Needs a Trainer created with gradAccum > 1.
   */
  async stepAccumulated(micro: readonly MicroBatch[]): Promise<StepResult> {
    if (!this.session.inputNames.includes(ACCUM_SCALE_INPUT)) {
      if (micro.length === 1) return this.step(micro[0].features, micro[0].labels);
      throw geulError('INVALID_INPUT', { detail: 'gradient accumulation needs a Trainer created with gradAccum > 1' });
    }
    const weightOf = this.model.lossWeight ?? ((labels: BigInt64Array) => labels.length);
    const weights = micro.map((m) => weightOf(labelTensor(m.labels).data as BigInt64Array));
    const total = weights.reduce((a, b) => a + b, 0);
    if (!(total > 0)) throw geulError('INVALID_INPUT', { detail: 'the step\'s batches hold no labelled positions' });
    const logits: Float32Array[] = [];
    let loss = 0;
    for (let k = 0; k < micro.length; k++) {
      const run = await this.runGradients(micro[k], k, weights[k] / total);
      loss += (run.loss * weights[k]) / total;
      if (run.out.logits) logits.push(run.out.logits.data as Float32Array);
      for (const [name, sum] of this.x.accumulators) {
        const grad = this.x.grads.get(name) as Float32Array;
        if (k === 0) sum.set(grad);
        else for (let i = 0; i < sum.length; i++) sum[i] += grad[i];
      }
    }
    await this.update(this.x.accumulators, this.x.accumulators);
    return { loss, logits: concat(logits) };
  }

  /** Logits for a batch with the current weights (dropout off). */
  async predict(features: Record<string, ort.Tensor>): Promise<Float32Array> {
    if (!this.x.sessions.eval) {
      const g = new GraphBuilder(`${this.model.kind}_eval`);
      const ctx = new ModelContext(g, false, new Rng(0), this.weights(), true, (name) => this.x.frozen.has(name));
      g.output(this.model.build(ctx).logits, 'logits', { dtype: 'float32', shape: logitsShape(this.model) });
      this.x.sessions.eval = await createSession(g.serialize(), { threads: this.options.threads });
    }
    const feeds: Record<string, ort.Tensor> = this.pick(features);
    for (const [name, data] of this.state.params) feeds[name] = new ort.Tensor('float32', data, this.shapes.get(name));
    return (await runGuarded(this.x.sessions.eval, feeds, undefined, batchRows(features))).logits.data as Float32Array;
  }

  /** The inference graph (inputs → logits) with the current weights stored inside. */
  exportOnnx(): Uint8Array {
    const g = new GraphBuilder(this.model.kind);
    const ctx = new ModelContext(g, false, new Rng(0), this.weights(), false);
    g.output(this.model.build(ctx).logits, 'logits', { dtype: 'float32', shape: logitsShape(this.model) });
    return g.serialize({ docString: `geul ${this.model.kind} classifier` });
  }

  async release(): Promise<void> {
    for (const session of Object.values(this.x.sessions)) await session?.release();
    await this.x.optimizerThreads?.release();
  }

  /** Threads the host optimizer step runs on (the main thread included). */
  get optimizerThreads(): number {
    return this.x.optimizerThreads?.threads ?? 1;
  }

  /** The dropout seed of micro-batch `k` of step `t`: a function of (dropoutSeed, t, k) only, so a resumed run draws the same masks. */
  private stepSeed(t: number, k: number): number {
    const base = this.options.dropoutSeed ?? (this.options.seed ?? 0) + 7919;
    const seed = mix32((mix32(base) + mix32(t + 1)) >>> 0);
    return k === 0 ? seed : mix32((seed + mix32(k)) >>> 0);
  }

  private get session(): GraphSession {
    return this.x.sessions.train;
  }

  /** One gradient run on micro-batch `k` of this step (`scale`: its share when accumulating). */
  private async runGradients(batch: MicroBatch, k: number, scale?: number): Promise<{ out: ort.InferenceSession.OnnxValueMapType; loss: number }> {
    const { state, session } = this;
    const feeds: Record<string, ort.Tensor> = { ...this.pick(batch.features), labels: labelTensor(batch.labels) };
    if (scale !== undefined) feeds[ACCUM_SCALE_INPUT] = new ort.Tensor('float32', Float32Array.of(scale), []);
    if (session.inputNames.includes(DROPOUT_SEED_INPUT)) feeds[DROPOUT_SEED_INPUT] = seedTensor(this.stepSeed(state.step, k));
    const fetches: Fetches = { loss: null };
    if (this.options.fetchLogits !== false) fetches.logits = null;
    for (const [name, data] of state.params) {
      const shape = this.shapes.get(name);
      feeds[name] = new ort.Tensor('float32', data, shape);
      const grad = this.x.grads.get(name);
      fetches[gradName(name)] = grad ? new ort.Tensor('float32', grad, shape) : null;
      if (!grad) fetches[`rows/${name}`] = null;
    }
    const out = await runGuarded(session, feeds, fetches, batchRows(batch.features));
    const loss = (out.loss.data as Float32Array)[0];
    checkLoss(loss, state.step);
    return { out, loss };
  }

  /**
   * The optimizer step on the host: every trainable parameter and its states updated in place from `grads`, on the
   * optimizer's threads when it has several (then the moved arrays come back rewrapped into the state, and into
   * `gradBuffers`, the map `grads`' dense buffers belong to).
   */
  private async update(grads: ReadonlyMap<string, Float32Array>, gradBuffers: Map<string, Float32Array>, out?: ort.InferenceSession.OnnxValueMapType): Promise<void> {
    const { state, optimizer } = this;
    const lr = scheduledLr(optimizer, state.step, this.options.totalSteps ?? Number.MAX_SAFE_INTEGER);
    const scalars = stepScalars(optimizer, state.step, lr);
    const entries: HostStepEntry[] = [];
    for (const [name, param] of state.params) {
      const ids = this.x.sparse.has(name) && out ? (out[`rows/${name}`].data as BigInt64Array) : undefined;
      if (ids) {
        const touched = state.touched?.get(name);
        if (touched) for (const id of ids) touched[Number(id)] = 1;
      }
      const rows = ids ? { ids, width: (this.shapes.get(name) as number[])[1] } : undefined;
      entries.push({ name, update: { param, grad: grads.get(name) as Float32Array, states: state.states.get(name) ?? [], rows }, decay: !optimizer.noDecay?.(name) });
    }
    const clip = optimizer.clipNorm ? (norm: number) => clipScale(optimizer, norm) : undefined;
    const threads = this.x.optimizerThreads;
    if (threads) {
      for (const [name, moved] of await threads.step({ entries, scalars, clip })) {
        state.params.set(name, moved.param);
        state.states.set(name, moved.states);
        gradBuffers.set(name, moved.grad);
      }
    } else {
      // The same norm, in the same order, as the threaded step (globalNorm: per-gradient sums in model order).
      const gradScale = clip ? clip(globalNorm(entries.map((e) => e.update.grad))) : 1;
      for (const e of entries) hostUpdate(optimizer, scalars, e.update, { gradScale, decay: e.decay });
    }
    state.step++;
  }

  private pick(features: Record<string, ort.Tensor>): Record<string, ort.Tensor> {
    return Object.fromEntries(this.x.featureNames.map((n) => {
      const t = features[n];
      if (!t) throw geulError('INVALID_INPUT', { detail: `missing model input "${n}"` });
      return [n, t];
    }));
  }
}

/** The host optimizer's thread count (TrainerOptions.optimizerThreads). */
function optimizerThreadCount(options: TrainerOptions, dense: readonly ParamInfo[]): number {
  if (options.optimizerThreads !== undefined) return Math.max(1, Math.floor(options.optimizerThreads));
  const numbers = dense.reduce((n, p) => n + p.data.length, 0);
  return numbers >= OPTIMIZER_THREADS_FROM ? onnxThreadsPerWorker(1, options.threads ?? 0) : 1;
}

function labelTensor(labels: Labels): ort.Tensor {
  return labels instanceof BigInt64Array ? new ort.Tensor('int64', labels, [labels.length]) : labels;
}

const seedTensor = (seed: number) => new ort.Tensor('int64', BigInt64Array.of(BigInt(seed)), []);

function batchRows(features: Record<string, ort.Tensor>): number {
  const first = Object.values(features)[0];
  return first?.dims[0] ?? 0;
}

function checkLoss(loss: number, step: number): void {
  if (!Number.isFinite(loss)) throw geulError('TRAINING_FAILED', { detail: `loss became ${loss} at step ${step + 1}; lower --lr or enable clipping` });
}

function concat(parts: Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0];
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Applies a checkpoint's row-stored sparse tables: the table starts from its initial values (drawn from the seed)
 * and zero optimizer state, then gets the stored rows.
 */
function applyCheckpointRows(state: TrainState, resume: TrainState | undefined, params: readonly ParamInfo[], slotCount: number): void {
  for (const [name, rows] of resume?.rows ?? []) {
    const initial = params.find((p) => p.name === name);
    if (!initial) throw geulError('INVALID_INPUT', { detail: `the checkpoint holds rows of "${name}", which this model does not have` });
    if (rows.slots.length !== slotCount + 1) throw geulError('INVALID_INPUT', { detail: `the checkpoint holds ${rows.slots.length - 1} optimizer state tensors for ${name}, this optimizer needs ${slotCount}: resume with the optimizer it was trained with` });
    const tables = [initial.data, ...Array.from({ length: slotCount }, () => new Float32Array(initial.data.length))];
    const ids = BigInt64Array.from(rows.ids, (i) => BigInt(i));
    tables.forEach((table, j) => scatterRows(table, ids, rows.slots[j], rows.width));
    const touched = new Uint8Array(initial.data.length / rows.width);
    for (const id of rows.ids) touched[id] = 1;
    state.params.set(name, tables[0]);
    state.states.set(name, tables.slice(1));
    state.touched?.set(name, touched);
  }
}

/** table[ids[u]] = rows[u] for rows of `width` floats. */
function scatterRows(table: Float32Array, ids: BigInt64Array, rows: Float32Array, width: number): void {
  for (let u = 0; u < ids.length; u++) table.set(rows.subarray(u * width, (u + 1) * width), Number(ids[u]) * width);
}
