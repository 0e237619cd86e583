// Creating tensors: from nested arrays or typed arrays, constant fills, ranges, and seeded random ones.
import { geulError } from '../core/errors.js';
import { Rng } from '../core/random.js';
import { floatToHalf } from '../core/weights/tensor.js';
import * as ew from './elementwise.js';
import * as sh from './shape.js';
import { dataNode, type HostData, type TensorDType } from './lazy.js';
import { Tensor } from './tensor.js';

export interface CreateOptions {
  /** float32 (default for numbers), int64, bool (default for booleans), or float16 (storage: ops read it as float32). */
  dtype?: TensorDType;
  requiresGrad?: boolean;
}

export interface RandomOptions extends CreateOptions {
  /** Where the numbers come from (default: the global generator, see manualSeed). */
  generator?: Generator;
}

/** A seeded source of random numbers: the same seed gives the same tensors. */
export class Generator {
  rng: Rng;
  constructor(seed = 0) {
    this.rng = new Rng(seed);
  }
  manualSeed(seed: number): this {
    this.rng = new Rng(seed);
    return this;
  }
}

/** The generator rand/randn/randint, nn layer initialisation and Dropout use when none is given (seed 0 at start). */
export const defaultGenerator = new Generator(0);

/** Reseeds the global generator (torch.manual_seed). */
export function manualSeed(seed: number): Generator {
  return defaultGenerator.manualSeed(seed);
}

export type NestedInput = number | boolean | bigint | readonly NestedInput[];

function hostArray(dtype: TensorDType, values: readonly (number | boolean | bigint)[]): HostData {
  if (dtype === 'int64') {
    return BigInt64Array.from(values, (v) => {
      if (typeof v === 'number' && !Number.isInteger(v)) throw geulError('INVALID_INPUT', { detail: `int64 tensor from non-integer ${v}` });
      return BigInt(v as number);
    });
  }
  if (dtype === 'bool') return Uint8Array.from(values, (v) => (v ? 1 : 0));
  if (dtype === 'float16') return Uint16Array.from(values, (v) => floatToHalf(Number(v)));
  return Float32Array.from(values, Number);
}

export function fromHost(data: HostData, dtype: TensorDType, shape: readonly number[], requiresGrad = false): Tensor {
  const t = new Tensor(dataNode(dtype, shape, data));
  if (requiresGrad) t.requiresGrad = true;
  return t;
}

/** A tensor from a number, boolean or (rectangular) nested array; numbers become float32 unless dtype says otherwise. */
export function tensor(data: NestedInput, o: CreateOptions = {}): Tensor {
  const shape: number[] = [];
  for (let level: NestedInput = data; Array.isArray(level); level = (level as readonly NestedInput[])[0]) shape.push((level as readonly NestedInput[]).length);
  const flat: (number | boolean | bigint)[] = [];
  const walk = (v: NestedInput, depth: number, path: string) => {
    if (depth === shape.length) {
      if (Array.isArray(v)) throw geulError('INVALID_INPUT', { detail: `tensor(): ragged nested array at ${path || 'top'} (expected a value, got an array)` });
      flat.push(v as number | boolean | bigint);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) throw geulError('INVALID_INPUT', { detail: `tensor(): ragged nested array at ${path || 'top'} (expected ${shape[depth]} items)` });
    (v as readonly NestedInput[]).forEach((item, i) => walk(item, depth + 1, `${path}[${i}]`));
  };
  walk(data, 0, '');
  const dtype = o.dtype ?? (flat.length > 0 && flat.every((v) => typeof v === 'boolean') ? 'bool' : flat.some((v) => typeof v === 'bigint') ? 'int64' : 'float32');
  return fromHost(hostArray(dtype, flat), dtype, shape, o.requiresGrad);
}

const DTYPE_OF_ARRAY = (a: HostData): TensorDType => (a instanceof Float32Array ? 'float32' : a instanceof BigInt64Array ? 'int64' : 'bool');

/** A tensor over a typed array (copied): Float32Array → float32, BigInt64Array → int64, Uint8Array → bool. */
export function fromArray(data: Float32Array | BigInt64Array | Uint8Array | Int32Array | Float64Array, shape: readonly number[] = [data.length], o: { requiresGrad?: boolean } = {}): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== data.length) throw geulError('INVALID_INPUT', { detail: `fromArray: shape [${shape.join(', ')}] needs ${size} values, got ${data.length}` });
  const host: HostData = data instanceof Int32Array ? BigInt64Array.from(data, (v) => BigInt(v)) : data instanceof Float64Array ? Float32Array.from(data) : data.slice();
  return fromHost(host, DTYPE_OF_ARRAY(host), shape, o.requiresGrad);
}

