// Reductions (ReduceSum with axes input, ReduceMean/ReduceMax with axes attribute, opset 17): emitters, shapes, gradients.
import { geulError } from '../../core/errors.js';
import { cast, div, equal, mul } from './elementwise.js';
import { expand, shapeOf, sizeOf, unsqueeze } from './shape-ops.js';
import { attrInt, attrInts, axisOf, floatTypeOf, rankOf, type Emitter, type GradContext, type OpDef, type Shape, type ShapeContext, type Value } from './types.js';

/** ReduceSum over `axes` (all axes when omitted). */
export const reduceSum = (e: Emitter, x: Value, axes?: readonly number[], keepdims = true): Value =>
  e.op1('ReduceSum', axes ? [x, e.ints(axes)] : [x], { keepdims: keepdims ? 1 : 0 });

const reduce = (e: Emitter, opType: string, x: Value, axes: readonly number[] | undefined, keepdims: boolean): Value =>
  e.op1(opType, [x], { ...(axes && { axes: [...axes] }), keepdims: keepdims ? 1 : 0 });

export const reduceMean = (e: Emitter, x: Value, axes?: readonly number[], keepdims = true): Value => reduce(e, 'ReduceMean', x, axes, keepdims);
export const reduceMax = (e: Emitter, x: Value, axes?: readonly number[], keepdims = true): Value => reduce(e, 'ReduceMax', x, axes, keepdims);

function reducedShape(x: Shape, axes: number[] | undefined, keep: boolean): Shape {
  if (!x) return undefined;
  const set = new Set((axes ?? x.map((_, i) => i)).map((a) => axisOf(a, x.length)));
  return keep ? x.map((d, i) => (set.has(i) ? 1 : d)) : x.filter((_, i) => !set.has(i));
}

const axesOf = (s: ShapeContext): number[] | undefined => (s.node.opType === 'ReduceSum' ? (s.inputs[1] ? s.constInts(1) : undefined) : attrInts(s.node, 'axes'));
const shape = (s: ShapeContext) => [reducedShape(s.inputs[0]?.shape, axesOf(s), attrInt(s.node, 'keepdims', 1) === 1)];

/** The incoming gradient reshaped to keepdims form, ready to broadcast against x. */
function keepDims(c: GradContext, x: Value, dy: Value, axes: number[] | undefined): Value {
  if (c.int('keepdims', 1)) return dy;
  const rank = rankOf(x, c.node, 'the gradient of a reduction');
  const all = (axes ?? Array.from({ length: rank }, (_, i) => i)).map((a) => axisOf(a, rank)).sort((a, b) => a - b);
  return unsqueeze(c.g, dy, all);
}

function sumGrad(c: GradContext, axes: number[] | undefined): Value {
  const x = c.inputs[0] as Value;
  return expand(c.g, keepDims(c, x, c.dy[0] as Value, axes), shapeOf(c.g, x));
}

/** ArgMax/ArgMin: int64 indices along the `axis` attribute; no gradient. */
const argShape = (s: ShapeContext) => [reducedShape(s.inputs[0]?.shape, [attrInt(s.node, 'axis', 0)], attrInt(s.node, 'keepdims', 1) === 1)];

export const REDUCE_OPS: Record<string, OpDef> = {
  ArgMax: { shape: argShape, dtype: () => ['int64'] },
  ArgMin: { shape: argShape, dtype: () => ['int64'] },
  ReduceSum: {
    shape,
    grad: (c) => {
      if (c.inputs[1] && !c.constInts(1)) throw geulError('GRAPH_INVALID', { detail: `${c.node.name}: ReduceSum gradient needs constant axes` });
      return [sumGrad(c, c.inputs[1] ? c.constInts(1) : undefined)];
    },
  },
  ReduceMean: {
    shape,
    grad: (c) => {
      const { g } = c;
      const x = c.inputs[0] as Value;
      const count = cast(g, div(g, sizeOf(g, x), sizeOf(g, c.outputs[0])), floatTypeOf(x));
      return [div(g, sumGrad(c, c.ints('axes')), count)];
    },
  },
  ReduceMax: {
    shape,
    grad: (c) => {
      const { g } = c;
      const x = c.inputs[0] as Value;
      const axes = c.ints('axes');
      const mask = cast(g, equal(g, x, keepDims(c, x, c.outputs[0], axes)), floatTypeOf(x));
      return [mul(g, mask, keepDims(c, x, c.dy[0] as Value, axes))];
    },
  },
};
