// Runs training: one ORT session per run; each step is one session run (forward, loss, backward, optimizer update).
//
//   const trainer = await Trainer.create(mlp({ features: 2, hidden: [8], classes: 2 }), { name: 'adam', lr: 0.05 }, { seed: 1 });
//   const { loss } = await trainer.step({ x: tensorX }, labels);
//   const onnx = trainer.exportOnnx();                   // inference graph with the trained weights as initializers
import * as ort from 'onnxruntime-node';
import { geulError } from '../core/errors.js';
import { Rng } from '../core/random.js';
import { gradients } from '../graph/autodiff.js';
import { GraphBuilder } from '../graph/builder.js';
import { softmaxCrossEntropy } from '../graph/losses.js';
import { mix32 } from '../graph/random.js';
import { createSession, type Fetches, type GraphSession } from '../runtime/sessions.js';
import { DROPOUT_SEED_INPUT, ModelContext, type ModelDef } from './model.js';
import { emitUpdate, scheduledLr, stateSlots, stepScalars, type OptimizerConfig } from './optim.js';

export interface TrainerOptions {
  seed?: number;
  /** Total steps planned (for the LR schedule). */
  totalSteps?: number;
  threads?: number;
  /** Extra onnxruntime session options for the training session (e.g. profiling in benchmarks). */
  sessionOptions?: ort.InferenceSession.SessionOptions;
  /** Seeds the dropout masks (default: from `seed`); step t's masks come from (dropoutSeed, t) only. */
  dropoutSeed?: number;
}

export interface StepResult {
  loss: number;
  /** Logits [batch, classes] of this batch (before the update). */
  logits: Float32Array;
}

/** Model weights and optimizer state as plain typed arrays, by parameter name. */
export interface TrainState {
  step: number;
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

export class Trainer {
  private constructor(
    readonly model: ModelDef,
    readonly optimizer: OptimizerConfig,
    readonly state: TrainState,
    readonly shapes: Map<string, number[]>,
    private readonly session: GraphSession,
    private readonly featureNames: string[],
    private readonly options: TrainerOptions,
    /** Parameters updated by rows (embedding tables): the session returns touched rows, copied back in place. */
    private readonly sparse: ReadonlySet<string>,
    /** Spare buffers of the dense parameters and states: the session writes the step's new values there, then they swap. */
    private readonly spare: Map<string, Float32Array[]>,
    private evalSession?: GraphSession,
  ) {}

  static async create(model: ModelDef, optimizer: OptimizerConfig, options: TrainerOptions = {}, resume?: TrainState): Promise<Trainer> {
    const seed = options.seed ?? 0;
    const g = new GraphBuilder(`${model.kind}_train`);
    const ctx = new ModelContext(g, true, new Rng(seed), resume?.params, true);
    const { inputs, logits } = model.build(ctx);
    const labels = g.input('labels', 'int64', ['batch']);
    const loss = softmaxCrossEntropy(g, { ...logits, shape: ['batch', model.classes] }, labels);
    const grads = gradients(g, loss, ctx.paramValues);
    const slots = stateSlots(optimizer);
    const stateInputs = ctx.params.map((p) => slots.map((s) => g.input(`${p.name}/${s}`, 'float32', p.shape)));
    const lr = g.input('opt/lr', 'float32', []);
    const eps = g.input('opt/eps', 'float32', []);
    const decay = g.input('opt/decay', 'float32', []);
    // Sparse (embedding) parameters update only the gathered rows, and their optimizer states likewise.
    const updates = ctx.paramValues.map((param, i) => {
      const rows = ctx.params[i].rows;
      return { param, grad: grads[i], states: rows ? stateInputs[i].map((st) => g.gather(st, rows)) : stateInputs[i] };
    });
    const next = emitUpdate(g, optimizer, updates, { lr, eps, decay });
    g.output(loss, 'loss', { dtype: 'float32', shape: [] });
    g.output(logits, 'logits', { dtype: 'float32', shape: ['batch', model.classes] });
    ctx.params.forEach((p, i) => {
      const shape = p.rows ? ['rows', ...p.shape.slice(1)] : p.shape;
      g.output(next.params[i], `new/${p.name}`, { dtype: 'float32', shape });
      slots.forEach((s, j) => g.output(next.states[i][j], `new/${p.name}/${s}`, { dtype: 'float32', shape }));
      if (p.rows) g.output(p.rows, `rows/${p.name}`, { dtype: 'int64', shape: ['rows'] });
    });
    const session = await createSession(g.serialize(), { threads: options.threads, extra: options.sessionOptions });
    for (const [name, saved] of resume?.states ?? []) {
      if (saved.length !== slots.length) throw geulError('INVALID_INPUT', { detail: `the checkpoint holds ${saved.length} optimizer state tensors for ${name}, ${optimizer.name} needs ${slots.length}: resume with the optimizer it was trained with` });
    }
    const state: TrainState = resume ? withSparseRows(resume, ctx.params, slots.length) : {
      step: 0,
      params: new Map(ctx.params.map((p) => [p.name, p.data])),
      states: new Map(ctx.params.map((p) => [p.name, slots.map(() => new Float32Array(p.data.length))])),
    };
    state.touched ??= new Map();
    for (const p of ctx.params) if (p.rows && !state.touched.has(p.name)) state.touched.set(p.name, new Uint8Array(p.shape[0]));
    const shapes = new Map(ctx.params.map((p) => [p.name, p.shape]));
    const sparse = new Set(ctx.params.filter((p) => p.rows).map((p) => p.name));
    const spare = new Map(ctx.params.filter((p) => !p.rows).map((p) => [p.name, [p, ...slots].map(() => new Float32Array(p.data.length))]));
    return new Trainer(model, optimizer, state, shapes, session, inputs.map((v) => v.name), options, sparse, spare);
  }

