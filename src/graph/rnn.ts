// Recurrent layers as ONNX Scan (GRU, simple RNN) with hand-written backprop through time as a reverse Scan.
//
// Inputs are time-major (x [T, B, D], mask [T, B, 1] with 1 for real tokens); padded steps keep the previous state,
// so right-padded batches end on each row's last real token (and a reverse layer starts from zeros at its first one).
// The input projection for all steps is one MatMul outside the Scan, and so are the recurrent weight gradients.
import { defineGradient, lastNode } from './autodiff.js';
import type { GraphBuilder, Value } from './builder.js';
import type { Dim } from './onnx-proto.js';
import { zerosLike } from './ops/types.js';

export type Cell = 'gru' | 'rnn';

export interface RecurrentWeights {
  /** Input weights [D, G·H] and bias [G·H]; G = 3 for GRU (reset, update, candidate), 1 for RNN. */
  wx: Value;
  bx: Value;
  /** Recurrent weights [H, G·H] and bias [G·H]. */
  wh: Value;
  bh: Value;
}

export interface RecurrentOptions {
  cell: Cell;
  hidden: number;
  /** Process the sequence from its end (the backward half of a bidirectional layer). */
  reverse?: boolean;
  /** Also emit what the backward pass needs and register the gradient (training graphs). */
  train?: boolean;
}

export interface RecurrentResult {
  /** States at every step [T, B, H], aligned with the input positions. */
  outputs: Value;
  /** State after the last processed step [B, H]. */
  last: Value;
}

const T: Dim = 'time';
const B: Dim = 'batch';

/** Runs one recurrent layer over x [T, B, D] with mask [T, B, 1]. */
export function recurrent(g: GraphBuilder, x: Value, mask: Value, w: RecurrentWeights, options: RecurrentOptions): RecurrentResult {
  const { hidden: H, cell } = options;
  const dtype: 'float32' | 'float64' = x.dtype === 'float64' ? 'float64' : 'float32';
  const G = cell === 'gru' ? 3 : 1;
  const dir = options.reverse ? 1 : 0;
  const xw = g.op1('Add', [g.op1('MatMul', [x, w.wx]), w.bx], {}, { shape: [T, B, G * H] });
  const batch = g.op1('Slice', [g.op1('Shape', [x]), g.ints([1]), g.ints([2])]);
  const h0 = g.op1('ConstantOfShape', [g.op1('Concat', [batch, g.ints([H])], { axis: 0 })], {
    value: { type: 'tensor', value: { name: 'zero', dtype, dims: [1], raw: new Uint8Array(dtype === 'float64' ? 8 : 4) } },
  }, { dtype, shape: [B, H] });
  const saved = options.train ? (cell === 'gru' ? ['h_prev', 'r', 'z', 'n', 'hr_n'] : ['h_prev', 'a']) : [];
  const body = g.subgraph(`${cell}_body`, (s) => {
    const h = s.input(s.unique('h'), dtype, [B, H]);
    const xt = s.input(s.unique('xw_t'), dtype, [B, G * H]);
    const m = s.input(s.unique('m_t'), dtype, [B, 1]);
    const hr = s.op1('Add', [s.op1('MatMul', [h, w.wh]), w.bh]);
    let next: Value;
    let keep: Value[];
    if (cell === 'gru') {
      const sizes = s.ints([H, H, H]);
      const [xr, xz, xn] = s.op('Split', [xt, sizes], { axis: 1 }, { outputs: 3 });
      const [hrr, hrz, hrn] = s.op('Split', [hr, sizes], { axis: 1 }, { outputs: 3 });
      const r = s.op1('Sigmoid', [s.op1('Add', [xr, hrr])]);
      const z = s.op1('Sigmoid', [s.op1('Add', [xz, hrz])]);
      const n = s.op1('Tanh', [s.op1('Add', [xn, s.op1('Mul', [r, hrn])])]);
      next = s.op1('Add', [n, s.op1('Mul', [z, s.op1('Sub', [h, n])])]);
      keep = [h, r, z, n, hrn];
    } else {
      next = s.op1('Tanh', [s.op1('Add', [xt, hr])]);
      keep = [h, next];
    }
    const out = s.op1('Add', [h, s.op1('Mul', [m, s.op1('Sub', [next, h])])]);
    s.output(out, s.unique('h_out'), { dtype, shape: [B, H] });
    s.output(s.op1('Identity', [out]), s.unique('y_t'), { dtype, shape: [B, H] });
    if (options.train) keep.forEach((v, i) => s.output(s.op1('Identity', [v]), s.unique(`${saved[i]}_t`), { dtype, shape: [B, H] }));
  });
  const outs = g.op('Scan', [h0, xw, mask], {
    body, num_scan_inputs: 2, scan_input_directions: [dir, dir], scan_output_directions: Array(1 + saved.length).fill(dir),
  }, { outputs: 2 + saved.length, dtype });
  const typedOuts = outs.map((v, i) => ({ ...v, dtype, shape: i === 0 ? [B, H] : [T, B, H] }));
  for (const v of typedOuts) g.values.set(v.name, v);
  if (options.train) {
    const node = lastNode(g);
    defineGradient(g, node.name, (c) => backward(c.g, c.dy, typedOuts, mask, w, { ...options, dtype }), [w.wh, w.bh]);
  }
  return { last: typedOuts[0], outputs: typedOuts[1] };
}

