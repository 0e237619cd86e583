// What a trainable model is: a graph-building function over a context that owns parameters, dropout and inputs.
import { geulError } from '../core/errors.js';
import type { Rng } from '../core/random.js';
import type { GraphBuilder, Value } from '../graph/builder.js';
import { seededKeepMask } from '../graph/random.js';

/** The int64 scalar input training graphs with dropout declare: the step's seed, from which every mask is hashed. */
export const DROPOUT_SEED_INPUT = 'train/seed';

/** `data` is copied; `adopt` becomes the parameter's storage as is (large pretrained tensors: no second copy). */
export type Init = 'zeros' | 'ones' | 'glorot' | { normal: number; zeroRow?: number } | { uniform: number } | { data: Float32Array } | { adopt: Float32Array };

export interface ParamInfo {
  name: string;
  shape: number[];
  data: Float32Array;
  /** Sparse (embedding) parameters: the row ids the batch touches (int64 [U]); paramValues then holds those rows. */
  rows?: Value;
}

/** Builds graphs for training (parameters are inputs, dropout on) and inference (parameters are weights). */
export class ModelContext {
  /** Trainable parameters, in creation order (graph inputs while training). */
  readonly params: ParamInfo[] = [];
  readonly paramValues: Value[] = [];
  /** Frozen parameters: graph initializers, no gradient, no optimizer state. */
  readonly frozenParams: ParamInfo[] = [];
  private readonly byName = new Map<string, { value: Value; shape: number[] }>();
  private seed?: Value;
  private dropoutSites = 0;

  constructor(
    readonly g: GraphBuilder,
    readonly train: boolean,
    private readonly rng: Rng,
    /** Current values by name; parameters not found here are initialised. */
    private readonly values: ReadonlyMap<string, Float32Array> = new Map(),
    /** Parameters become graph inputs (training and evaluation sessions) or initializers (export). */
    private readonly asInputs = true,
    /** Parameters held constant (initializers even in training graphs); see Trainer's `frozen` option. */
    private readonly frozen: (name: string) => boolean = () => false,
    /** Embedding tables as dense parameters (no row-sparse updates): gradient accumulation needs whole tables. */
    private readonly denseEmbeddings = false,
  ) {}

  /** The current values of `name` when given, else its initial ones. */
  private initialValues(name: string, size: number, shape: number[], init: Init): Float32Array {
    const supplied = this.values.get(name);
    // An adopted array is not drawn: the current values replace it, and it may be one the host optimizer's threads
    // have since moved away (detached). Every other init is drawn, so the initial values of later parameters do not
    // depend on which ones a checkpoint supplied.
    if (supplied && typeof init === 'object' && 'adopt' in init) return supplied;
    const fresh = initialise(this.rng, size, shape, init);
    return supplied ?? fresh;
  }

  /** The parameter `name`; asking again for a name already made returns the same one (tied weights). */
  param(name: string, shape: number[], init: Init): Value {
    const made = this.byName.get(name);
    if (made) {
      if (made.shape.join() !== shape.join()) throw geulError('GRAPH_INVALID', { detail: `parameter ${name} asked for as [${shape}] and as [${made.shape}]` });
      return made.value;
    }
    const size = shape.reduce((a, b) => a * b, 1);
    const data = this.initialValues(name, size, shape, init);
    let value: Value;
    if (this.frozen(name)) {
      this.frozenParams.push({ name, shape, data });
      value = this.g.param(name, data, shape);
    } else {
      this.params.push({ name, shape, data });
      value = this.asInputs ? this.g.input(name, 'float32', shape) : this.g.param(name, data, shape);
      this.paramValues.push(value);
    }
    this.byName.set(name, { value, shape });
    return value;
  }

  /**
   * Embedding lookup table[ids] → [...ids, dim]. While training, only the rows this batch touches are gathered
   * (Unique ids) and differentiated, so the optimizer updates and returns [U, dim] rows instead of the whole table.
   */
  embedding(name: string, shape: [number, number], ids: Value, init: Init): Value {
    const { g } = this;
    const outShape = ids.shape ? [...ids.shape, shape[1]] : undefined;
    const declared = (v: Value) => (outShape ? g.withShape(v, outShape) : v);
    if (!this.train || !this.asInputs || this.denseEmbeddings || this.frozen(name)) return declared(g.gather(this.param(name, shape, init), ids));
    const size = shape[0] * shape[1];
    const data = this.initialValues(name, size, shape, init);
    const table = g.input(name, 'float32', shape);
    // Unique has no typed helper (four outputs: values, indices, inverse, counts).
    const [uniq, , inverse] = g.op('Unique', [g.reshape(ids, [-1])], { sorted: 1 }, { outputs: 4, dtype: 'int64' });
    const rows = g.withShape(g.gather(table, uniq), ['rows', shape[1]]);
    this.params.push({ name, shape, data, rows: uniq });
    this.paramValues.push(rows);
    return declared(g.gather(rows, g.reshape(inverse, g.shape(ids))));
  }