  get parameterCount(): number {
    let n = 0;
    for (const p of this.state.params.values()) n += p.length;
    return n;
  }

  /**
   * One optimisation step on a batch; dense parameters and states are replaced by the session's outputs (no copies),
   * sparse ones get their touched rows written back in place.
   */
  async step(features: Record<string, ort.Tensor>, labels: BigInt64Array): Promise<StepResult> {
    const { state, optimizer } = this;
    const lr = scheduledLr(optimizer, state.step, this.options.totalSteps ?? Number.MAX_SAFE_INTEGER);
    const [lrT, epsT, decayT] = stepScalars(optimizer, state.step, lr);
    const feeds: Record<string, ort.Tensor> = { ...this.pick(features), labels: new ort.Tensor('int64', labels, [labels.length]) };
    feeds['opt/lr'] = new ort.Tensor('float32', Float32Array.of(lrT), []);
    feeds['opt/eps'] = new ort.Tensor('float32', Float32Array.of(epsT), []);
    feeds['opt/decay'] = new ort.Tensor('float32', Float32Array.of(decayT), []);
    if (this.session.inputNames.includes(DROPOUT_SEED_INPUT)) {
      feeds[DROPOUT_SEED_INPUT] = new ort.Tensor('int64', BigInt64Array.of(BigInt(this.stepSeed(state.step))), []);
    }
    const slots = stateSlots(optimizer);
    // Dense outputs are written into the spare buffers (no allocation per step); sparse ones are row-sized, so allocated.
    const fetches: Fetches = { loss: null, logits: null };
    for (const [name, data] of state.params) {
      const shape = this.shapes.get(name);
      feeds[name] = new ort.Tensor('float32', data, shape);
      (state.states.get(name) ?? []).forEach((s, j) => (feeds[`${name}/${slots[j]}`] = new ort.Tensor('float32', s, shape)));
      const spare = this.spare.get(name);
      fetches[`new/${name}`] = spare ? new ort.Tensor('float32', spare[0], shape) : null;
      slots.forEach((slot, j) => (fetches[`new/${name}/${slot}`] = spare ? new ort.Tensor('float32', spare[j + 1], shape) : null));
      if (!spare) fetches[`rows/${name}`] = null;
    }
    const out = await this.session.run(feeds, fetches);
    const loss = (out.loss.data as Float32Array)[0];
    if (!Number.isFinite(loss)) throw geulError('TRAINING_FAILED', { detail: `loss became ${loss} at step ${state.step + 1}; lower --lr or enable clipping` });
    for (const name of state.params.keys()) {
      const spare = this.spare.get(name);
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
      this.spare.set(name, current);
    }
    state.step++;
    return { loss, logits: out.logits.data as Float32Array };
  }

