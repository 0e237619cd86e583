// Tensor ops forward against hand-computed values: arithmetic, broadcasting, reductions, shapes, indexing, activations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arange, cat, eye, full, linspace, ones, stack, tensor, where, zeros } from '../../src/tensor/index.js';
import { assertClose } from './grad-check.js';

const m = () => tensor([[1, 2, 3], [4, 5, 6]]);

test('creation: tensor dtypes, zeros/ones/full, arange, linspace, eye', async () => {
  assert.equal(tensor([1, 2]).dtype, 'float32');
  assert.equal(tensor([1, 2], { dtype: 'int64' }).dtype, 'int64');
  assert.equal(tensor([true, false]).dtype, 'bool');
  assert.deepEqual(tensor(5).shape, []);
  assert.deepEqual(await zeros([2, 2]).array(), [[0, 0], [0, 0]]);
  assert.deepEqual(await ones([3]).array(), [1, 1, 1]);
  assert.deepEqual(await full([2], 7).array(), [7, 7]);
  assert.deepEqual(await arange(4).array(), [0, 1, 2, 3]);
  assert.deepEqual(await arange(1, 2, 0.25).array(), [1, 1.25, 1.5, 1.75]);
  assert.deepEqual(await linspace(0, 1, 5).array(), [0, 0.25, 0.5, 0.75, 1]);
  assert.deepEqual(await eye(2, 3).array(), [[1, 0, 0], [0, 1, 0]]);
  assert.throws(() => tensor([[1, 2], [3]]), /ragged/);
});

test('arithmetic with broadcasting and numbers', async () => {
  const x = m();
  const row = tensor([10, 20, 30]);
  const col = tensor([[1], [2]]);
  assert.deepEqual(await x.add(row).array(), [[11, 22, 33], [14, 25, 36]]);
  assert.deepEqual(await x.sub(col).array(), [[0, 1, 2], [2, 3, 4]]);
  assert.deepEqual(await x.mul(2).array(), [[2, 4, 6], [8, 10, 12]]);
  assertClose(await x.div(col).array(), [[1, 2, 3], [2, 2.5, 3]]);
  assert.deepEqual(await x.pow(2).array(), [[1, 4, 9], [16, 25, 36]]);
  assert.deepEqual(await x.neg().abs().array(), [[1, 2, 3], [4, 5, 6]]);
  assertClose(await tensor([1, 4]).sqrt().array(), [1, 2]);
  assertClose(await tensor([0, 1]).exp().array(), [1, Math.E]);
  assertClose(await tensor([1, Math.E]).log().array(), [0, 1]);
  assert.deepEqual(await tensor([-2, 0.5, 3]).clamp(-1, 1).array(), [-1, 0.5, 1]);
  // int64 stays int64 with integers, becomes float32 with fractions and for division.
  const ints = tensor([1, 2], { dtype: 'int64' });
  assert.equal(ints.add(1).dtype, 'int64');
  assert.equal(ints.add(0.5).dtype, 'float32');
  assert.deepEqual(await ints.div(2).array(), [0.5, 1]);
});

test('incompatible broadcasting is a clear error naming both shapes', () => {
  assert.throws(() => m().add(tensor([1, 2])), /add: shapes \[2, 3\] and \[2\] cannot be broadcast together/);
  assert.throws(() => m().matmul(m()), /matmul: shapes \[2, 3\] and \[2, 3\] do not match/);
});

test('comparisons, masks and where', async () => {
  const x = tensor([1, 2, 3]);
  assert.deepEqual(await x.gt(1).array(), [0, 1, 1]);
  assert.deepEqual(await x.le(2).array(), [1, 1, 0]);
  assert.deepEqual(await x.eq(tensor([1, 0, 3])).array(), [1, 0, 1]);
  assert.equal(await x.gt(2).sum().item(), 1);
  assert.deepEqual(await x.ne(2).array(), [1, 0, 1]);
  assert.deepEqual(await x.ge(2).logicalAnd(x.lt(3)).array(), [0, 1, 0]);
  assert.deepEqual(await where(x.gt(1), x, 0).array(), [0, 2, 3]);
  assert.deepEqual(await x.maskedFill(x.eq(2), -1).array(), [1, -1, 3]);
});

