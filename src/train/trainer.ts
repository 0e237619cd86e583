// Runs training: sessions built once per run; each step is one session run (forward, loss, backward, optimizer
// update), or with gradient accumulation one gradient run per micro-batch and one optimizer run.
//
//   const trainer = await Trainer.create(mlp({ features: 2, hidden: [8], classes: 2 }), { name: 'adam', lr: 0.05 }, { seed: 1 });
//   const { loss } = await trainer.step({ x: tensorX }, labels);
//   const onnx = trainer.exportOnnx();                   // inference graph with the trained weights as initializers
//
// Why this design: parameters and optimizer states are fed as inputs and the session writes the new values into
// preallocated spare buffers passed as fetches (ping-pong), so a step allocates nothing proportional to the model.
import * as ort from 'onnxruntime-node';
import { geulError } from '../core/errors.js';
import { Rng } from '../core/random.js';
import { GraphBuilder } from '../graph/builder.js';
import { mix32 } from '../graph/random.js';
import { createSession, type Fetches, type GraphSession } from '../runtime/sessions.js';
import { DROPOUT_SEED_INPUT, ModelContext, type ModelDef, type ParamInfo } from './model.js';
import { scheduledLr, stateSlots, stepScalars, type OptimizerConfig } from './optim.js';
import { ACCUM_SCALE_INPUT, accumulatedName, accumulatorName, applyGraph, fusedStepGraph, gradientGraph, gradName, logitsShape } from './trainer-graphs.js';
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
  /** Fetch the logits of training steps (default true). MLM turns this off: its logits are [batch, seq, vocab]. */
  fetchLogits?: boolean;
}

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
  /** Forward + backward + update (gradAccum 1). */
  fused?: GraphSession;
  /** Gradient accumulation: one run per micro-batch, then the optimizer run. */
  grad?: GraphSession;
  apply?: GraphSession;
  eval?: GraphSession;
}