  /**
   * Inverted dropout while training; identity otherwise. The mask is hashed in-graph from the DROPOUT_SEED_INPUT fed
   * each step and this site's number, so one session serves a whole run and a resumed run draws the same masks.
   */
  dropout(x: Value, rate: number): Value {
    if (!this.train || rate <= 0) return x;
    const { g } = this;
    this.seed ??= g.input(DROPOUT_SEED_INPUT, 'int64', []);
    const seed = this.seed;
    const site = this.dropoutSites++;
    const scaledMask = (like: Value) => g.mul(seededKeepMask(g, like, seed, site, 1 - rate), g.scalar(1 / (1 - rate)));
    // The mask is a pure function of (seed, site, element index), so the backward pass hashes it again from the
    // gradient's shape instead of keeping a float mask per site alive until then (~0.5 GB at BERT-base 8 × 256).
    const dropped = g.op1('Mul', [x, scaledMask(x)], {}, { gradient: { grad: (c) => [g.mul(c.dy[0] as Value, scaledMask(c.dy[0] as Value)), undefined] } });
    return x.shape ? g.withShape(dropped, x.shape) : dropped;
  }

  /** y = x W + b for x [..., inDim]. */
  linear(name: string, x: Value, inDim: number, outDim: number): Value {
    const w = this.param(`${name}.weight`, [inDim, outDim], 'glorot');
    const b = this.param(`${name}.bias`, [outDim], 'zeros');
    const shape = x.shape ? [...x.shape.slice(0, -1), outDim] : undefined;
    const y = this.g.add(this.g.matmul(x, w), b);
    return shape ? this.g.withShape(y, shape) : y;
  }
}

function initialise(rng: Rng, size: number, shape: number[], init: Init): Float32Array {
  if (init === 'zeros') return new Float32Array(size);
  if (init === 'ones') return new Float32Array(size).fill(1);
  if (init === 'glorot') {
    const fanIn = shape.length > 1 ? shape[shape.length - 2] : shape[0];
    const fanOut = shape[shape.length - 1];
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    return Float32Array.from({ length: size }, () => (rng.next() * 2 - 1) * limit);
  }
  if ('data' in init) return Float32Array.from(init.data);
  if ('adopt' in init) {
    if (init.adopt.length !== size) throw geulError('GRAPH_INVALID', { detail: `initial values hold ${init.adopt.length} numbers, the shape [${shape}] needs ${size}` });
    return init.adopt;
  }
  if ('normal' in init) {
    const values = rng.normalArray(size, init.normal);
    // HF zeroes an embedding table's padding_idx row at initialisation.
    if (init.zeroRow !== undefined) values.fill(0, init.zeroRow * shape[1], (init.zeroRow + 1) * shape[1]);
    return values;
  }
  return Float32Array.from({ length: size }, () => (rng.next() * 2 - 1) * init.uniform);
}

/** A model's training objective: the label input it declares and the scalar loss over the logits. */
export interface LossDef {
  labels: Value;
  loss: Value;
}

/**
 * A trainable model: declares its inputs and returns logits. By default a classifier: logits [batch, classes],
 * labels int64 [batch], softmax cross-entropy. A model with another objective gives `loss`, or `objective` from build.
 */
export interface ModelDef {
  kind: string;
  classes: number;
  /**
   * Feature inputs in feed order (e.g. input_ids and attention_mask, or x) and the logits. A model whose training
   * loss needs more than the logits (masked LM, scored at the masked positions only) returns `objective` from the
   * training build (ctx.train); `logits` are then what that loss scored, of shape `objective.logitsShape`.
   */
  build(ctx: ModelContext): { inputs: Value[]; logits: Value; objective?: LossDef & { logitsShape: (string | number)[] } };
  /** JSON-safe description saved with checkpoints and config.json. */
  config: Record<string, unknown>;
  /** The declared shape of the logits output (default ['batch', classes]); MLM: ['batch', 'seq', vocab] (inference). */
  logitsShape?: (string | number)[];
  /** Declares the label input and the loss (default: labels int64 [batch], softmax cross-entropy, mean over the batch). */
  loss?: (g: GraphBuilder, logits: Value) => LossDef;
  /**
   * How many terms a batch's mean loss averages (default: the label count); gradient accumulation weights each
   * micro-batch by it so N micro-batches make exactly one step on their concatenation. MLM: the labels not -100.
   */
  lossWeight?: (labels: BigInt64Array) => number;
}
