// Elementwise ops (arithmetic, activations, comparisons, Where, Cast): typed emitters, broadcasting shape rules, gradients.
import { ONNX_DTYPE, type DType } from '../onnx-proto.js';
import { DTYPE_BY_CODE } from '../tensor-data.js';
import { attrInt, broadcastShapes, FLOAT_TYPES, floatTypeOf, lift, type Emitter, type GradContext, type OpDef, type Operand, type ShapeContext, type Value } from './types.js';

/** A binary op; a number operand becomes a scalar of the other operand's type (float32 when both are numbers). */
export function binary(e: Emitter, opType: string, a: Operand, b: Operand): Value {
  if (typeof a === 'number' && typeof b === 'number') return e.op1(opType, [e.scalar(a), e.scalar(b)]);
  return e.op1(opType, [lift(e, a, b as Value), lift(e, b, a as Value)]);
}

export const add = (e: Emitter, a: Operand, b: Operand): Value => binary(e, 'Add', a, b);
export const sub = (e: Emitter, a: Operand, b: Operand): Value => binary(e, 'Sub', a, b);
export const mul = (e: Emitter, a: Operand, b: Operand): Value => binary(e, 'Mul', a, b);
export const div = (e: Emitter, a: Operand, b: Operand): Value => binary(e, 'Div', a, b);
export const pow = (e: Emitter, a: Operand, b: Operand): Value => binary(e, 'Pow', a, b);
export const equal = (e: Emitter, a: Operand, b: Operand): Value => binary(e, 'Equal', a, b);
export const less = (e: Emitter, a: Operand, b: Operand): Value => binary(e, 'Less', a, b);
export const lessOrEqual = (e: Emitter, a: Operand, b: Operand): Value => binary(e, 'LessOrEqual', a, b);
export const greater = (e: Emitter, a: Operand, b: Operand): Value => binary(e, 'Greater', a, b);
export const and = (e: Emitter, a: Value, b: Value): Value => e.op1('And', [a, b]);
export const neg = (e: Emitter, x: Value): Value => e.op1('Neg', [x]);
export const abs = (e: Emitter, x: Value): Value => e.op1('Abs', [x]);
export const sign = (e: Emitter, x: Value): Value => e.op1('Sign', [x]);
export const sqrt = (e: Emitter, x: Value): Value => e.op1('Sqrt', [x]);
export const exp = (e: Emitter, x: Value): Value => e.op1('Exp', [x]);
export const log = (e: Emitter, x: Value): Value => e.op1('Log', [x]);
export const reciprocal = (e: Emitter, x: Value): Value => e.op1('Reciprocal', [x]);
export const relu = (e: Emitter, x: Value): Value => e.op1('Relu', [x]);
export const sigmoid = (e: Emitter, x: Value): Value => e.op1('Sigmoid', [x]);
export const tanh = (e: Emitter, x: Value): Value => e.op1('Tanh', [x]);
export const erf = (e: Emitter, x: Value): Value => e.op1('Erf', [x]);
export const not = (e: Emitter, x: Value): Value => e.op1('Not', [x]);
export const identity = (e: Emitter, x: Value): Value => e.op1('Identity', [x]);

/** Exact GELU, 0.5·x·(1 + erf(x/√2)), written with opset-17 ops (Gelu itself is opset 20). */
export const gelu = (e: Emitter, x: Value): Value => mul(e, mul(e, x, add(e, erf(e, div(e, x, Math.SQRT2)), 1)), 0.5);

/** Where(cond, a, b): a where cond is true, else b. */
export function where(e: Emitter, cond: Value, a: Operand, b: Operand): Value {
  const like = typeof a === 'number' ? (b as Value) : a;
  return e.op1('Where', [cond, lift(e, a, like), lift(e, b, like)]);
}

export const cast = (e: Emitter, x: Value, to: DType): Value => e.op1('Cast', [x], { to: ONNX_DTYPE[to] });

/** Upper (default) or lower triangle of the last two axes, shifted by diagonal offset `k`. */
export function trilu(e: Emitter, x: Value, o: { upper?: boolean; k?: number | Value } = {}): Value {
  const k = typeof o.k === 'number' ? e.int(o.k) : o.k;
  return e.op1('Trilu', k === undefined ? [x] : [x, k], { upper: o.upper === false ? 0 : 1 });
}

const same = (ctx: ShapeContext) => [ctx.inputs[0]?.shape];
const broadcast = (ctx: ShapeContext) => [ctx.inputs.reduce((acc, v) => broadcastShapes(acc, v?.shape), ctx.inputs[0]?.shape)];
const bool = () => ['bool' as const];

/** A unary op whose gradient is `dy * f(x, y)`. */
function unary(local: (c: GradContext, x: Value, y: Value) => Value): OpDef {
  return {
    shape: same,
    grad: (c) => [c.dy[0] && mul(c.g, c.dy[0], local(c, c.inputs[0] as Value, c.outputs[0]))],
  };
}

/** A mask (bool) or another-typed gradient as the float type of `like`. */
const castLike = (c: GradContext, x: Value, like: Value) => cast(c.g, x, floatTypeOf(like));

