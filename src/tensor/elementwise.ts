// Elementwise tensor ops over lazy nodes: dtype promotion, broadcasting checks, arithmetic, comparisons, activations.
import { geulError } from '../core/errors.js';
import type { GraphBuilder, Value } from '../graph/builder.js';
import { record, type Node, type TensorDType } from './lazy.js';

type Emit2 = (g: GraphBuilder, a: Value, b: Value | number) => Value;

/** The shape two shapes broadcast to (NumPy rules), or INVALID_INPUT naming both. */
export function broadcastShape(a: readonly number[], b: readonly number[], what: string): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) {
      throw geulError('INVALID_INPUT', { detail: `${what}: shapes [${a.join(', ')}] and [${b.join(', ')}] cannot be broadcast together (dimension ${i}: ${x} vs ${y})` });
    }
    out.push(x === 1 ? y : x);
  }
  return out;
}

export function castTo(x: Node, dtype: TensorDType): Node {
  if (x.dtype === dtype) return x;
  return record(`cast:${dtype}`, [x], (g, [v]) => g.cast(v, dtype));
}

export const toFloat = (x: Node): Node => castTo(x, 'float32');

/** float16 counts as float32 in promotion: it is storage, and ops compute on its float32 value. */
export const isFloat = (d: TensorDType): boolean => d === 'float32' || d === 'float16';

/** The common dtype of two operands (float32 > int64 > bool); `numeric` turns bool into int64. */
function common(a: TensorDType, b: TensorDType, numeric: boolean): TensorDType {
  if (isFloat(a) || isFloat(b)) return 'float32';
  if (a === 'int64' || b === 'int64') return 'int64';
  return numeric ? 'int64' : 'bool';
}

export interface BinaryOptions {
  /** The result is floating even for integer operands (div, pow). */
  float?: boolean;
  /** bool operands stay bool (comparisons and logic); otherwise they count as int64. */
  keepBool?: boolean;
}

/** A binary op with broadcasting; a number becomes a constant of the tensor's type (promoting ints for fractions). */
export function binary(name: string, a: Node, b: Node | number, emit: Emit2, o: BinaryOptions = {}): Node {
  if (typeof b === 'number') {
    const fractional = !Number.isInteger(b);
    const target: TensorDType = o.float || fractional || isFloat(a.dtype) ? 'float32' : a.dtype === 'bool' && !o.keepBool ? 'int64' : a.dtype === 'bool' ? 'float32' : a.dtype;
    const x = castTo(a, target);
    return record(`${name}:${b}`, [x], (g, [v]) => emit(g, v, b));
  }
  broadcastShape(a.shape, b.shape, name);
  const target = o.float ? 'float32' : common(a.dtype, b.dtype, !o.keepBool);
  return record(name, [castTo(a, target), castTo(b, target)], (g, [u, v]) => emit(g, u, v));
}

export const add = (a: Node, b: Node | number): Node => binary('add', a, b, (g, x, y) => g.add(x, y));
export const sub = (a: Node, b: Node | number): Node => binary('sub', a, b, (g, x, y) => g.sub(x, y));
export const mul = (a: Node, b: Node | number): Node => binary('mul', a, b, (g, x, y) => g.mul(x, y));
export const div = (a: Node, b: Node | number): Node => binary('div', a, b, (g, x, y) => g.div(x, y), { float: true });
export const pow = (a: Node, b: Node | number): Node => binary('pow', a, b, (g, x, y) => g.pow(x, y), { float: true });

// Comparisons give bool; ONNX's Less/Greater take no bool operands, so those compare as int64.
const compare = (name: string, emit: Emit2) => (a: Node, b: Node | number): Node =>
  binary(name, a.dtype === 'bool' && name !== 'eq' && name !== 'ne' ? castTo(a, 'int64') : a, b, emit, { keepBool: true });