  /** The dropout seed of step `t`: a function of (dropoutSeed, t) only, so a resumed run draws the same masks. */
  private stepSeed(t: number): number {
    const base = this.options.dropoutSeed ?? (this.options.seed ?? 0) + 7919;
    return mix32((mix32(base) + mix32(t + 1)) >>> 0);
  }

  /** Logits for a batch with the current weights (dropout off). */
  async predict(features: Record<string, ort.Tensor>): Promise<Float32Array> {
    if (!this.evalSession) {
      const g = new GraphBuilder(`${this.model.kind}_eval`);
      const ctx = new ModelContext(g, false, new Rng(0), this.state.params);
      g.output(this.model.build(ctx).logits, 'logits', { dtype: 'float32', shape: ['batch', this.model.classes] });
      this.evalSession = await createSession(g.serialize(), { threads: this.options.threads });
    }
    const feeds: Record<string, ort.Tensor> = this.pick(features);
    for (const [name, data] of this.state.params) feeds[name] = new ort.Tensor('float32', data, this.shapes.get(name));
    return (await this.evalSession.run(feeds)).logits.data as Float32Array;
  }

  /** The inference graph (inputs → logits) with the current weights stored inside. */
  exportOnnx(): Uint8Array {
    const g = new GraphBuilder(this.model.kind);
    const ctx = new ModelContext(g, false, new Rng(0), this.state.params, false);
    g.output(this.model.build(ctx).logits, 'logits', { dtype: 'float32', shape: ['batch', this.model.classes] });
    return g.serialize({ docString: `geul ${this.model.kind} classifier` });
  }

  async release(): Promise<void> {
    await this.session.release();
    await this.evalSession?.release();
  }

  private pick(features: Record<string, ort.Tensor>): Record<string, ort.Tensor> {
    return Object.fromEntries(this.featureNames.map((n) => {
      const t = features[n];
      if (!t) throw geulError('INVALID_INPUT', { detail: `missing model input "${n}"` });
      return [n, t];
    }));
  }
}

/**
 * A resumed state with full tables: sparse tables the checkpoint stored by rows start from their initial values
 * (`params`, drawn from the seed) and zero optimizer state, then get the stored rows.
 */
function withSparseRows(resume: TrainState, params: readonly { name: string; data: Float32Array }[], slotCount: number): TrainState {
  const state: TrainState = { step: resume.step, params: new Map(resume.params), states: new Map(resume.states), touched: new Map(resume.touched) };
  for (const [name, rows] of resume.rows ?? []) {
    const initial = params.find((p) => p.name === name);
    if (!initial) throw geulError('INVALID_INPUT', { detail: `the checkpoint holds rows of "${name}", which this model does not have` });
    if (rows.slots.length !== slotCount + 1) throw geulError('INVALID_INPUT', { detail: `the checkpoint holds ${rows.slots.length - 1} optimizer state tensors for ${name}, this optimizer needs ${slotCount}: resume with the optimizer it was trained with` });
    const tables = [Float32Array.from(initial.data), ...Array.from({ length: slotCount }, () => new Float32Array(initial.data.length))];
    const ids = BigInt64Array.from(rows.ids, (i) => BigInt(i));
    tables.forEach((table, j) => scatterRows(table, ids, rows.slots[j], rows.width));
    const touched = new Uint8Array(initial.data.length / rows.width);
    for (const id of rows.ids) touched[id] = 1;
    state.params.set(name, tables[0]);
    state.states.set(name, tables.slice(1));
    state.touched?.set(name, touched);
  }
  return state;
}

/** table[ids[u]] = rows[u] for rows of `width` floats. */
function scatterRows(table: Float32Array, ids: BigInt64Array, rows: Float32Array, width: number): void {
  for (let u = 0; u < ids.length; u++) table.set(rows.subarray(u * width, (u + 1) * width), Number(ids[u]) * width);
}