export const ELEMENTWISE_OPS: Record<string, OpDef> = {
  Add: { shape: broadcast, grad: (c) => [c.dy[0] && c.unbroadcast(c.dy[0], c.inputs[0] as Value), c.dy[0] && c.unbroadcast(c.dy[0], c.inputs[1] as Value)] },
  Sub: {
    shape: broadcast,
    grad: (c) => {
      const dy = c.dy[0] as Value;
      return [c.needs[0] ? c.unbroadcast(dy, c.inputs[0] as Value) : undefined, c.needs[1] ? c.unbroadcast(neg(c.g, dy), c.inputs[1] as Value) : undefined];
    },
  },
  Mul: {
    shape: broadcast,
    grad: (c) => {
      const [a, b] = c.inputs as Value[];
      const dy = c.dy[0] as Value;
      return [c.needs[0] ? c.unbroadcast(mul(c.g, dy, b), a) : undefined, c.needs[1] ? c.unbroadcast(mul(c.g, dy, a), b) : undefined];
    },
  },
  Div: {
    shape: broadcast,
    grad: (c) => {
      const [a, b] = c.inputs as Value[];
      const dy = c.dy[0] as Value;
      const da = c.needs[0] ? c.unbroadcast(div(c.g, dy, b), a) : undefined;
      const db = c.needs[1] ? c.unbroadcast(neg(c.g, mul(c.g, dy, div(c.g, c.outputs[0], b))), b) : undefined;
      return [da, db];
    },
  },
  Pow: {
    shape: broadcast,
    grad: (c) => {
      const { g } = c;
      const [a, b] = c.inputs as Value[];
      const dy = c.dy[0] as Value;
      const da = c.needs[0] ? c.unbroadcast(mul(g, dy, mul(g, b, pow(g, a, sub(g, b, c.scalar(1))))), a) : undefined;
      const db = c.needs[1] ? c.unbroadcast(mul(g, dy, mul(g, c.outputs[0], log(g, a))), b) : undefined;
      return [da, db];
    },
  },
  Sum: { shape: broadcast, grad: (c) => c.inputs.map((x, i) => (c.needs[i] && c.dy[0] ? c.unbroadcast(c.dy[0], x as Value) : undefined)) },
  // Trilu keeps a triangle: its gradient keeps the same triangle of dy.
  Trilu: { shape: same, grad: (c) => [c.dy[0] && trilu(c.g, c.dy[0], { upper: c.int('upper', 1) === 1, k: c.inputs[1] }), undefined] },
  Neg: { shape: same, grad: (c) => [c.dy[0] && neg(c.g, c.dy[0])] },
  Identity: { shape: same, grad: (c) => [c.dy[0]] },
  Sqrt: unary((c, _x, y) => div(c.g, c.scalar(0.5), y)),
  Exp: unary((_c, _x, y) => y),
  Log: unary((c, x) => reciprocal(c.g, x)),
  Reciprocal: unary((c, _x, y) => neg(c.g, mul(c.g, y, y))),
  Abs: unary((c, x) => sign(c.g, x)),
  Relu: unary((c, x) => castLike(c, greater(c.g, x, c.scalar(0)), x)),
  Sigmoid: unary((c, _x, y) => mul(c.g, y, sub(c.g, c.scalar(1), y))),
  Tanh: unary((c, _x, y) => sub(c.g, c.scalar(1), mul(c.g, y, y))),
  Softplus: unary((c, x) => sigmoid(c.g, x)),
  Erf: unary((c, x) => mul(c.g, c.scalar(2 / Math.sqrt(Math.PI)), exp(c.g, neg(c.g, mul(c.g, x, x))))),
  Where: {
    shape: broadcast,
    dtype: (s) => [s.inputs[1]?.dtype ?? s.inputs[2]?.dtype],
    grad: (c) => {
      const [cond, a, b] = c.inputs as Value[];
      const dy = c.dy[0] as Value;
      const zero = c.scalar(0);
      return [
        undefined,
        c.needs[1] ? c.unbroadcast(where(c.g, cond, dy, zero), a) : undefined,
        c.needs[2] ? c.unbroadcast(where(c.g, cond, zero, dy), b) : undefined,
      ];
    },
  },
  Cast: {
    shape: same,
    dtype: (s) => [DTYPE_BY_CODE.get(attrInt(s.node, 'to', -1))],
    grad: (c) => {
      const x = c.inputs[0] as Value;
      if (!FLOAT_TYPES.has(x.dtype) || !c.dy[0]) return [undefined];
      return [castLike(c, c.dy[0], x)];
    },
  },
  // Comparisons, logic and sign produce no gradient; listed for shape and type inference.
  Greater: { shape: broadcast, dtype: bool }, Less: { shape: broadcast, dtype: bool }, Equal: { shape: broadcast, dtype: bool },
  GreaterOrEqual: { shape: broadcast, dtype: bool }, LessOrEqual: { shape: broadcast, dtype: bool }, Not: { shape: same, dtype: bool },
  And: { shape: broadcast, dtype: bool }, Or: { shape: broadcast, dtype: bool }, Sign: { shape: same },
  Max: { shape: broadcast }, Min: { shape: broadcast },
};
