// LSTM layer as an ONNX Scan, with hand-written backprop through time as a reverse Scan (same conventions as rnn.ts).
//
// Inputs are time-major (x [T, B, D], mask [T, B, 1] with 1 for real tokens); padded steps keep both states.
// Gates are ordered input, forget, cell candidate, output: pre = x·Wx + bx + h·Wh + bh, [B, 4H].
// The input projection for all steps and the recurrent weight gradients are single MatMuls outside the Scans.
import { defineGradient, lastNode } from './autodiff.js';
import type { GraphBuilder, Value } from './builder.js';
import type { Dim } from './onnx-proto.js';
import { zerosLike } from './ops/types.js';
import type { RecurrentResult, RecurrentWeights } from './rnn.js';

export interface LstmOptions {
  hidden: number;
  /** Process the sequence from its end (the backward half of a bidirectional layer). */
  reverse?: boolean;
  /** Also emit what the backward pass needs and register the gradient (training graphs). */
  train?: boolean;
}

const T: Dim = 'time';
const B: Dim = 'batch';

function zeros(g: GraphBuilder, x: Value, H: number, dtype: 'float32' | 'float64'): Value {
  const batch = g.op1('Slice', [g.op1('Shape', [x]), g.ints([1]), g.ints([2])]);
  return g.op1('ConstantOfShape', [g.op1('Concat', [batch, g.ints([H])], { axis: 0 })], {
    value: { type: 'tensor', value: { name: 'zero', dtype, dims: [1], raw: new Uint8Array(dtype === 'float64' ? 8 : 4) } },
  }, { dtype, shape: [B, H] });
}

/** Runs one LSTM layer over x [T, B, D] with mask [T, B, 1]; weights as RecurrentWeights with G = 4. */
export function lstm(g: GraphBuilder, x: Value, mask: Value, w: RecurrentWeights, options: LstmOptions): RecurrentResult & { cell: Value } {
  const { hidden: H } = options;
  const dtype: 'float32' | 'float64' = x.dtype === 'float64' ? 'float64' : 'float32';
  const dir = options.reverse ? 1 : 0;
  const xw = g.op1('Add', [g.op1('MatMul', [x, w.wx]), w.bx], {}, { shape: [T, B, 4 * H] });
  const h0 = zeros(g, x, H, dtype);
  const c0 = zeros(g, x, H, dtype);
  // Saved per step for the backward pass: previous h (weight gradient), previous c, sigmoid of all gate
  // pre-activations (input, forget, output gates), the cell candidate and tanh(c').
  const saved: [string, number][] = options.train ? [['h_prev', H], ['c_prev', H], ['sig', 4 * H], ['cand', H], ['tanh_c', H]] : [];
  const body = g.subgraph('lstm_body', (s) => {
    const h = s.input(s.unique('h'), dtype, [B, H]);
    const c = s.input(s.unique('c'), dtype, [B, H]);
    const xt = s.input(s.unique('xw_t'), dtype, [B, 4 * H]);
    const m = s.input(s.unique('m_t'), dtype, [B, 1]);
    const pre = s.op1('Add', [xt, s.op1('Add', [s.op1('MatMul', [h, w.wh]), w.bh])]);
    const sig = s.op1('Sigmoid', [pre]);
    const [i, f, , o] = s.op('Split', [sig, s.ints([H, H, H, H])], { axis: 1 }, { outputs: 4 });
    const cand = s.op1('Tanh', [s.op1('Slice', [pre, s.ints([2 * H]), s.ints([3 * H]), s.ints([1])])]);
    const cNew = s.op1('Add', [s.op1('Mul', [f, c]), s.op1('Mul', [i, cand])]);
    const tc = s.op1('Tanh', [cNew]);
    const hNew = s.op1('Mul', [o, tc]);
    const hOut = s.op1('Add', [h, s.op1('Mul', [m, s.op1('Sub', [hNew, h])])]);
    const cOut = s.op1('Add', [c, s.op1('Mul', [m, s.op1('Sub', [cNew, c])])]);
    s.output(hOut, s.unique('h_out'), { dtype, shape: [B, H] });
    s.output(cOut, s.unique('c_out'), { dtype, shape: [B, H] });
    s.output(s.op1('Identity', [hOut]), s.unique('y_t'), { dtype, shape: [B, H] });
    if (options.train) {
      // Body inputs need an Identity to become outputs; intermediate values are output directly.
      const keep = [s.op1('Identity', [h]), s.op1('Identity', [c]), sig, cand, tc];
      keep.forEach((v, k) => s.output(v, s.unique(`${saved[k][0]}_t`), { dtype, shape: [B, saved[k][1]] }));
    }
  });
  const outs = g.op('Scan', [h0, c0, xw, mask], {
    body, num_scan_inputs: 2, scan_input_directions: [dir, dir], scan_output_directions: Array(1 + saved.length).fill(dir),
  }, { outputs: 3 + saved.length, dtype });
  const shapes: Dim[][] = [[B, H], [B, H], [T, B, H], ...saved.map(([, width]) => [T, B, width])];
  const typedOuts = outs.map((v, i) => ({ ...v, dtype, shape: shapes[i] }));
  for (const v of typedOuts) g.values.set(v.name, v);
  if (options.train) {
    const node = lastNode(g);
    defineGradient(g, node.name, (c) => backward(c.g, c.dy, typedOuts, mask, w, H, dtype, options.reverse ?? false), [w.wh, w.bh]);
  }
  return { last: typedOuts[0], cell: typedOuts[1], outputs: typedOuts[2] };
}

