// Recurrent layers as ONNX Scan (GRU, simple RNN) with hand-written backprop through time as a reverse Scan.
//
// Inputs are time-major (x [T, B, D], mask [T, B, 1] with 1 for real tokens); padded steps keep the previous state,
// so right-padded batches end on each row's last real token (and a reverse layer starts from zeros at its first one).
// The input projection for all steps is one MatMul outside the Scan, and so are the recurrent weight gradients.
import type { GraphBuilder, Value } from './builder.js';
import type { Dim } from './onnx-proto.js';

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
  // Declared shape: x's time and batch dims may be unknown to inference, and the Scan needs them.
  const xw = g.withShape(g.add(g.matmul(x, w.wx), w.bx), [T, B, G * H]);
  const h0 = zeroState(g, x, H, dtype);
  const saved = options.train ? (cell === 'gru' ? ['h_prev', 'r', 'z', 'n', 'hr_n'] : ['h_prev', 'a']) : [];
  const body = g.subgraph(`${cell}_body`, (s) => {
    const h = s.input(s.unique('h'), dtype, [B, H]);
    const xt = s.input(s.unique('xw_t'), dtype, [B, G * H]);
    const m = s.input(s.unique('m_t'), dtype, [B, 1]);
    const hr = s.add(s.matmul(h, w.wh), w.bh);
    let next: Value;
    let keep: Value[];
    if (cell === 'gru') {
      const [xr, xz, xn] = s.split(xt, [H, H, H], 1);
      const [hrr, hrz, hrn] = s.split(hr, [H, H, H], 1);
      const r = s.sigmoid(s.add(xr, hrr));
      const z = s.sigmoid(s.add(xz, hrz));
      const n = s.tanh(s.add(xn, s.mul(r, hrn)));
      next = s.add(n, s.mul(z, s.sub(h, n)));
      keep = [h, r, z, n, hrn];
    } else {
      next = s.tanh(s.add(xt, hr));
      keep = [h, next];
    }
    const out = s.add(h, s.mul(m, s.sub(next, h)));
    s.output(out, s.unique('h_out'), { dtype, shape: [B, H] });
    s.output(s.identity(out), s.unique('y_t'), { dtype, shape: [B, H] });
    if (options.train) keep.forEach((v, i) => s.output(s.identity(v), s.unique(`${saved[i]}_t`), { dtype, shape: [B, H] }));
  });
  const outs = g.op('Scan', [h0, xw, mask], {
    body, num_scan_inputs: 2, scan_input_directions: [dir, dir], scan_output_directions: Array(1 + saved.length).fill(dir),
  }, {
    outputs: 2 + saved.length, dtype, shapes: [[B, H], ...Array.from({ length: 1 + saved.length }, () => [T, B, H])],
    // The body reads the recurrent weights from the outer graph: their gradients follow the Scan inputs' ones.
    ...(options.train && { gradient: { grad: (c) => backward(g, c.dy, c.outputs, mask, w, { ...options, dtype }), reads: [w.wh, w.bh] } }),
  });
  return { last: outs[0], outputs: outs[1] };
}

/**
 * Reverse Scan: carries dL/dh backwards. Each step only needs d(new state) = mask · (dh + dy_t); every factor that maps
 * it to pre-activation gradients is computed for all steps at once outside the Scan, and so are the input-projection
 * and weight gradients afterwards (batched over time).
 */
/** Zeros [batch, H] for the initial state, batch read from x [T, B, D] at run time. */
export function zeroState(g: GraphBuilder, x: Value, H: number, dtype: 'float32' | 'float64'): Value {
  return g.constantOfShape(g.concat([g.shape(x, 1, 2), g.ints([H])], 0), 0, dtype, [B, H]);
}

function backward(
  g: GraphBuilder, dy: readonly (Value | undefined)[], outs: readonly Value[], mask: Value, w: RecurrentWeights,
  options: RecurrentOptions & { dtype: 'float32' | 'float64' },
): (Value | undefined)[] {
  const { hidden: H, cell, dtype } = options;
  const G = cell === 'gru' ? 3 : 1;
  const dir = options.reverse ? 0 : 1;
  const [last, , ...saved] = outs;
  const dLast = dy[0] ?? g.zerosLike(last);
  const whT = g.transpose(w.wh, [1, 0]);
  const one = g.scalar(1, dtype);
  const mul = (a: Value, b: Value) => g.mul(a, b);
  const sub = (a: Value, b: Value) => g.sub(a, b);
  // dxw_t = dnew_t ⊙ fx, dhr_t = dnew_t ⊙ fh (dnew repeated per gate), dh_prev = dt + dnew ⊙ keep + dhr_t · Whᵀ.
  let fx: Value;
  let fh: Value;
  let keep: Value | undefined;
  if (cell === 'gru') {
    const [hp, r, z, n, hrn] = saved;
    const fn = mul(sub(one, z), sub(one, mul(n, n)));
    const fr = mul(mul(fn, hrn), mul(r, sub(one, r)));
    const fz = mul(sub(hp, n), mul(z, sub(one, z)));
    fx = g.concat([fr, fz, fn], 2);
    fh = g.concat([fr, fz, mul(fn, r)], 2);
    keep = sub(z, one);
  } else {
    const [, a] = saved;
    fx = fh = sub(one, mul(a, a));
  }
  const repeat = (v: Value, axis: number) => (G === 1 ? v : g.concat(Array(G).fill(v), axis));
  const withOutputs = dy[1] !== undefined;
  const body = g.subgraph(`${cell}_grad_body`, (s) => {
    const dh = s.input(s.unique('dh'), dtype, [B, H]);
    const dyt = withOutputs ? s.input(s.unique('dy_t'), dtype, [B, H]) : undefined;
    const fht = s.input(s.unique('fh_t'), dtype, [B, G * H]);
    const keept = keep ? s.input(s.unique('keep_t'), dtype, [B, H]) : undefined;
    const m = s.input(s.unique('m_t'), dtype, [B, 1]);
    const dt = dyt ? s.add(dh, dyt) : dh;
    const dnew = s.mul(m, dt);
    const dhr = s.mul(G === 1 ? dnew : s.concat(Array(G).fill(dnew), 1), fht);
    const carried = keept ? s.add(dt, s.mul(dnew, keept)) : s.sub(dt, dnew);
    s.output(s.add(carried, s.matmul(dhr, whT)), s.unique('dh_out'), { dtype, shape: [B, H] });
    s.output(dnew, s.unique('dnew_t'), { dtype, shape: [B, H] });
  });
  const scanned = [...(withOutputs ? [dy[1] as Value] : []), fh, ...(keep ? [keep] : []), mask];
  const [dh0, dnew] = g.op('Scan', [dLast, ...scanned], {
    body, num_scan_inputs: scanned.length, scan_input_directions: scanned.map(() => dir), scan_output_directions: [dir],
  }, { outputs: 2, dtype });
  const dnewAll = repeat(dnew, 2);
  const dxw = mul(dnewAll, fx);
  const hp = g.reshape(saved[0], [-1, H]);
  const dhr2 = g.reshape(mul(dnewAll, fh), [-1, G * H]);
  const dwh = g.matmul(g.transpose(hp, [1, 0]), dhr2);
  const dbh = g.reduceSum(dhr2, [0], false);
  return [dh0, dxw, undefined, dwh, dbh];
}
