// Autograd semantics (accumulation, noGrad, detach, errors) and the lazy runtime (session cache, seeded randomness).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator, manualSeed, noGrad, rand, randint, randn, realize, tensor, tensorStats, nn, optim } from '../../src/tensor/index.js';
import { assertClose, gradCheck } from './grad-check.js';

test('gradients accumulate across backward calls until they are reset', async () => {
  const x = tensor([1, 2, 3], { requiresGrad: true });
  x.mul(x).sum().backward();
  x.mul(3).sum().backward();
  assert.deepEqual(await x.grad.array(), [5, 7, 9]);
  x.grad = null;
  assert.equal(x.gradOrNull, null);
  assert.throws(() => x.grad, /has no gradient/);
  x.sum().backward();
  assert.deepEqual(await x.grad.array(), [1, 1, 1]);
});

test('noGrad and detach cut the graph; integer ops give no gradient', async () => {
  const x = tensor([1, 2], { requiresGrad: true });
  const frozen = noGrad(() => x.mul(2));
  assert.equal(frozen.requiresGrad, false);
  x.mul(frozen).sum().backward();
  assert.deepEqual(await x.grad.array(), [2, 4]);
  const y = tensor([3, 4], { requiresGrad: true });
  y.mul(y.detach()).sum().backward();
  assert.deepEqual(await y.grad.array(), [3, 4]);
  assert.throws(() => x.argmax().float().backward(), /does not require gradients/);
  assert.throws(() => x.gt(1).float().sum().backward(), /does not require gradients/);
  assert.throws(() => tensor([1, 2], { dtype: 'int64', requiresGrad: true }), /only float32 tensors can require gradients/);
});

test('backward on a non-scalar needs a gradient argument', async () => {
  const x = tensor([1, 2], { requiresGrad: true });
  assert.throws(() => x.mul(2).backward(), /shape \[2\] needs a gradient argument/);
  x.mul(x).backward(tensor([1, 10]));
  assert.deepEqual(await x.grad.array(), [2, 40]);
  assert.throws(() => x.mul(2).backward(tensor([1])), /gradient shape \[1\] differs/);
});

test('a realised intermediate still passes gradients to the leaves', async () => {
  const w = tensor([2, 3], { requiresGrad: true });
  const h = w.mul(w);
  assert.deepEqual(await h.array(), [4, 9]);
  h.sum().backward();
  assert.deepEqual(await w.grad.array(), [4, 6]);
});

test('the finite-difference check fails on a wrong gradient', async () => {
  // detach() drops one of the two product terms: backward gives a, the numeric derivative 2a.
  await assert.rejects(gradCheck([[3]], (a) => a.detach().mul(a)), /analytic .* vs numeric/);
});

test('seeded random tensors are reproducible', async () => {
  const a = await randn([4], { generator: new Generator(42) }).array();
  const b = await randn([4], { generator: new Generator(42) }).array();
  const c = await randn([4], { generator: new Generator(43) }).array();
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  manualSeed(7);
  const r1 = [await rand([3]).array(), await randint(0, 10, [5]).array()];
  manualSeed(7);
  assert.deepEqual([await rand([3]).array(), await randint(0, 10, [5]).array()], r1);
  for (const v of r1[1] as number[]) assert.ok(Number.isInteger(v) && v >= 0 && v < 10);
});

test('a training loop compiles once, then only runs', async () => {
  const net = new nn.Linear(3, 1, { generator: new Generator(3) });
  const opt = new optim.SGD(net.parameters(), { lr: 0.1, momentum: 0.9 });
  const x = randn([8, 3], { generator: new Generator(4) });
  const y = x.sum(1, true);
  const before = tensorStats();
  const losses: number[] = [];
  for (let i = 0; i < 20; i++) {
    opt.zeroGrad();
    const loss = nn.mse(net.forward(x), y);
    loss.backward();
    await opt.step();
    losses.push(await loss.item());
  }
  const after = tensorStats();
  assert.equal(after.compiles - before.compiles, 1);
  assert.equal(after.runs - before.runs, 20);
  assert.ok(losses[19] < losses[0] / 10, `loss ${losses[0]} → ${losses[19]}`);
});

test('a loss read after step() has the value from before the update', async () => {
  const w = new nn.Linear(1, 1, { bias: false, generator: new Generator(5) });
  const opt = new optim.SGD(w.parameters(), { lr: 0.5 });
  const x = tensor([[1]]);
  const w0 = ((await w.weight.array()) as number[][])[0][0];
  const loss = w.forward(x).sum();
  loss.backward();
  await opt.step();
  assertClose(await loss.item(), w0);
  assertClose(((await w.weight.array()) as number[][])[0][0], w0 - 0.5);
  // realize() computes several tensors in one run.
  const a = x.mul(2);
  const b = x.add(1);
  const runs = tensorStats().runs;
  await realize([a, b]);
  assert.equal(tensorStats().runs - runs, 1);
  assert.equal(String(a), 'tensor([[2.]])');
});

test('a long chain of ops recorded without reading compiles (no recursion) and differentiates', async () => {
  const x = tensor([1], { requiresGrad: true });
  let y = x;
  for (let i = 0; i < 12000; i++) y = y.add(1);
  assert.equal(await y.item(), 12001);
  let z = x;
  for (let i = 0; i < 300; i++) z = z.mul(1.01);
  z.backward();
  assertClose((await x.grad.array()) as number[], [1.01 ** 300], 1e-4);
});
