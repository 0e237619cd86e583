// Single-node forms of encoder patterns for training graphs, each with a gradient that recomputes from its input.
//
// Why: autodiff through a decomposed pattern keeps every intermediate the backward pass reads alive from the forward
// to the backward pass. Exact GELU written as x/√2 → erf → +1 → ·x → ·0.5 holds two extra [rows, 4·hidden] tensors
// per layer (about 0.6 GB at BERT-base 8 × 256) and runs five elementwise passes; ONNX Runtime's own Gelu kernel
// (com.microsoft, erf-exact) is one pass, and its gradient here needs only x, as torch's does.
import type { GraphBuilder, Value } from '../../graph/builder.js';
import { add, erf, exp, mul } from '../../graph/ops/elementwise.js';

const INV_SQRT2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** Exact (erf) GELU as one com.microsoft Gelu node; d/dx = Φ(x) + x·φ(x), recomputed from x in the backward pass. */
export function fusedGelu(g: GraphBuilder, x: Value): Value {
  return g.op1('Gelu', [x], {}, {
    domain: 'com.microsoft',
    dtype: x.dtype ?? 'float32',
    shape: x.shape,
    gradient: {
      grad: (c) => {
        const e = c.g;
        const input = c.inputs[0] as Value;
        const cdf = mul(e, add(e, erf(e, mul(e, input, INV_SQRT2)), 1), 0.5);
        const pdf = mul(e, exp(e, mul(e, mul(e, input, input), -0.5)), INV_SQRT_2PI);
        return [mul(e, c.dy[0] as Value, add(e, cdf, mul(e, input, pdf)))];
      },
    },
  });
}
