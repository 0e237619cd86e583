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

/**
 * Reverse Scan: carries dL/dh backwards. Each step only needs d(new state) = mask · (dh + dy_t); every factor that maps
 * it to pre-activation gradients is computed for all steps at once outside the Scan, and so are the input-projection
 * and weight gradients afterwards (batched over time).
 */
function backward(
  g: GraphBuilder, dy: readonly (Value | undefined)[], outs: Value[], mask: Value, w: RecurrentWeights,
  options: RecurrentOptions & { dtype: 'float32' | 'float64' },
): (Value | undefined)[] {
  const { hidden: H, cell, dtype } = options;
  const G = cell === 'gru' ? 3 : 1;
  const dir = options.reverse ? 0 : 1;
  const [last, , ...saved] = outs;
  const dLast = dy[0] ?? zerosLike(g, last);
  const whT = g.op1('Transpose', [w.wh], { perm: [1, 0] });
  const one = g.scalar(1, dtype);
  const mul = (a: Value, b: Value) => g.op1('Mul', [a, b]);
  const sub = (a: Value, b: Value) => g.op1('Sub', [a, b]);
  // dxw_t = dnew_t ⊙ fx, dhr_t = dnew_t ⊙ fh (dnew repeated per gate), dh_prev = dt + dnew ⊙ keep + dhr_t · Whᵀ.
  let fx: Value;
  let fh: Value;
  let keep: Value | undefined;
  if (cell === 'gru') {
    const [hp, r, z, n, hrn] = saved;
    const fn = mul(sub(one, z), sub(one, mul(n, n)));
    const fr = mul(mul(fn, hrn), mul(r, sub(one, r)));
    const fz = mul(sub(hp, n), mul(z, sub(one, z)));
    fx = g.op1('Concat', [fr, fz, fn], { axis: 2 });
    fh = g.op1('Concat', [fr, fz, mul(fn, r)], { axis: 2 });
    keep = sub(z, one);
  } else {
    const [, a] = saved;
    fx = fh = sub(one, mul(a, a));
  }
  const repeat = (v: Value, axis: number) => (G === 1 ? v : g.op1('Concat', Array(G).fill(v), { axis }));
  const withOutputs = dy[1] !== undefined;
  const body = g.subgraph(`${cell}_grad_body`, (s) => {
    const dh = s.input(s.unique('dh'), dtype, [B, H]);
    const dyt = withOutputs ? s.input(s.unique('dy_t'), dtype, [B, H]) : undefined;
    const fht = s.input(s.unique('fh_t'), dtype, [B, G * H]);
    const keept = keep ? s.input(s.unique('keep_t'), dtype, [B, H]) : undefined;
    const m = s.input(s.unique('m_t'), dtype, [B, 1]);
    const dt = dyt ? s.op1('Add', [dh, dyt]) : dh;
    const dnew = s.op1('Mul', [m, dt]);
    const dhr = s.op1('Mul', [G === 1 ? dnew : s.op1('Concat', Array(G).fill(dnew), { axis: 1 }), fht]);
    const carried = keept ? s.op1('Add', [dt, s.op1('Mul', [dnew, keept])]) : s.op1('Sub', [dt, dnew]);
    s.output(s.op1('Add', [carried, s.op1('MatMul', [dhr, whT])]), s.unique('dh_out'), { dtype, shape: [B, H] });
    s.output(dnew, s.unique('dnew_t'), { dtype, shape: [B, H] });
  });
  const scanned = [...(withOutputs ? [dy[1] as Value] : []), fh, ...(keep ? [keep] : []), mask];
  const [dh0, dnew] = g.op('Scan', [dLast, ...scanned], {
    body, num_scan_inputs: scanned.length, scan_input_directions: scanned.map(() => dir), scan_output_directions: [dir],
  }, { outputs: 2, dtype });
  const dnewAll = repeat(dnew, 2);
  const dxw = mul(dnewAll, fx);
  const hp = g.op1('Reshape', [saved[0], g.ints([-1, H])]);
  const dhr2 = g.op1('Reshape', [mul(dnewAll, fh), g.ints([-1, G * H])]);
  const dwh = g.op1('MatMul', [g.op1('Transpose', [hp], { perm: [1, 0] }), dhr2]);
  const dbh = g.op1('ReduceSum', [dhr2, g.ints([0])], { keepdims: 0 });
  return [dh0, dxw, undefined, dwh, dbh];
}
