// The first-minutes snippet, verbatim (with XOR data for X and T), and the XOR MLP it trains.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, nn, optim, tensorStats } from '../../src/index.js';

test('x.matmul(x).sum() is 54 and its gradient [[7, 11], [9, 13]]', async () => {
  const x = tensor([[1, 2], [3, 4]], { requiresGrad: true });
  const y = x.matmul(x).sum();
  y.backward();
  assert.equal(await y.item(), 54);
  assert.deepEqual(await x.grad.array(), [[7, 11], [9, 13]]);
});

test('an MLP written with the API solves XOR (the snippet\'s loop, compiled once)', async () => {
  // Noisy XOR: 64 points around the four corners, class = xor of the corner.
  const corners = [[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 0]];
  const points: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < 64; i++) {
    const [a, b, c] = corners[i % 4];
    points.push([a + 0.1 * Math.sin(i * 1.7), b + 0.1 * Math.cos(i * 2.3)]);
    labels.push(c);
  }
  const X = tensor(points);
  const T = tensor(labels, { dtype: 'int64' });
  const before = tensorStats().compiles;
  const net = new nn.Sequential(new nn.Linear(2, 8), new nn.Tanh(), new nn.Linear(8, 2));
  const opt = new optim.Adam(net.parameters(), { lr: 0.05 });
  for (let i = 0; i < 300; i++) {
    opt.zeroGrad();
    const loss = nn.crossEntropy(net.forward(X), T);
    loss.backward();
    await opt.step();
  }
  // Every step has the same structure: one compile for all 300 (the step with a fresh optimizer state included).
  assert.equal(tensorStats().compiles - before, 1);
  const predicted = (await net.forward(X).argmax(1).array()) as number[];
  const accuracy = predicted.filter((p, i) => p === labels[i]).length / labels.length;
  assert.ok(accuracy >= 0.95, `accuracy ${accuracy}`);
});