interface Internals {
  sessions: Sessions;
  featureNames: string[];
  /** Parameters updated by rows (embedding tables): the session returns touched rows, copied back in place. */
  sparse: ReadonlySet<string>;
  /** Spare buffers of the dense parameters and states: the session writes the step's new values there, then they swap. */
  spare: Map<string, Float32Array[]>;
  /** Gradient accumulators (two per parameter, ping-pong) when accumulating. */
  accumulators: Map<string, [Float32Array, Float32Array]>;
  frozen: Map<string, Float32Array>;
  /** Every parameter name in model order (trainable and frozen), for weights(). */
  order: string[];
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
    const sessions: Sessions = {};
    let built: ReturnType<typeof fusedStepGraph>;
    if (accumulate) {
      built = gradientGraph(model, graphOptions);
      sessions.grad = await createSession(built.g.serialize(), settings);
      sessions.apply = await createSession(applyGraph(model, optimizer, built.ctx.params).serialize(), settings);
    } else {
      built = fusedStepGraph(model, optimizer, graphOptions);
      sessions.fused = await createSession(built.g.serialize(), settings);
    }
    const { ctx, forward } = built;
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
      spare: new Map(dense.map((p) => [p.name, [p, ...slots].map(() => new Float32Array(p.data.length))])),
      accumulators: new Map(accumulate ? dense.map((p) => [p.name, [new Float32Array(p.data.length), new Float32Array(p.data.length)]]) : []),
      frozen: new Map(ctx.frozenParams.map((p) => [p.name, p.data])),
      order: all.map((p) => p.name),
    };
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
   * One optimisation step on a batch; dense parameters and states are replaced by the session's outputs (no copies),
   * sparse ones get their touched rows written back in place. With gradAccum > 1 this is a step of one micro-batch.
   */
  async step(features: Record<string, ort.Tensor>, labels: Labels): Promise<StepResult> {
    if (!this.x.sessions.fused) return this.stepAccumulated([{ features, labels }]);
    const { state } = this;
    const feeds: Record<string, ort.Tensor> = { ...this.pick(features), labels: labelTensor(labels), ...this.optimizerFeeds() };
    if (this.x.sessions.fused.inputNames.includes(DROPOUT_SEED_INPUT)) feeds[DROPOUT_SEED_INPUT] = seedTensor(this.stepSeed(state.step, 0));
    const slots = stateSlots(this.optimizer);
    // Dense outputs are written into the spare buffers (no allocation per step); sparse ones are row-sized, so allocated.
    const fetches: Fetches = { loss: null };
    if (this.options.fetchLogits !== false) fetches.logits = null;
    this.feedParams(feeds, true);
    for (const name of state.params.keys()) {
      const shape = this.shapes.get(name);
      const spare = this.x.spare.get(name);
      fetches[`new/${name}`] = spare ? new ort.Tensor('float32', spare[0], shape) : null;
      slots.forEach((slot, j) => (fetches[`new/${name}/${slot}`] = spare ? new ort.Tensor('float32', spare[j + 1], shape) : null));
      if (!spare) fetches[`rows/${name}`] = null;
    }
    const out = await runGuarded(this.x.sessions.fused, feeds, fetches, batchRows(features));
    const loss = (out.loss.data as Float32Array)[0];
    checkLoss(loss, state.step);
    this.takeUpdate(out);
    return { loss, logits: out.logits ? (out.logits.data as Float32Array) : new Float32Array(0) };
  }

  /**
   * One optimisation step over micro-batches (each padded to its own length): their gradients are summed, each
   * weighted by its share of the step's loss terms (`ModelDef.lossWeight`), so the step equals one step on their
   * concatenation. Needs a Trainer created with gradAccum > 1.
   */
  async stepAccumulated(micro: readonly MicroBatch[]): Promise<StepResult> {
    const { grad, apply } = this.x.sessions;
    if (!grad || !apply) {
      if (micro.length === 1) return this.step(micro[0].features, micro[0].labels);
      throw geulError('INVALID_INPUT', { detail: 'gradient accumulation needs a Trainer created with gradAccum > 1' });
    }
    const { state } = this;
    const weightOf = this.model.lossWeight ?? ((labels: BigInt64Array) => labels.length);
    const weights = micro.map((m) => weightOf(labelTensor(m.labels).data as BigInt64Array));
    const total = weights.reduce((a, b) => a + b, 0);
    if (!(total > 0)) throw geulError('INVALID_INPUT', { detail: 'the step\'s batches hold no labelled positions' });
    for (const pair of this.x.accumulators.values()) pair[0].fill(0);
    const logits: Float32Array[] = [];
    let loss = 0;
    for (let k = 0; k < micro.length; k++) {
      const feeds: Record<string, ort.Tensor> = { ...this.pick(micro[k].features), labels: labelTensor(micro[k].labels) };
      feeds[ACCUM_SCALE_INPUT] = new ort.Tensor('float32', Float32Array.of(weights[k] / total), []);
      if (grad.inputNames.includes(DROPOUT_SEED_INPUT)) feeds[DROPOUT_SEED_INPUT] = seedTensor(this.stepSeed(state.step, k));
      this.feedParams(feeds, false);
      const fetches: Fetches = { loss: null };
      if (this.options.fetchLogits !== false) fetches.logits = null;
      for (const [name, [current, next]] of this.x.accumulators) {
        const shape = this.shapes.get(name);
        feeds[accumulatorName(name)] = new ort.Tensor('float32', current, shape);
        fetches[accumulatedName(name)] = new ort.Tensor('float32', next, shape);
      }
      const out = await runGuarded(grad, feeds, fetches, batchRows(micro[k].features));
      const microLoss = (out.loss.data as Float32Array)[0];
      checkLoss(microLoss, state.step);
      loss += (microLoss * weights[k]) / total;
      if (out.logits) logits.push(out.logits.data as Float32Array);
      for (const pair of this.x.accumulators.values()) pair.reverse();
    }
    const feeds: Record<string, ort.Tensor> = this.optimizerFeeds();
    this.feedParams(feeds, true);
    const slots = stateSlots(this.optimizer);
    const fetches: Fetches = {};
    for (const [name, [summed]] of this.x.accumulators) {
      const shape = this.shapes.get(name);
      const spare = this.x.spare.get(name) as Float32Array[];
      feeds[gradName(name)] = new ort.Tensor('float32', summed, shape);
      fetches[`new/${name}`] = new ort.Tensor('float32', spare[0], shape);
      slots.forEach((slot, j) => (fetches[`new/${name}/${slot}`] = new ort.Tensor('float32', spare[j + 1], shape)));
    }
    this.takeUpdate(await runGuarded(apply, feeds, fetches, batchRows(micro[0].features)));
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
  }

  /** The dropout seed of micro-batch `k` of step `t`: a function of (dropoutSeed, t, k) only, so a resumed run draws the same masks. */
  private stepSeed(t: number, k: number): number {
    const base = this.options.dropoutSeed ?? (this.options.seed ?? 0) + 7919;
    const seed = mix32((mix32(base) + mix32(t + 1)) >>> 0);
    return k === 0 ? seed : mix32((seed + mix32(k)) >>> 0);
  }

  private optimizerFeeds(): Record<string, ort.Tensor> {
    const { optimizer, state } = this;
    const lr = scheduledLr(optimizer, state.step, this.options.totalSteps ?? Number.MAX_SAFE_INTEGER);
    const [lrT, epsT, decayT] = stepScalars(optimizer, state.step, lr);
    return {
      'opt/lr': new ort.Tensor('float32', Float32Array.of(lrT), []),
      'opt/eps': new ort.Tensor('float32', Float32Array.of(epsT), []),
      'opt/decay': new ort.Tensor('float32', Float32Array.of(decayT), []),
    };
  }

  /** Feeds every trainable parameter, and with `withStates` its optimizer states (graphs that update; ORT rejects undeclared feeds). */
  private feedParams(feeds: Record<string, ort.Tensor>, withStates: boolean): void {
    const slots = stateSlots(this.optimizer);
    for (const [name, data] of this.state.params) {
      const shape = this.shapes.get(name);
      feeds[name] = new ort.Tensor('float32', data, shape);
      if (withStates) (this.state.states.get(name) ?? []).forEach((s, j) => (feeds[`${name}/${slots[j]}`] = new ort.Tensor('float32', s, shape)));
    }
  }

  /** Takes the new parameters and states a step wrote: dense ones swap with their spare buffers, sparse rows are scattered in. */
  private takeUpdate(out: ort.InferenceSession.OnnxValueMapType): void {
    const { state } = this;
    const slots = stateSlots(this.optimizer);
    for (const name of state.params.keys()) {
      const spare = this.x.spare.get(name);
      if (!spare) {
        const ids = out[`rows/${name}`].data as BigInt64Array;
        const width = (this.shapes.get(name) as number[])[1];
        const touched = state.touched?.get(name);
        if (touched) for (const id of ids) touched[Number(id)] = 1;
        scatterRows(state.params.get(name) as Float32Array, ids, out[`new/${name}`].data as Float32Array, width);
        (state.states.get(name) ?? []).forEach((table, j) => scatterRows(table, ids, out[`new/${name}/${slots[j]}`].data as Float32Array, width));
        continue;
      }
      const current = [state.params.get(name) as Float32Array, ...(state.states.get(name) ?? [])];
      state.params.set(name, spare[0]);
      state.states.set(name, spare.slice(1));
      this.x.spare.set(name, current);
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