export const eq = compare('eq', (g, x, y) => g.equal(x, y));
export const ne = compare('ne', (g, x, y) => g.not(g.equal(x, y)));
export const lt = compare('lt', (g, x, y) => g.less(x, y));
export const le = compare('le', (g, x, y) => g.lessOrEqual(x, y));
export const gt = compare('gt', (g, x, y) => g.greater(x, y));
export const ge = compare('ge', (g, x, y) => g.op1('GreaterOrEqual', [x, g.lift(y, x)]));

const logic = (name: string, opType: string) => (a: Node, b: Node): Node => {
  broadcastShape(a.shape, b.shape, name);
  return record(name, [castTo(a, 'bool'), castTo(b, 'bool')], (g, [x, y]) => g.op1(opType, [x, y]));
};
export const logicalAnd = logic('and', 'And');
export const logicalOr = logic('or', 'Or');
export const logicalNot = (x: Node): Node => record('not', [castTo(x, 'bool')], (g, [v]) => g.not(v));

/** A unary op computed in float32 (integer inputs are converted first, as torch does for exp, log, …). */
const floating = (name: string, emit: (g: GraphBuilder, x: Value) => Value) => (x: Node): Node => record(name, [toFloat(x)], (g, [v]) => emit(g, v));
export const exp = floating('exp', (g, x) => g.exp(x));
export const log = floating('log', (g, x) => g.log(x));
export const sqrt = floating('sqrt', (g, x) => g.sqrt(x));
export const relu = floating('relu', (g, x) => g.relu(x));
export const tanh = floating('tanh', (g, x) => g.tanh(x));
export const sigmoid = floating('sigmoid', (g, x) => g.sigmoid(x));
export const gelu = floating('gelu', (g, x) => g.gelu(x));

const numeric = (x: Node): Node => (x.dtype === 'bool' ? castTo(x, 'int64') : x);
export const neg = (x: Node): Node => record('neg', [numeric(x)], (g, [v]) => g.neg(v));
export const abs = (x: Node): Node => record('abs', [numeric(x)], (g, [v]) => g.abs(v));

/** `a` where `cond` is true, else `b` (numbers become constants of the other operand's type). */
export function where(cond: Node, a: Node | number, b: Node | number): Node {
  const c = castTo(cond, 'bool');
  const nodes = [a, b].filter((v): v is Node => typeof v !== 'number');
  let shape = c.shape as number[];
  for (const n of nodes) shape = broadcastShape(shape, n.shape, 'where');
  const fractional = [a, b].some((v) => typeof v === 'number' && !Number.isInteger(v));
  const target: TensorDType = nodes.length === 0 || fractional ? 'float32' : nodes.length === 2 ? common(nodes[0].dtype, nodes[1].dtype, false) : isFloat(nodes[0].dtype) ? 'float32' : nodes[0].dtype;
  const cast = (v: Node | number) => (typeof v === 'number' ? v : castTo(v, target));
  const [x, y] = [cast(a), cast(b)];
  const key = `where:${typeof x === 'number' ? x : 't'}:${typeof y === 'number' ? y : 't'}`;
  const inputs = [c, ...[x, y].filter((v): v is Node => typeof v !== 'number')];
  return record(key, inputs, (g, [cv, ...vs]) => {
    const take = (v: Node | number) => (typeof v === 'number' ? v : (vs.shift() as Value));
    const [u, w] = [take(x), take(y)];
    // Two numbers: a float32 scalar typed from the first, so Where sees matching element types.
    if (typeof u === 'number' && typeof w === 'number') return g.where(cv, g.scalar(u), w);
    return g.where(cv, u, w);
  });
}

/** Limits values to [min, max] (either may be omitted); the gradient passes where the value was inside. */
export function clamp(x: Node, min?: number, max?: number): Node {
  const fractional = [min, max].some((v) => v !== undefined && !Number.isInteger(v));
  const v0 = fractional ? toFloat(x) : numeric(x);
  return record(`clamp:${min}:${max}`, [v0], (g, [v]) => {
    let y = v;
    if (min !== undefined) y = g.where(g.less(y, min), min, y);
    if (max !== undefined) y = g.where(g.greater(y, max), max, y);
    return y;
  });
}
