// LSTM layer as an ONNX Scan, with hand-written backprop through time as a reverse Scan (same conventions as rnn.ts).
//
// Inputs are time-major (x [T, B, D], mask [T, B, 1] with 1 for real tokens); padded steps keep both states.
// Gates are ordered input, forget, cell candidate, output: pre = x·Wx + bx + h·Wh + bh, [B, 4H].
// The input projection for all steps and the recurrent weight gradients are single MatMuls outside the Scans.
import type { GraphBuilder, Value } from './builder.js';
import type { Dim } from './onnx-proto.js';
import { zeroState, type RecurrentResult, type RecurrentWeights } from './rnn.js';

export interface LstmOptions {
  hidden: number;
  /** Process the sequence from its end (the backward half of a bidirectional layer). */
  reverse?: boolean;
  /** Also emit what the backward pass needs and register the gradient (training graphs). */
  train?: boolean;
}

const T: Dim = 'time';
const B: Dim = 'batch';

/** Runs one LSTM layer over x [T, B, D] with mask [T, B, 1]; weights as RecurrentWeights with G = 4. */
export function lstm(g: GraphBuilder, x: Value, mask: Value, w: RecurrentWeights, options: LstmOptions): RecurrentResult & { cell: Value } {
  const { hidden: H } = options;
  const dtype: 'float32' | 'float64' = x.dtype === 'float64' ? 'float64' : 'float32';
  const dir = options.reverse ? 1 : 0;
  // Declared shape: x's time and batch dims may be unknown to inference, and the Scan needs them.
  const xw = g.withShape(g.add(g.matmul(x, w.wx), w.bx), [T, B, 4 * H]);
  const h0 = zeroState(g, x, H, dtype);
  const c0 = zeroState(g, x, H, dtype);
  // Saved per step for the backward pass: previous h (weight gradient), previous c, sigmoid of all gate
  // pre-activations (input, forget, output gates), the cell candidate and tanh(c').
  const saved: [string, number][] = options.train ? [['h_prev', H], ['c_prev', H], ['sig', 4 * H], ['cand', H], ['tanh_c', H]] : [];
  const body = g.subgraph('lstm_body', (s) => {
    const h = s.input(s.unique('h'), dtype, [B, H]);
    const c = s.input(s.unique('c'), dtype, [B, H]);
    const xt = s.input(s.unique('xw_t'), dtype, [B, 4 * H]);
    const m = s.input(s.unique('m_t'), dtype, [B, 1]);
    const pre = s.add(xt, s.add(s.matmul(h, w.wh), w.bh));
    const sig = s.sigmoid(pre);
    const [i, f, , o] = s.split(sig, [H, H, H, H], 1);
    const cand = s.tanh(s.slice(pre, [2 * H], [3 * H], [1]));
    const cNew = s.add(s.mul(f, c), s.mul(i, cand));
    const tc = s.tanh(cNew);
    const hNew = s.mul(o, tc);
    const hOut = s.add(h, s.mul(m, s.sub(hNew, h)));
    const cOut = s.add(c, s.mul(m, s.sub(cNew, c)));
    s.output(hOut, s.unique('h_out'), { dtype, shape: [B, H] });
    s.output(cOut, s.unique('c_out'), { dtype, shape: [B, H] });
    s.output(s.identity(hOut), s.unique('y_t'), { dtype, shape: [B, H] });
    if (options.train) {
      // Body inputs need an Identity to become outputs; intermediate values are output directly.
      const keep = [s.identity(h), s.identity(c), sig, cand, tc];
      keep.forEach((v, k) => s.output(v, s.unique(`${saved[k][0]}_t`), { dtype, shape: [B, saved[k][1]] }));
    }
  });
  const outs = g.op('Scan', [h0, c0, xw, mask], {
    body, num_scan_inputs: 2, scan_input_directions: [dir, dir], scan_output_directions: Array(1 + saved.length).fill(dir),
  }, {
    outputs: 3 + saved.length, dtype, shapes: [[B, H], [B, H], [T, B, H], ...saved.map(([, width]) => [T, B, width])],
    // The body reads the recurrent weights from the outer graph: their gradients follow the Scan inputs' ones.
    ...(options.train && { gradient: { grad: (c) => backward(g, c.dy, c.outputs, mask, w, H, dtype, options.reverse ?? false), reads: [w.wh, w.bh] } }),
  });
  return { last: outs[0], cell: outs[1], outputs: outs[2] };
}

/**
 * Reverse Scan carrying dL/dh and dL/dc. Every factor that does not depend on the carried gradients (gate derivatives,
 * 1 - tanh²) is computed for all steps at once outside the Scan, so each step runs a dozen small nodes; the step
 * emits the pre-activation gradient, and the weight gradients are batched MatMuls afterwards.
 */
function backward(
  g: GraphBuilder, dy: readonly (Value | undefined)[], outs: readonly Value[], mask: Value, w: RecurrentWeights,
  H: number, dtype: 'float32' | 'float64', reverse: boolean,
): (Value | undefined)[] {
  const dir = reverse ? 0 : 1;
  const [lastH, lastC, , hPrev, cPrev, sig, cand, tc] = outs;
  const dLastH = dy[0] ?? g.zerosLike(lastH);
  const dLastC = dy[1] ?? g.zerosLike(lastC);
  const whT = g.transpose(w.wh, [1, 0]);
  const one = g.scalar(1, dtype);
  const mul = (a: Value, b: Value) => g.mul(a, b);
  const sub = (a: Value, b: Value) => g.sub(a, b);
  const [i, f, , o] = g.split(sig, [H, H, H, H], 2);
  const dsig = (v: Value) => mul(v, sub(one, v));
  // dpre = [dc'·cand·σ'(i), dc'·c_prev·σ'(f), dc'·i·(1 - cand²), dh'·tanh(c')·σ'(o)] = [dc', dc', dc', dh'] ⊙ factors.
  const factors = g.concat([mul(cand, dsig(i)), mul(cPrev, dsig(f)), mul(i, sub(one, mul(cand, cand))), mul(tc, dsig(o))], 2);
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
    const dht = dyt ? s.add(dh, dyt) : dh;
    const dhNew = s.mul(m, dht);
    const dcCarry = s.mul(m, dc);
    const dcNew = s.add(dcCarry, s.mul(dhNew, vh));
    const dpre = s.mul(s.concat([dcNew, dcNew, dcNew, dhNew], 1), fac);
    const dhPrev = s.add(s.sub(dht, dhNew), s.matmul(dpre, whT));
    const dcPrev = s.add(s.sub(dc, dcCarry), s.mul(dcNew, ft));
    s.output(dhPrev, s.unique('dh_out'), { dtype, shape: [B, H] });
    s.output(dcPrev, s.unique('dc_out'), { dtype, shape: [B, H] });
    s.output(dpre, s.unique('dpre_t'), { dtype, shape: [B, 4 * H] });
  });
  const scanned = [...(withOutputs ? [dy[2] as Value] : []), factors, viaH, f, mask];
  const [dh0, dc0, dpre] = g.op('Scan', [dLastH, dLastC, ...scanned], {
    body, num_scan_inputs: scanned.length, scan_input_directions: scanned.map(() => dir), scan_output_directions: [dir],
  }, { outputs: 3, dtype });
  const hp = g.reshape(hPrev, [-1, H]);
  const dpre2 = g.reshape(dpre, [-1, 4 * H]);
  const dwh = g.matmul(g.transpose(hp, [1, 0]), dpre2);
  const dbh = g.reduceSum(dpre2, [0], false);
  return [dh0, dc0, dpre, undefined, dwh, dbh];
}
