// Normalisation ops (Softmax, LogSoftmax, LayerNormalization): shapes and gradients written with standard ops.
import type { Value } from '../builder.js';
import { attrInt, axisOf, type OpDef } from './types.js';

export const NN_OPS: Record<string, OpDef> = {
  Softmax: {
    shape: (s) => [s.inputs[0]?.shape],
    grad: (c) => {
      const { g } = c;
      const y = c.outputs[0];
      const dy = c.dy[0] as Value;
      const dot = g.op1('ReduceSum', [g.op1('Mul', [dy, y]), g.ints([c.int('axis', -1)])], { keepdims: 1 });
      return [g.op1('Mul', [y, g.op1('Sub', [dy, dot])])];
    },
  },
  LogSoftmax: {
    shape: (s) => [s.inputs[0]?.shape],
    grad: (c) => {
      const { g } = c;
      const dy = c.dy[0] as Value;
      const total = g.op1('ReduceSum', [dy, g.ints([c.int('axis', -1)])], { keepdims: 1 });
      return [g.op1('Sub', [dy, g.op1('Mul', [g.op1('Exp', [c.outputs[0]]), total])])];
    },
  },
  LayerNormalization: {
    shape: (s) => [s.inputs[0]?.shape],
    grad: (c) => {
      // Recomputes the statistics: dx = inv * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)).
      const { g } = c;
      const [x, scale, bias] = c.inputs as (Value | undefined)[] as Value[];
      const dy = c.dy[0] as Value;
      const rank = x.shape?.length;
      if (rank === undefined) throw new Error(`${c.node.name}: LayerNormalization gradient needs the input rank`);
      const axis = axisOf(attrInt(c.node, 'axis', -1), rank);
      const axes = Array.from({ length: rank - axis }, (_, i) => axis + i);
      const mean = (v: Value) => g.op1('ReduceMean', [v], { axes, keepdims: 1 });
      const xc = g.op1('Sub', [x, mean(x)]);
      const inv = g.op1('Reciprocal', [g.op1('Sqrt', [g.op1('Add', [mean(g.op1('Mul', [xc, xc])), c.scalar(c.float('epsilon', 1e-5))])])]);
      const xhat = g.op1('Mul', [xc, inv]);
      const dxhat = g.op1('Mul', [dy, scale]);
      const inner = g.op1('Sub', [g.op1('Sub', [dxhat, mean(dxhat)]), g.op1('Mul', [xhat, mean(g.op1('Mul', [dxhat, xhat]))])]);
      const dx = c.needs[0] ? g.op1('Mul', [inv, inner]) : undefined;
      const dscale = c.needs[1] ? c.unbroadcast(g.op1('Mul', [dy, xhat]), scale) : undefined;
      const dbias = bias && c.needs[2] ? c.unbroadcast(dy, bias) : undefined;
      return [dx, dscale, dbias];
    },
  },
};
