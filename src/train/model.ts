// What a trainable model is: a graph-building function over a context that owns parameters, dropout and inputs.
import type { GraphBuilder, Value } from '../graph/builder.js';
import { seededKeepMask } from '../graph/random.js';
import type { Rng } from '../core/random.js';

/** The int64 scalar input training graphs with dropout declare: the step's seed, from which every mask is hashed. */
export const DROPOUT_SEED_INPUT = 'train/seed';

export type Init = 'zeros' | 'ones' | 'glorot' | { normal: number } | { uniform: number } | { data: Float32Array };

export interface ParamInfo {
  name: string;
  shape: number[];
  data: Float32Array;
  /** Sparse (embedding) parameters: the row ids the batch touches (int64 [U]); paramValues then holds those rows. */
  rows?: Value;
}

/** Builds graphs for training (parameters are inputs, dropout on) and inference (parameters are weights). */
export class ModelContext {
  readonly params: ParamInfo[] = [];
  readonly paramValues: Value[] = [];
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
  ) {}

  param(name: string, shape: number[], init: Init): Value {
    const size = shape.reduce((a, b) => a * b, 1);
    // Always drawn, so the initial values of later parameters do not depend on which ones a checkpoint supplied.
    const fresh = initialise(this.rng, size, shape, init);
    const data = this.values.get(name) ?? fresh;
    this.params.push({ name, shape, data });
    const value = this.asInputs ? this.g.input(name, 'float32', shape) : this.g.param(name, data, shape);
    this.paramValues.push(value);
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
    if (!this.train || !this.asInputs) return declared(g.gather(this.param(name, shape, init), ids));
    const size = shape[0] * shape[1];
    // Always drawn, so the initial values of later parameters do not depend on which ones a checkpoint supplied.
    const fresh = initialise(this.rng, size, shape, init);
    const data = this.values.get(name) ?? fresh;
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
    const keep = seededKeepMask(g, x, this.seed, this.dropoutSites++, 1 - rate);
    const dropped = g.mul(x, g.mul(keep, g.scalar(1 / (1 - rate))));
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
  if ('normal' in init) return rng.normalArray(size, init.normal);
  return Float32Array.from({ length: size }, () => (rng.next() * 2 - 1) * init.uniform);
}

/** A classifier: declares its inputs and returns logits [batch, classes]. */
export interface ModelDef {
  kind: string;
  classes: number;
  /** Feature inputs in feed order (e.g. input_ids and attention_mask, or x). */
  build(ctx: ModelContext): { inputs: Value[]; logits: Value };
  /** JSON-safe description saved with checkpoints and config.json. */
  config: Record<string, unknown>;
}