/** Reverse Scan: carries dL/dh backwards; emits per-step pre-activation gradients, then batched weight gradients. */
function backward(
  g: GraphBuilder, dy: readonly (Value | undefined)[], outs: Value[], mask: Value, w: RecurrentWeights,
  options: RecurrentOptions & { dtype: 'float32' | 'float64' },
): (Value | undefined)[] {
  const { hidden: H, cell, dtype } = options;
  const G = cell === 'gru' ? 3 : 1;
  const dir = options.reverse ? 0 : 1;
  const [last, all, ...saved] = outs;
  const dLast = dy[0] ?? zerosLike(g, last);
  const dAll = dy[1] ?? zerosLike(g, all);
  const whT = g.op1('Transpose', [w.wh], { perm: [1, 0] });
  const body = g.subgraph(`${cell}_grad_body`, (s) => {
    const one = s.scalar(1, dtype);
    const mul = (a: Value, b: Value) => s.op1('Mul', [a, b]);
    const dh = s.input(s.unique('dh'), dtype, [B, H]);
    const dyt = s.input(s.unique('dy_t'), dtype, [B, H]);
    const steps = saved.map((_, i) => s.input(s.unique(`saved_${i}`), dtype, [B, H]));
    const m = s.input(s.unique('m_t'), dtype, [B, 1]);
    const dt = s.op1('Add', [dh, dyt]);
    const dnew = mul(m, dt);
    let dprev = s.op1('Sub', [dt, dnew]);
    let dxt: Value;
    let dhr: Value;
    if (cell === 'gru') {
      const [hp, r, z, n, hrn] = steps;
      const dn = s.op1('Sub', [dnew, mul(dnew, z)]);
      const dz = mul(dnew, s.op1('Sub', [hp, n]));
      dprev = s.op1('Add', [dprev, mul(dnew, z)]);
      const dnp = mul(dn, s.op1('Sub', [one, mul(n, n)]));
      const drp = mul(mul(dnp, hrn), mul(r, s.op1('Sub', [one, r])));
      const dzp = mul(dz, mul(z, s.op1('Sub', [one, z])));
      dxt = s.op1('Concat', [drp, dzp, dnp], { axis: 1 });
      dhr = s.op1('Concat', [drp, dzp, mul(dnp, r)], { axis: 1 });
    } else {
      const [, a] = steps;
      dxt = mul(dnew, s.op1('Sub', [one, mul(a, a)]));
      dhr = s.op1('Identity', [dxt]);
    }
    dprev = s.op1('Add', [dprev, s.op1('MatMul', [dhr, whT])]);
    s.output(dprev, s.unique('dh_out'), { dtype, shape: [B, H] });
    s.output(dxt, s.unique('dxw_t'), { dtype, shape: [B, G * H] });
    s.output(dhr, s.unique('dhr_t'), { dtype, shape: [B, G * H] });
  });
  const n = 2 + saved.length;
  const [dh0, dxw, dhrAll] = g.op('Scan', [dLast, dAll, ...saved, mask], {
    body, num_scan_inputs: n, scan_input_directions: Array(n).fill(dir), scan_output_directions: [dir, dir],
  }, { outputs: 3, dtype });
  const hp = g.op1('Reshape', [saved[0], g.ints([-1, H])]);
  const dhr2 = g.op1('Reshape', [dhrAll, g.ints([-1, G * H])]);
  const dwh = g.op1('MatMul', [g.op1('Transpose', [hp], { perm: [1, 0] }), dhr2]);
  const dbh = g.op1('ReduceSum', [dhr2, g.ints([0])], { keepdims: 0 });
  return [dh0, dxw, undefined, dwh, dbh];
}
