// GRU, RNN and LSTM Scan layers: forward values against PyTorch's cell equations, backprop through time (reverse
// Scan) against finite differences, with padding masks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../../src/graph/builder.js';
import { checkGradient } from './grad-check.js';
import { recurrent, type Cell } from '../../src/graph/rnn.js';
import { lstm } from '../../src/graph/lstm.js';

/**
 * States [T=3, B=2, H=2] for the fixed inputs below, computed once by hand with torch 1.13 in float64: nn.LSTM
 * (gates i, f, g, o), nn.GRU (r, z, n; the reset gate scales W_hn·h + b_hn) and nn.RNN (tanh), with weight_ih_l0 =
 * wxᵀ, weight_hh_l0 = whᵀ, bias_ih_l0 = bx, bias_hh_l0 = bh. ONNX's LSTM/GRU ops order their gates i, o, f, c and z, r, h; these layers are
 * Scans of their own and keep PyTorch's order, which makes porting torch weights a transpose.
 */
const TORCH_STATES: Record<'lstm' | Cell, number[]> = {
  lstm: [0.064955, -0.131186, -0.180992, -0.013864, 0.202371, -0.272265, -0.319593, -0.032609, 0.226193, -0.391981, -0.419794, -0.082185],
  gru: [-0.115189, -0.060026, 0.195862, -0.151787, -0.052669, -0.156034, 0.005215, -0.25413, 0.225787, -0.298815, -0.143197, -0.345809],
  rnn: [-0.658692, -0.850567, 0.672394, -0.771653, -0.373673, -0.827344, 0.151365, -0.990832, 0.328196, -0.836994, -0.545259, -0.988543],
};

for (const cell of ['lstm', 'gru', 'rnn'] as const) {
  test(`${cell}: forward states match PyTorch's ${cell.toUpperCase()} on fixed weights`, async () => {
    const [T, B, D, H] = [3, 2, 2, 2];
    const G = cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1;
    const fixed = (n: number, k: number) => Float32Array.from({ length: n }, (_, i) => Math.round(Math.sin(i * 1.7 + k) * 100) / 100);
    const shapes: Record<string, number[]> = { x: [T, B, D], wx: [D, G * H], bx: [G * H], wh: [H, G * H], bh: [G * H] };
    const g = new GraphBuilder('forward');
    const [x, wx, bx, wh, bh] = Object.entries(shapes).map(([name, shape]) => g.input(name, 'float32', shape));
    const m = g.input('m', 'float32', [T, B, 1]);
    const w = { wx, bx, wh, bh };
    const { outputs } = cell === 'lstm' ? lstm(g, x, m, w, { hidden: H }) : recurrent(g, x, m, w, { cell, hidden: H });
    g.output(outputs, 'y', { dtype: 'float32' });
    const session = await ort.InferenceSession.create(g.serialize());
    const feeds: Record<string, ort.Tensor> = { m: new ort.Tensor('float32', new Float32Array(T * B).fill(1), [T, B, 1]) };
    Object.entries(shapes).forEach(([name, shape], k) => { feeds[name] = new ort.Tensor('float32', fixed(shape.reduce((a, b) => a * b, 1), k), shape); });
    const got = (await session.run(feeds)).y.data as Float32Array;
    await session.release();
    TORCH_STATES[cell].forEach((want, i) => assert.ok(Math.abs(got[i] - want) < 1e-5, `${cell} state ${i}: ${got[i]} vs ${want}`));
  });
}

const mask = [1, 1, 1, 1, 1, 0, 1, 0]; // [T=4, B=2, 1]: row 0 has 4 tokens, row 1 has 2

for (const cell of ['gru', 'rnn'] as Cell[]) {
  for (const reverse of [false, true]) {
    test(`${cell}${reverse ? ' (reverse)' : ''}: gradients of all states and the last state`, async () => {
      const G = cell === 'gru' ? 3 : 1;
      const H = 2;
      await checkGradient(
        [{ shape: [4, 2, 3] }, { shape: [3, G * H] }, { shape: [G * H] }, { shape: [H, G * H] }, { shape: [G * H] }, { shape: [4, 2, 1], data: mask, constant: true }],
        (g, [x, wx, bx, wh, bh, m]) => {
          const { outputs, last } = recurrent(g, x, m, { wx, bx, wh, bh }, { cell, hidden: H, reverse, train: true });
          return g.op1('Concat', [g.op1('Reshape', [outputs, g.ints([-1])]), g.op1('Reshape', [last, g.ints([-1])])], { axis: 0 });
        },
      );
    });
  }
}

for (const reverse of [false, true]) {
  test(`lstm${reverse ? ' (reverse)' : ''}: gradients of all states, the last state and the last cell`, async () => {
    const H = 2;
    await checkGradient(
      [{ shape: [4, 2, 3] }, { shape: [3, 4 * H] }, { shape: [4 * H] }, { shape: [H, 4 * H] }, { shape: [4 * H] }, { shape: [4, 2, 1], data: mask, constant: true }],
      (g, [x, wx, bx, wh, bh, m]) => {
        const { outputs, last, cell } = lstm(g, x, m, { wx, bx, wh, bh }, { hidden: H, reverse, train: true });
        const flat = (v: typeof x) => g.op1('Reshape', [v, g.ints([-1])]);
        return g.op1('Concat', [flat(outputs), flat(last), flat(cell)], { axis: 0 });
      },
    );
  });
}

test('lstm: gradient through the last state alone (no per-step outputs in the backward Scan)', async () => {
  const H = 3;
  await checkGradient(
    [{ shape: [4, 2, 2] }, { shape: [2, 4 * H] }, { shape: [4 * H] }, { shape: [H, 4 * H] }, { shape: [4 * H] }, { shape: [4, 2, 1], data: mask, constant: true }],
    (g, [x, wx, bx, wh, bh, m]) => lstm(g, x, m, { wx, bx, wh, bh }, { hidden: H, train: true }).last,
  );
});

for (const cell of ['gru', 'rnn'] as Cell[]) {
  test(`${cell}: gradient through the last state alone (reverse)`, async () => {
    const G = cell === 'gru' ? 3 : 1;
    const H = 3;
    await checkGradient(
      [{ shape: [4, 2, 2] }, { shape: [2, G * H] }, { shape: [G * H] }, { shape: [H, G * H] }, { shape: [G * H] }, { shape: [4, 2, 1], data: mask, constant: true }],
      (g, [x, wx, bx, wh, bh, m]) => recurrent(g, x, m, { wx, bx, wh, bh }, { cell, hidden: H, reverse: true, train: true }).last,
    );
  });
}
