// Gradients of every differentiable tensor op against central finite differences (float32, test/tensor/grad-check.ts).
import { test } from 'node:test';
import { tensor, cat, stack, where } from '../../src/tensor/index.js';
import { gradCheck } from './grad-check.js';

const positive = { map: (v: number) => Math.abs(v) + 0.5 };

test('elementwise arithmetic with broadcasting', async () => {
  await gradCheck([[2, 3], [3]], (a, b) => a.add(b));
  await gradCheck([[2, 3], [2, 1]], (a, b) => a.sub(b));
  await gradCheck([[2, 3], [1, 3]], (a, b) => a.mul(b));
  await gradCheck([[2, 3], [3]], (a, b) => a.div(b), positive);
  await gradCheck([[2, 2]], (a) => a.pow(3));
  await gradCheck([[2, 2], [2, 2]], (a, b) => a.pow(b), positive);
  await gradCheck([[4]], (a) => a.mul(2).sub(1).div(3).neg());
});

test('unary functions and activations', async () => {
  await gradCheck([[5]], (a) => a.exp());
  await gradCheck([[5]], (a) => a.log(), positive);
  await gradCheck([[5]], (a) => a.sqrt(), positive);
  await gradCheck([[5]], (a) => a.abs());
  await gradCheck([[5]], (a) => a.relu());
  await gradCheck([[5]], (a) => a.tanh());
  await gradCheck([[5]], (a) => a.sigmoid());
  await gradCheck([[5]], (a) => a.gelu());
  await gradCheck([[6]], (a) => a.clamp(-0.5, 0.5));
});

test('matmul, mm, bmm (1-D operands included)', async () => {
  await gradCheck([[2, 3], [3, 2]], (a, b) => a.matmul(b));
  await gradCheck([[3], [3, 2]], (a, b) => a.matmul(b));
  await gradCheck([[2, 3], [3]], (a, b) => a.matmul(b));
  await gradCheck([[2, 2, 3], [2, 3, 2]], (a, b) => a.bmm(b));
  await gradCheck([[2, 2, 3], [3, 2]], (a, b) => a.matmul(b));
});

test('reductions with dim and keepdim', async () => {
  await gradCheck([[2, 3]], (a) => a.sum());
  await gradCheck([[2, 3]], (a) => a.sum(-1, true));
  await gradCheck([[2, 3, 2]], (a) => a.mean([0, 2]));
  await gradCheck([[2, 3]], (a) => a.max(1));
  await gradCheck([[2, 3]], (a) => a.min(0, true));
  await gradCheck([[2, 4]], (a) => a.var(1));
  await gradCheck([[2, 4]], (a) => a.std(0));
  await gradCheck([[2, 3]], (a) => a.logsumexp(1));
  await gradCheck([[2, 3]], (a) => a.softmax(1));
  await gradCheck([[2, 3]], (a) => a.logSoftmax(0));
});

test('shape ops and indexing', async () => {
  await gradCheck([[2, 3]], (a) => a.reshape(3, 2));
  await gradCheck([[2, 3, 2]], (a) => a.permute(2, 0, 1));
  await gradCheck([[2, 3]], (a) => a.T);
  await gradCheck([[2, 1, 3]], (a) => a.squeeze(1).unsqueeze(0));
  await gradCheck([[2, 1]], (a) => a.expand(2, 3));
  await gradCheck([[2, 3], [1, 3]], (a, b) => cat([a, b], 0));
  await gradCheck([[2], [2]], (a, b) => stack([a, b], 1));
  await gradCheck([[5]], (a) => { const [x, y] = a.split([2, 3]); return x.sum().mul(y.sum()); });
  await gradCheck([[3, 4]], (a) => a.at(-1));
  await gradCheck([[3, 4]], (a) => a.slice([0, 3, 2], [null, null, -1]));
  await gradCheck([[3, 4]], (a) => a.slice(null, 1));
  const idx = tensor([[0, 0], [2, 1], [1, 1]], { dtype: 'int64' });
  await gradCheck([[3, 2]], (a) => a.gather(0, idx));
  await gradCheck([[3, 2]], (a) => a.gather(1, tensor([[1], [0], [1]], { dtype: 'int64' })));
  const cols = tensor([[2, 0], [1, 1]], { dtype: 'int64' });
  await gradCheck([[2, 3], [2, 2]], (a, u) => a.scatter(1, tensor([[2, 0], [1, 0]], { dtype: 'int64' }), u));
  await gradCheck([[2, 3], [2, 2]], (a, u) => a.scatterAdd(1, cols, u));
  const rows = tensor([2, 0, 2], { dtype: 'int64' });
  await gradCheck([[3, 2]], (a) => a.indexSelect(0, rows));
});

test('where and masks pass gradients to the chosen side', async () => {
  const mask = tensor([true, false, true, false]);
  await gradCheck([[4], [4]], (a, b) => where(mask, a, b));
  await gradCheck([[4]], (a) => a.maskedFill(mask, 0));
});
