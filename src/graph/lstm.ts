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
  // Saved per step for the backward pass: previous h (weight gradient), previous c, activated gates, tanh(c').
  const saved: [string, number][] = options.train ? [['h_prev', H], ['c_prev', H], ['gates', 4 * H], ['tanh_c', H]] : [];
  const body = g.subgraph('lstm_body', (s) => {
    const h = s.input(s.unique('h'), dtype, [B, H]);
    const c = s.input(s.unique('c'), dtype, [B, H]);
    const xt = s.input(s.unique('xw_t'), dtype, [B, 4 * H]);
    const m = s.input(s.unique('m_t'), dtype, [B, 1]);
    const pre = s.op1('Add', [xt, s.op1('Add', [s.op1('MatMul', [h, w.wh]), w.bh])]);
    const [pi, pf, pg, po] = s.op('Split', [pre, s.ints([H, H, H, H])], { axis: 1 }, { outputs: 4 });
    const i = s.op1('Sigmoid', [pi]);
    const f = s.op1('Sigmoid', [pf]);
    const cand = s.op1('Tanh', [pg]);
    const o = s.op1('Sigmoid', [po]);
    const cNew = s.op1('Add', [s.op1('Mul', [f, c]), s.op1('Mul', [i, cand])]);
    const tc = s.op1('Tanh', [cNew]);
    const hNew = s.op1('Mul', [o, tc]);
    const hOut = s.op1('Add', [h, s.op1('Mul', [m, s.op1('Sub', [hNew, h])])]);
    const cOut = s.op1('Add', [c, s.op1('Mul', [m, s.op1('Sub', [cNew, c])])]);
    s.output(hOut, s.unique('h_out'), { dtype, shape: [B, H] });
    s.output(cOut, s.unique('c_out'), { dtype, shape: [B, H] });
    s.output(s.op1('Identity', [hOut]), s.unique('y_t'), { dtype, shape: [B, H] });
    if (options.train) {
      const keep = [h, c, s.op1('Concat', [i, f, cand, o], { axis: 1 }), tc];
      keep.forEach((v, k) => s.output(s.op1('Identity', [v]), s.unique(`${saved[k][0]}_t`), { dtype, shape: [B, saved[k][1]] }));
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

/** Reverse Scan carrying dL/dh and dL/dc; emits per-step pre-activation gradients, then batched weight gradients. */
function backward(
  g: GraphBuilder, dy: readonly (Value | undefined)[], outs: Value[], mask: Value, w: RecurrentWeights,
  H: number, dtype: 'float32' | 'float64', reverse: boolean,
): (Value | undefined)[] {
  const dir = reverse ? 0 : 1;
  const [lastH, lastC, all, ...saved] = outs;
  const dLastH = dy[0] ?? zerosLike(g, lastH);
  const dLastC = dy[1] ?? zerosLike(g, lastC);
  const dAll = dy[2] ?? zerosLike(g, all);
  const whT = g.op1('Transpose', [w.wh], { perm: [1, 0] });
  const body = g.subgraph('lstm_grad_body', (s) => {
    const one = s.scalar(1, dtype);
    const mul = (a: Value, b: Value) => s.op1('Mul', [a, b]);
    const sub = (a: Value, b: Value) => s.op1('Sub', [a, b]);
    const add = (a: Value, b: Value) => s.op1('Add', [a, b]);
    const dh = s.input(s.unique('dh'), dtype, [B, H]);
    const dc = s.input(s.unique('dc'), dtype, [B, H]);
    const dyt = s.input(s.unique('dy_t'), dtype, [B, H]);
    s.input(s.unique('h_prev'), dtype, [B, H]); // scanned along, used only by the batched weight gradient below
    const cPrev = s.input(s.unique('c_prev'), dtype, [B, H]);
    const gates = s.input(s.unique('gates'), dtype, [B, 4 * H]);
    const tc = s.input(s.unique('tanh_c'), dtype, [B, H]);
    const m = s.input(s.unique('m_t'), dtype, [B, 1]);
    const [i, f, cand, o] = s.op('Split', [gates, s.ints([H, H, H, H])], { axis: 1 }, { outputs: 4 });
    const dht = add(dh, dyt);
    const dhNew = mul(m, dht);
    const dcCarry = mul(m, dc);
    const dcNew = add(dcCarry, mul(mul(dhNew, o), sub(one, mul(tc, tc))));
    const dpi = mul(mul(dcNew, cand), mul(i, sub(one, i)));
    const dpf = mul(mul(dcNew, cPrev), mul(f, sub(one, f)));
    const dpg = mul(mul(dcNew, i), sub(one, mul(cand, cand)));
    const dpo = mul(mul(dhNew, tc), mul(o, sub(one, o)));
    const dpre = s.op1('Concat', [dpi, dpf, dpg, dpo], { axis: 1 });
    const dhPrev = add(sub(dht, dhNew), s.op1('MatMul', [dpre, whT]));
    const dcPrev = add(sub(dc, dcCarry), mul(dcNew, f));
    s.output(dhPrev, s.unique('dh_out'), { dtype, shape: [B, H] });
    s.output(dcPrev, s.unique('dc_out'), { dtype, shape: [B, H] });
    s.output(dpre, s.unique('dpre_t'), { dtype, shape: [B, 4 * H] });
  });
  const n = 2 + saved.length;
  const [dh0, dc0, dpre] = g.op('Scan', [dLastH, dLastC, dAll, ...saved, mask], {
    body, num_scan_inputs: n, scan_input_directions: Array(n).fill(dir), scan_output_directions: [dir],
  }, { outputs: 3, dtype });
  const hp = g.op1('Reshape', [saved[0], g.ints([-1, H])]);
  const dpre2 = g.op1('Reshape', [dpre, g.ints([-1, 4 * H])]);
  const dwh = g.op1('MatMul', [g.op1('Transpose', [hp], { perm: [1, 0] }), dpre2]);
  const dbh = g.op1('ReduceSum', [dpre2, g.ints([0])], { keepdims: 0 });
  return [dh0, dc0, dpre, undefined, dwh, dbh];
}
