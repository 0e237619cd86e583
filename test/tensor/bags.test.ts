// nn.EmbeddingBag (mean/sum of rows, padding excluded) against hand-computed values and finite differences; nn.init.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromArray, Generator, nn, tensor, type Tensor } from '../../src/tensor/index.js';
import { assertClose } from './grad-check.js';

const ids = (rows: number[][]) => tensor(rows, { dtype: 'int64' });
const rowsOf = async (t: Tensor) => (await t.array()) as number[][];

test('EmbeddingBag means (or sums) the rows of each bag, leaving out padding; an all-padding bag is zeros', async () => {
  const bag = new nn.EmbeddingBag(5, 3, { paddingIdx: 0, generator: new Generator(3) });
  const w = await rowsOf(bag.weight);
  const mean = (...r: number[]) => w[0].map((_, d) => r.reduce((s, k) => s + w[k][d], 0) / r.length);
  const input = ids([[2, 4, 0, 0], [1, 1, 3, 0], [0, 0, 0, 0]]);
  assertClose(await bag.forward(input).array(), [mean(2, 4), mean(1, 1, 3), [0, 0, 0]], 1e-6);
  const sum = new nn.EmbeddingBag(5, 3, { mode: 'sum', paddingIdx: 0 });
  const ws = await rowsOf(sum.weight);
  assertClose(await sum.forward(ids([[2, 0, 3]])).array(), [ws[2].map((v, d) => v + ws[3][d])], 1e-6);
  // Without paddingIdx every id counts, 0 included.
  const plain = new nn.EmbeddingBag(5, 3, { generator: new Generator(3) });
  assertClose(await plain.forward(ids([[2, 0]])).array(), [mean(2, 0)], 1e-6);
  assert.throws(() => bag.forward(ids([[1, 2]]).reshape(2)), /ids \[bags, length\]/);
  assert.throws(() => new nn.EmbeddingBag(5, 3, { paddingIdx: 5 }), /paddingIdx must be an id in \[0, 5\)/);
});

test('EmbeddingBag\'s weight gradient matches central differences, and the padding row gets none', async () => {
  const bag = new nn.EmbeddingBag(5, 3, { paddingIdx: 0, generator: new Generator(4) });
  const input = ids([[2, 4, 2, 0], [1, 3, 0, 0], [0, 0, 0, 0]]);
  const r = tensor([[0.5, -1, 2], [1.5, 0.25, -0.75], [3, 3, 3]]);
  const w0 = Float32Array.from((await bag.weight.data()) as Float32Array);
  bag.forward(input).mul(r).sum().backward();
  const analytic = (await bag.weight.grad.data()) as Float32Array;
  const lossAt = async (values: Float32Array) => {
    bag.loadStateDict({ weight: fromArray(values, [5, 3]) });
    return bag.forward(input).mul(r).sum().item();
  };
  const eps = 1e-2;
  for (let j = 0; j < w0.length; j++) {
    const plus = w0.slice();
    const minus = w0.slice();
    plus[j] += eps;
    minus[j] -= eps;
    const numeric = ((await lossAt(plus)) - (await lossAt(minus))) / (2 * eps);
    assert.ok(Math.abs(numeric - analytic[j]) < 2e-2 * Math.max(1, Math.abs(numeric)), `weight[${j}]: analytic ${analytic[j]} vs numeric ${numeric}`);
  }
  // Row 2 is in bag 0 twice out of 3 tokens: 2/3 of r[0]; row 0 (padding) gets nothing.
  assertClose(Array.from(analytic.slice(6, 9)), [0.5, -1, 2].map((v) => (2 / 3) * v), 1e-5);
  assertClose(Array.from(analytic.slice(0, 3)), [0, 0, 0], 0);
});

test('nn.init fills leaf tensors in place from a seeded generator and keeps them trainable', async () => {
  const a = new nn.Linear(4, 3);
  const b = new nn.Linear(4, 3);
  nn.init.uniform_(a.weight, -0.25, 0.25, { generator: new Generator(9) });
  nn.init.uniform_(b.weight, -0.25, 0.25, { generator: new Generator(9) });
  const wa = (await a.weight.data()) as Float32Array;
  assert.deepEqual(wa, await b.weight.data());
  assert.ok(wa.every((v) => v >= -0.25 && v < 0.25));
  assert.ok(a.weight.requiresGrad);
  a.forward(tensor([[1, 2, 3, 4]])).sum().backward();
  assertClose(await a.weight.grad.array(), [[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4]], 1e-6);
  const big = new nn.Parameter(tensor(new Array(20000).fill(0)));
  const v = (await nn.init.normal_(big, 2, 0.5, { generator: new Generator(1) }).data()) as Float32Array;
  const m = v.reduce((s, x) => s + x, 0) / v.length;
  const sd = Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / v.length);
  assert.ok(Math.abs(m - 2) < 0.02 && Math.abs(sd - 0.5) < 0.02, `mean ${m}, std ${sd}`);
  assert.deepEqual(await nn.init.constant_(tensor([1, 2]), 7).array(), [7, 7]);
  assert.deepEqual(await nn.init.zeros_(tensor([1, 2])).array(), [0, 0]);
  assert.throws(() => nn.init.zeros_(tensor([1, 2]).add(1)), /needs a leaf tensor/);
  assert.throws(() => nn.init.zeros_(tensor([1, 2], { dtype: 'int64' })), /needs a float32 tensor/);
});