function checkShape(shape: readonly number[], what: string): number {
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw geulError('INVALID_INPUT', { detail: `${what}: invalid shape [${shape.join(', ')}]` });
  return shape.reduce((a, b) => a * b, 1);
}

export function full(shape: readonly number[], value: number | boolean, o: CreateOptions = {}): Tensor {
  const size = checkShape(shape, 'full');
  const dtype = o.dtype ?? (typeof value === 'boolean' ? 'bool' : 'float32');
  // Filled typed arrays, not a JS array of `size` values: optimizer states of an embedding table are millions long.
  if (dtype === 'int64' && typeof value === 'number' && !Number.isInteger(value)) throw geulError('INVALID_INPUT', { detail: `int64 tensor from non-integer ${value}` });
  const data = dtype === 'int64' ? new BigInt64Array(size).fill(BigInt(value)) : dtype === 'bool' ? new Uint8Array(size).fill(value ? 1 : 0) : new Float32Array(size).fill(Number(value));
  return fromHost(data, dtype, shape, o.requiresGrad);
}

export const zeros = (shape: readonly number[], o: CreateOptions = {}): Tensor => full(shape, 0, o);
export const ones = (shape: readonly number[], o: CreateOptions = {}): Tensor => full(shape, 1, o);
export const zerosLike = (t: Tensor, o: CreateOptions = {}): Tensor => full(t.shape, 0, { dtype: t.dtype, ...o });
export const onesLike = (t: Tensor, o: CreateOptions = {}): Tensor => full(t.shape, 1, { dtype: t.dtype, ...o });

/** Values start, start + step, … below end (`arange(end)` starts at 0); float32 unless dtype says int64. */
export function arange(start: number, end?: number, step = 1, o: CreateOptions = {}): Tensor {
  const [from, to] = end === undefined ? [0, start] : [start, end];
  if (step === 0) throw geulError('INVALID_INPUT', { detail: 'arange: step must not be 0' });
  const count = Math.max(0, Math.ceil((to - from) / step));
  return fromHost(hostArray(o.dtype ?? 'float32', Array.from({ length: count }, (_, i) => from + i * step)), o.dtype ?? 'float32', [count], o.requiresGrad);
}

/** `steps` evenly spaced values from start to end inclusive. */
export function linspace(start: number, end: number, steps: number, o: CreateOptions = {}): Tensor {
  const values = Array.from({ length: steps }, (_, i) => (steps === 1 ? start : start + ((end - start) * i) / (steps - 1)));
  return fromHost(hostArray('float32', values), 'float32', [steps], o.requiresGrad);
}

/** The n×m identity (m defaults to n). */
export function eye(n: number, m = n, o: CreateOptions = {}): Tensor {
  const dtype = o.dtype ?? 'float32';
  return fromHost(hostArray(dtype, Array.from({ length: n * m }, (_, i) => (Math.floor(i / m) === i % m ? 1 : 0))), dtype, [n, m], o.requiresGrad);
}

/** Uniform in [0, 1). */
export function rand(shape: readonly number[], o: RandomOptions = {}): Tensor {
  const rng = (o.generator ?? defaultGenerator).rng;
  const size = checkShape(shape, 'rand');
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = rng.next();
  return fromHost(data, 'float32', shape, o.requiresGrad);
}

/** Standard normal. */
export function randn(shape: readonly number[], o: RandomOptions = {}): Tensor {
  const rng = (o.generator ?? defaultGenerator).rng;
  return fromHost(rng.normalArray(checkShape(shape, 'randn')), 'float32', shape, o.requiresGrad);
}

/** Integers in [low, high) as int64. */
export function randint(low: number, high: number, shape: readonly number[], o: RandomOptions = {}): Tensor {
  const rng = (o.generator ?? defaultGenerator).rng;
  if (!(high > low)) throw geulError('INVALID_INPUT', { detail: `randint: high (${high}) must be greater than low (${low})` });
  const data = BigInt64Array.from({ length: checkShape(shape, 'randint') }, () => BigInt(low + rng.int(high - low)));
  return fromHost(data, 'int64', shape);
}

/** Concatenates along an existing dimension. */
export const cat = (xs: readonly Tensor[], dim = 0): Tensor => new Tensor(sh.cat(xs.map((x) => x.node), dim));
/** Stacks along a new dimension. */
export const stack = (xs: readonly Tensor[], dim = 0): Tensor => new Tensor(sh.stack(xs.map((x) => x.node), dim));
/** `a` where cond is true, else `b`. */
export const where = (cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor =>
  new Tensor(ew.where(cond.node, typeof a === 'number' ? a : a.node, typeof b === 'number' ? b : b.node));