test('matmul, mm, bmm (with 1-D operands as torch)', async () => {
  const a = m();
  const b = tensor([[1, 0], [0, 1], [1, 1]]);
  assert.deepEqual(await a.mm(b).array(), [[4, 5], [10, 11]]);
  assert.deepEqual(await a.matmul(tensor([1, 1, 1])).array(), [6, 15]);
  assert.equal(await tensor([1, 2]).matmul(tensor([3, 4])).item(), 11);
  const batch = stack([a, a.mul(2)]);
  assert.deepEqual(await batch.bmm(stack([b, b])).array(), [[[4, 5], [10, 11]], [[8, 10], [20, 22]]]);
  assert.throws(() => a.mm(tensor([1, 2, 3])), /mm: both operands must be 2-D/);
});

test('reductions with dim, keepdim and negative dims', async () => {
  const x = m();
  assert.equal(await x.sum().item(), 21);
  assert.deepEqual(await x.sum(0).array(), [5, 7, 9]);
  assert.deepEqual(await x.sum(-1, true).array(), [[6], [15]]);
  assert.deepEqual(await x.mean(1).array(), [2, 5]);
  assert.deepEqual(await x.max(0).array(), [4, 5, 6]);
  assert.deepEqual(await x.min(1, true).array(), [[1], [4]]);
  assert.deepEqual(await tensor([[3, 9, 1], [7, 2, 8]]).argmax(1).array(), [1, 2]);
  assert.deepEqual(await tensor([[3, 9, 1], [7, 2, 8]]).argmin(0).array(), [0, 1, 0]);
  assert.equal(await tensor([[3, 9, 1], [7, 2, 8]]).argmax().item(), 1);
  assertClose(await x.var(1).array(), [1, 1]);
  assertClose(await tensor([1, 2, 3, 4]).var(0, false, { correction: 0 }).item(), 1.25);
  assertClose(await tensor([2, 4, 4, 4, 5, 5, 7, 9]).std().item(), Math.sqrt(32 / 7));
  assertClose(await tensor([[1, 2], [3, 4]]).logsumexp(1).array(), [Math.log(Math.E + Math.E ** 2), Math.log(Math.E ** 3 + Math.E ** 4)]);
  assertClose(await tensor([1000, 1000]).logsumexp(0).item(), 1000 + Math.log(2), 1e-6);
  assert.throws(() => x.sum(2), /dimension 2 is out of range for a tensor of rank 2/);
});

test('softmax, logSoftmax and activations', async () => {
  const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
  const z = e[0] + e[1] + e[2];
  assertClose(await tensor([1, 2, 3]).softmax(0).array(), e.map((v) => v / z));
  assertClose(await tensor([[1, 2, 3]]).logSoftmax(-1).array(), [e.map((v) => Math.log(v / z))]);
  assert.deepEqual(await tensor([-1, 2]).relu().array(), [0, 2]);
  assertClose(await tensor([0, 1]).tanh().array(), [0, Math.tanh(1)]);
  assertClose(await tensor([0]).sigmoid().array(), [0.5]);
  assertClose(await tensor([1, -1]).gelu().array(), [0.8413447, -0.1586553]);
});

test('shapes: reshape/view, permute, transpose, T, squeeze/unsqueeze, flatten, expand', async () => {
  const x = m();
  assert.deepEqual(await x.reshape(3, 2).array(), [[1, 2], [3, 4], [5, 6]]);
  assert.deepEqual(x.view(-1).shape, [6]);
  assert.deepEqual(await x.T.array(), [[1, 4], [2, 5], [3, 6]]);
  assert.deepEqual(await x.transpose(0, 1).array(), [[1, 4], [2, 5], [3, 6]]);
  const t3 = arange(24).reshape([2, 3, 4]);
  assert.deepEqual(t3.permute(2, 0, 1).shape, [4, 2, 3]);
  assert.equal(await t3.permute(2, 0, 1).at(1).at(1).at(2).item(), 21);
  assert.deepEqual(x.unsqueeze(0).shape, [1, 2, 3]);
  assert.deepEqual(x.unsqueeze(-1).shape, [2, 3, 1]);
  assert.deepEqual(x.unsqueeze(0).squeeze().shape, [2, 3]);
  assert.deepEqual(x.squeeze(0).shape, [2, 3]);
  assert.deepEqual(t3.flatten(1).shape, [2, 12]);
  assert.deepEqual(await tensor([[1], [2]]).expand(2, 3).array(), [[1, 1, 1], [2, 2, 2]]);
  assert.throws(() => x.reshape(4, 2), /shape \[4, 2\] is invalid for a tensor of shape \[2, 3\]/);
});