/**
 * Reverse Scan carrying dL/dh and dL/dc. Every factor that does not depend on the carried gradients (gate derivatives,
 * 1 - tanh²) is computed for all steps at once outside the Scan, so each step runs a dozen small nodes; the step
 * emits the pre-activation gradient, and the weight gradients are batched MatMuls afterwards.
 */
function backward(
  g: GraphBuilder, dy: readonly (Value | undefined)[], outs: Value[], mask: Value, w: RecurrentWeights,
  H: number, dtype: 'float32' | 'float64', reverse: boolean,
): (Value | undefined)[] {
  const dir = reverse ? 0 : 1;
  const [lastH, lastC, , hPrev, cPrev, sig, cand, tc] = outs;
  const dLastH = dy[0] ?? zerosLike(g, lastH);
  const dLastC = dy[1] ?? zerosLike(g, lastC);
  const whT = g.op1('Transpose', [w.wh], { perm: [1, 0] });
  const one = g.scalar(1, dtype);
  const mul = (a: Value, b: Value) => g.op1('Mul', [a, b]);
  const sub = (a: Value, b: Value) => g.op1('Sub', [a, b]);
  const [i, f, , o] = g.op('Split', [sig, g.ints([H, H, H, H])], { axis: 2 }, { outputs: 4 });
  const dsig = (v: Value) => mul(v, sub(one, v));
  // dpre = [dc'·cand·σ'(i), dc'·c_prev·σ'(f), dc'·i·(1 - cand²), dh'·tanh(c')·σ'(o)] = [dc', dc', dc', dh'] ⊙ factors.
  const factors = g.op1('Concat', [mul(cand, dsig(i)), mul(cPrev, dsig(f)), mul(i, sub(one, mul(cand, cand))), mul(tc, dsig(o))], { axis: 2 });
  const viaH = mul(o, sub(one, mul(tc, tc))); // dc' gets dh' · o · (1 - tanh²(c'))
  const withOutputs = dy[2] !== undefined;
  const body = g.subgraph('lstm_grad_body', (s) => {
    const dh = s.input(s.unique('dh'), dtype, [B, H]);
    const dc = s.input(s.unique('dc'), dtype, [B, H]);
    const dyt = withOutputs ? s.input(s.unique('dy_t'), dtype, [B, H]) : undefined;
    const fac = s.input(s.unique('factors_t'), dtype, [B, 4 * H]);
    const vh = s.input(s.unique('via_h_t'), dtype, [B, H]);
    const ft = s.input(s.unique('f_t'), dtype, [B, H]);
    const m = s.input(s.unique('m_t'), dtype, [B, 1]);
    const dht = dyt ? s.op1('Add', [dh, dyt]) : dh;
    const dhNew = s.op1('Mul', [m, dht]);
    const dcCarry = s.op1('Mul', [m, dc]);
    const dcNew = s.op1('Add', [dcCarry, s.op1('Mul', [dhNew, vh])]);
    const dpre = s.op1('Mul', [s.op1('Concat', [dcNew, dcNew, dcNew, dhNew], { axis: 1 }), fac]);
    const dhPrev = s.op1('Add', [s.op1('Sub', [dht, dhNew]), s.op1('MatMul', [dpre, whT])]);
    const dcPrev = s.op1('Add', [s.op1('Sub', [dc, dcCarry]), s.op1('Mul', [dcNew, ft])]);
    s.output(dhPrev, s.unique('dh_out'), { dtype, shape: [B, H] });
    s.output(dcPrev, s.unique('dc_out'), { dtype, shape: [B, H] });
    s.output(dpre, s.unique('dpre_t'), { dtype, shape: [B, 4 * H] });
  });
  const scanned = [...(withOutputs ? [dy[2] as Value] : []), factors, viaH, f, mask];
  const [dh0, dc0, dpre] = g.op('Scan', [dLastH, dLastC, ...scanned], {
    body, num_scan_inputs: scanned.length, scan_input_directions: scanned.map(() => dir), scan_output_directions: [dir],
  }, { outputs: 3, dtype });
  const hp = g.op1('Reshape', [hPrev, g.ints([-1, H])]);
  const dpre2 = g.op1('Reshape', [dpre, g.ints([-1, 4 * H])]);
  const dwh = g.op1('MatMul', [g.op1('Transpose', [hp], { perm: [1, 0] }), dpre2]);
  const dbh = g.op1('ReduceSum', [dpre2, g.ints([0])], { keepdims: 0 });
  return [dh0, dc0, dpre, undefined, dwh, dbh];
}
