// toString prints like PyTorch's repr once a tensor is realised.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arange, tensor } from '../../src/tensor/index.js';

test('realised tensors print as torch does', async () => {
  assert.equal(String(tensor([[1, 2], [3, 4]])), 'tensor([[1., 2.],\n        [3., 4.]])');
  assert.equal(String(tensor([0.1, 2.5])), 'tensor([0.1000, 2.5000])');
  assert.equal(String(tensor([1.5, -10.25])), 'tensor([  1.5000, -10.2500])');
  assert.equal(String(tensor([1, 2], { dtype: 'int64' })), 'tensor([1, 2])');
  assert.equal(String(tensor([true, false])), 'tensor([ True, False])');
  assert.equal(String(tensor(54)), 'tensor(54.)');
  assert.equal(String(tensor([1e-5, 1])), 'tensor([1.0000e-05, 1.0000e+00])');
  assert.equal(String(tensor([1, 2], { requiresGrad: true })), 'tensor([1., 2.], requires_grad=True)');
  const cube = await arange(8).reshape(2, 2, 2).realize();
  assert.equal(String(cube), 'tensor([[[0., 1.],\n         [2., 3.]],\n\n        [[4., 5.],\n         [6., 7.]]])');
});

test('a pending tensor says so, with its shape', () => {
  assert.equal(String(tensor([1, 2]).mul(2)), 'tensor(<pending>, shape=[2], dtype=float32)');
});
