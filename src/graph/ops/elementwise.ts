// Elementwise ops (arithmetic, activations, Where, Cast): broadcasting shape rules and their gradients.
import type { Value } from '../builder.js';
import { broadcastShapes, FLOAT_TYPES, type GradContext, type OpDef, type ShapeContext } from './types.js';

const same = (ctx: ShapeContext) => [ctx.inputs[0]?.shape];
const broadcast = (ctx: ShapeContext) => [ctx.inputs.reduce((acc, v) => broadcastShapes(acc, v?.shape), ctx.inputs[0]?.shape)];

/** A unary op whose gradient is `dy * f(x, y)`. */
function unary(local: (c: GradContext, x: Value, y: Value) => Value): OpDef {
  return {
    shape: same,
    grad: (c) => [c.dy[0] && c.g.op1('Mul', [c.dy[0], local(c, c.inputs[0] as Value, c.outputs[0])])],
  };
}

const mul = (c: GradContext, a: Value, b: Value) => c.g.op1('Mul', [a, b]);
const sub = (c: GradContext, a: Value, b: Value) => c.g.op1('Sub', [a, b]);
const castLike = (c: GradContext, mask: Value, like: Value) => c.g.op1('Cast', [mask], { to: like.dtype === 'float64' ? 11 : like.dtype === 'float16' ? 10 : 1 });

export const ELEMENTWISE_OPS: Record<string, OpDef> = {
  Add: { shape: broadcast, grad: (c) => [c.dy[0] && c.unbroadcast(c.dy[0], c.inputs[0] as Value), c.dy[0] && c.unbroadcast(c.dy[0], c.inputs[1] as Value)] },
  Sub: {
    shape: broadcast,
    grad: (c) => {
      const dy = c.dy[0] as Value;
      return [c.needs[0] ? c.unbroadcast(dy, c.inputs[0] as Value) : undefined, c.needs[1] ? c.unbroadcast(c.g.op1('Neg', [dy]), c.inputs[1] as Value) : undefined];
    },
  },
  Mul: {
    shape: broadcast,
    grad: (c) => {
      const [a, b] = c.inputs as Value[];
      const dy = c.dy[0] as Value;
      return [c.needs[0] ? c.unbroadcast(mul(c, dy, b), a) : undefined, c.needs[1] ? c.unbroadcast(mul(c, dy, a), b) : undefined];
    },
  },
  Div: {
    shape: broadcast,
    grad: (c) => {
      const [a, b] = c.inputs as Value[];
      const dy = c.dy[0] as Value;
      const da = c.needs[0] ? c.unbroadcast(c.g.op1('Div', [dy, b]), a) : undefined;
      const db = c.needs[1] ? c.unbroadcast(c.g.op1('Neg', [mul(c, dy, c.g.op1('Div', [c.outputs[0], b]))]), b) : undefined;
      return [da, db];
    },
  },
  Pow: {
    shape: broadcast,
    grad: (c) => {
      const [a, b] = c.inputs as Value[];
      const dy = c.dy[0] as Value;
      const da = c.needs[0] ? c.unbroadcast(mul(c, dy, mul(c, b, c.g.op1('Pow', [a, sub(c, b, c.scalar(1))]))), a) : undefined;
      const db = c.needs[1] ? c.unbroadcast(mul(c, dy, mul(c, c.outputs[0], c.g.op1('Log', [a]))), b) : undefined;
      return [da, db];
    },
  },
  Sum: { shape: broadcast, grad: (c) => c.inputs.map((x, i) => (c.needs[i] && c.dy[0] ? c.unbroadcast(c.dy[0], x as Value) : undefined)) },
  // Trilu keeps a triangle: its gradient keeps the same triangle of dy.
  Trilu: { shape: same, grad: (c) => [c.dy[0] && c.g.op1('Trilu', [c.dy[0], c.inputs[1] ?? ''], { upper: c.int('upper', 1) }), undefined] },
  Neg: { shape: same, grad: (c) => [c.dy[0] && c.g.op1('Neg', [c.dy[0]])] },
  Identity: { shape: same, grad: (c) => [c.dy[0]] },
  Sqrt: unary((c, _x, y) => c.g.op1('Div', [c.scalar(0.5), y])),
  Exp: unary((_c, _x, y) => y),
  Log: unary((c, x) => c.g.op1('Reciprocal', [x])),
  Reciprocal: unary((c, _x, y) => c.g.op1('Neg', [mul(c, y, y)])),
  Abs: unary((c, x) => c.g.op1('Sign', [x])),
  Relu: unary((c, x) => castLike(c, c.g.op1('Greater', [x, c.scalar(0)]), x)),
  Sigmoid: unary((c, _x, y) => mul(c, y, sub(c, c.scalar(1), y))),
  Tanh: unary((c, _x, y) => sub(c, c.scalar(1), mul(c, y, y))),
  Softplus: unary((c, x) => c.g.op1('Sigmoid', [x])),
  Erf: unary((c, x) => mul(c, c.scalar(2 / Math.sqrt(Math.PI)), c.g.op1('Exp', [c.g.op1('Neg', [mul(c, x, x)])]))),
  Where: {
    shape: broadcast,
    dtype: (s) => [s.inputs[1]?.dtype ?? s.inputs[2]?.dtype],
    grad: (c) => {
      const [cond, a, b] = c.inputs as Value[];
      const dy = c.dy[0] as Value;
      const zero = c.scalar(0);
      return [
        undefined,
        c.needs[1] ? c.unbroadcast(c.g.op1('Where', [cond, dy, zero]), a) : undefined,
        c.needs[2] ? c.unbroadcast(c.g.op1('Where', [cond, zero, dy]), b) : undefined,
      ];
    },
  },
  Cast: {
    shape: same,
    grad: (c) => {
      const x = c.inputs[0] as Value;
      if (!FLOAT_TYPES.has(x.dtype) || !c.dy[0]) return [undefined];
      return [castLike(c, c.dy[0], x)];
    },
  },
  // Comparisons and sign produce no gradient; listed for shape inference.
  Greater: { shape: broadcast }, Less: { shape: broadcast }, Equal: { shape: broadcast }, GreaterOrEqual: { shape: broadcast },
  LessOrEqual: { shape: broadcast }, Not: { shape: same }, And: { shape: broadcast }, Or: { shape: broadcast }, Sign: { shape: same },
  Max: { shape: broadcast }, Min: { shape: broadcast },
};