test('cat, stack, split, chunk', async () => {
  const a = tensor([[1, 2]]);
  const b = tensor([[3, 4]]);
  assert.deepEqual(await cat([a, b]).array(), [[1, 2], [3, 4]]);
  assert.deepEqual(await cat([a, b], 1).array(), [[1, 2, 3, 4]]);
  assert.deepEqual(await stack([tensor([1, 2]), tensor([3, 4])], 1).array(), [[1, 3], [2, 4]]);
  const parts = arange(5).split(2);
  assert.deepEqual(await Promise.all(parts.map((p) => p.array())), [[0, 1], [2, 3], [4]]);
  const sized = arange(5).split([1, 4]);
  assert.deepEqual(await sized[1].array(), [1, 2, 3, 4]);
  assert.deepEqual((arange(6).chunk(3)).map((p) => p.shape), [[2], [2], [2]]);
  assert.throws(() => cat([a, tensor([[1, 2, 3]])]), /cat: shapes \[1, 2\], \[1, 3\] differ outside dimension 0/);
});

test('indexing: at, slice (ranges, steps, indices), gather, indexSelect', async () => {
  const x = arange(12).reshape(3, 4);
  assert.deepEqual(await x.at(1).array(), [4, 5, 6, 7]);
  assert.deepEqual(await x.at(-1).array(), [8, 9, 10, 11]);
  assert.deepEqual(await arange(24).reshape(2, 3, 4).slice([0, 2], null, -1).array(), [[3, 7, 11], [15, 19, 23]]);
  assert.deepEqual(await x.slice([0, 2], -1).array(), [3, 7]);
  assert.deepEqual(await x.slice(null, [1, null, 2]).array(), [[1, 3], [5, 7], [9, 11]]);
  assert.deepEqual(await x.slice([null, null, -1], 0).array(), [8, 4, 0]);
  assert.deepEqual(await x.slice([-2]).array(), [[4, 5, 6, 7], [8, 9, 10, 11]]);
  assert.deepEqual(x.slice([5, 9]).shape, [0, 4]);
  const idx = tensor([[0, 3], [1, 1], [2, 0]], { dtype: 'int64' });
  assert.deepEqual(await x.gather(1, idx).array(), [[0, 3], [5, 5], [10, 8]]);
  assert.deepEqual(await x.indexSelect(0, tensor([2, 0], { dtype: 'int64' })).array(), [[8, 9, 10, 11], [0, 1, 2, 3]]);
  assert.throws(() => x.at(3), /index 3 is out of range for dimension 0 of size 3/);
  const z = tensor([[0, 0, 0], [0, 0, 0]]);
  const where3 = tensor([[2, 0], [1, 1]], { dtype: 'int64' });
  assert.deepEqual(await z.scatter(1, where3, tensor([[5, 6], [7, 8]])).array(), [[6, 0, 5], [0, 8, 0]]);
  assert.deepEqual(await z.scatterAdd(1, where3, tensor([[5, 6], [7, 8]])).array(), [[6, 0, 5], [0, 15, 0]]);
  assert.deepEqual(await z.scatter(0, tensor([[1, 0, 1]], { dtype: 'int64' }), 9).array(), [[0, 9, 0], [9, 0, 9]]);
  // Index values are only known when the graph runs: the error comes from the await, as a GeulError.
  await assert.rejects(x.indexSelect(0, tensor([7], { dtype: 'int64' })).array(), /computing the tensors failed/);
});

test('int64 values beyond 2^53 are an error unless bigint is asked', async () => {
  const big = tensor([2n ** 60n]);
  await assert.rejects(big.array(), /beyond 2\^53/);
  assert.deepEqual(await big.array({ bigint: true }), [2n ** 60n]);
});
