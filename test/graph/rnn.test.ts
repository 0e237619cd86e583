// GRU, RNN and LSTM Scan layers: backprop through time (reverse Scan) against finite differences, with padding masks.
import { test } from 'node:test';
import { checkGradient } from './grad-check.js';
import { recurrent, type Cell } from '../../src/graph/rnn.js';
import { lstm } from '../../src/graph/lstm.js';

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
