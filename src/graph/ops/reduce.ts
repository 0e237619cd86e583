// Reductions (ReduceSum with axes input, ReduceMean/ReduceMax with axes attribute, opset 17): shapes and gradients.
import type { GraphBuilder, Value } from '../builder.js';
import { attrInt, attrInts, axisOf, type GradContext, type OpDef, type ShapeContext, type Shape } from './types.js';

function reducedShape(x: Shape, axes: number[] | undefined, keep: boolean): Shape {
  if (!x) return undefined;
  const set = new Set((axes ?? x.map((_, i) => i)).map((a) => axisOf(a, x.length)));
  return keep ? x.map((d, i) => (set.has(i) ? 1 : d)) : x.filter((_, i) => !set.has(i));
}

const axesOf = (s: ShapeContext): number[] | undefined => (s.node.opType === 'ReduceSum' ? (s.inputs[1] ? s.constInts(1) : undefined) : attrInts(s.node, 'axes'));

/** The incoming gradient reshaped to keepdims form, ready to broadcast against x. */
function keepDims(c: GradContext, g: GraphBuilder, x: Value, dy: Value, axes: number[] | undefined): Value {
  if (c.int('keepdims', 1)) return dy;
  const rank = x.shape?.length;
  if (rank === undefined) throw new Error(`${c.node.name}: gradient of a reduction needs the input rank`);
  const all = (axes ?? Array.from({ length: rank }, (_, i) => i)).map((a) => axisOf(a, rank)).sort((a, b) => a - b);
  return g.op1('Unsqueeze', [dy, g.ints(all)]);
}

function sumGrad(c: GradContext, axes: number[] | undefined): Value {
  const { g } = c;
  const x = c.inputs[0] as Value;
  return g.op1('Expand', [keepDims(c, g, x, c.dy[0] as Value, axes), g.op1('Shape', [x])]);
}

export const REDUCE_OPS: Record<string, OpDef> = {
  ReduceSum: {
    shape: (s) => [reducedShape(s.inputs[0]?.shape, axesOf(s), attrInt(s.node, 'keepdims', 1) === 1)],
    grad: (c) => {
      if (c.inputs[1] && !c.constInts(1)) throw new Error(`${c.node.name}: ReduceSum gradient needs constant axes`);
      return [sumGrad(c, c.inputs[1] ? c.constInts(1) : undefined)];
    },
  },
  ReduceMean: {
    shape: (s) => [reducedShape(s.inputs[0]?.shape, axesOf(s), attrInt(s.node, 'keepdims', 1) === 1)],
    grad: (c) => {
      const { g } = c;
      const x = c.inputs[0] as Value;
      const count = g.op1('Div', [g.op1('Size', [x]), g.op1('Size', [c.outputs[0]])]);
      const countF = g.op1('Cast', [count], { to: x.dtype === 'float64' ? 11 : 1 });
      return [g.op1('Div', [sumGrad(c, c.ints('axes')), countF])];
    },
  },
  ReduceMax: {
    shape: (s) => [reducedShape(s.inputs[0]?.shape, axesOf(s), attrInt(s.node, 'keepdims', 1) === 1)],
    grad: (c) => {
      const { g } = c;
      const x = c.inputs[0] as Value;
      const axes = c.ints('axes');
      const y = keepDims(c, g, x, c.outputs[0], axes);
      const mask = g.op1('Cast', [g.op1('Equal', [x, y])], { to: x.dtype === 'float64' ? 11 : 1 });
      return [g.op1('Mul', [mask, keepDims(c, g, x, c.dy[0] as Value, axes)])];
    },
  },
};
