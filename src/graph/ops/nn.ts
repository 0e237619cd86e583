// Normalisation ops (Softmax, LogSoftmax, LayerNormalization): emitters, shapes, gradients written with standard ops.
import { add, exp, mul, reciprocal, sqrt, sub } from './elementwise.js';
import { reduceMean, reduceSum } from './reduce.js';
import { attrInt, axisOf, rankOf, type Emitter, type OpDef, type Value } from './types.js';

export const softmax = (e: Emitter, x: Value, axis = -1): Value => e.op1('Softmax', [x], { axis });
export const logSoftmax = (e: Emitter, x: Value, axis = -1): Value => e.op1('LogSoftmax', [x], { axis });

export function layerNorm(e: Emitter, x: Value, scale: Value, bias?: Value, o: { axis?: number; epsilon?: number } = {}): Value {
  return e.op1('LayerNormalization', [x, scale, bias], { axis: o.axis ?? -1, epsilon: { float: o.epsilon ?? 1e-5 } });
}

export const NN_OPS: Record<string, OpDef> = {
  Softmax: {
    shape: (s) => [s.inputs[0]?.shape],
    grad: (c) => {
      const { g } = c;
      const y = c.outputs[0];
      const dy = c.dy[0] as Value;
      return [mul(g, y, sub(g, dy, reduceSum(g, mul(g, dy, y), [c.int('axis', -1)])))];
    },
  },
  LogSoftmax: {
    shape: (s) => [s.inputs[0]?.shape],
    grad: (c) => {
      const { g } = c;
      const dy = c.dy[0] as Value;
      return [sub(g, dy, mul(g, exp(g, c.outputs[0]), reduceSum(g, dy, [c.int('axis', -1)])))];
    },
  },
  LayerNormalization: {
    shape: (s) => [s.inputs[0]?.shape],
    grad: (c) => {
      // Recomputes the statistics: dx = inv * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)).
      const { g } = c;
      const [x, scale, bias] = c.inputs as (Value | undefined)[] as Value[];
      const dy = c.dy[0] as Value;
      const rank = rankOf(x, c.node, 'the LayerNormalization gradient');
      const axis = axisOf(attrInt(c.node, 'axis', -1), rank);
      const axes = Array.from({ length: rank - axis }, (_, i) => axis + i);
      const mean = (v: Value) => reduceMean(g, v, axes);
      const xc = sub(g, x, mean(x));
      const inv = reciprocal(g, sqrt(g, add(g, mean(mul(g, xc, xc)), c.scalar(c.float('epsilon', 1e-5)))));
      const xhat = mul(g, xc, inv);
      const dxhat = mul(g, dy, scale);
      const inner = sub(g, sub(g, dxhat, mean(dxhat)), mul(g, xhat, mean(mul(g, dxhat, xhat))));
      const dx = c.needs[0] ? mul(g, inv, inner) : undefined;
      const dscale = c.needs[1] ? c.unbroadcast(mul(g, dy, xhat), scale) : undefined;
      const dbias = bias && c.needs[2] ? c.unbroadcast(dy, bias) : undefined;
      return [dx, dscale, dbias];
    },
  },
};
