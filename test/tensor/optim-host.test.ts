// The optimizers' host update: torch's rules where a parameter joins late, values recorded before a step, no recompiles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, nn, optim, tensorStats } from '../../src/tensor/index.js';
import { assertClose } from './grad-check.js';

test('SGD momentum: a parameter whose first gradient comes at step 2 starts its buffer from that gradient (torch)', async () => {
  const a = new nn.Parameter(tensor([1]));
  const b = new nn.Parameter(tensor([1]));
  const opt = new optim.SGD([a, b], { lr: 0.1, momentum: 0.9, dampening: 0.5 });
  a.mul(2).sum().backward();
  await opt.step();
  opt.zeroGrad();
  a.mul(2).add(b.mul(4)).sum().backward();
  await opt.step();
  // a: buf 2 then 0.9·2 + 0.5·2 = 2.8; b: first gradient 4 is its buffer (dampening not applied), one step of 0.1·4.
  assertClose(await a.item(), 1 - 0.2 - 0.28);
  assertClose(await b.item(), 1 - 0.4);
});

test('a tensor recorded from a parameter before step() reads the value from before the update', async () => {
  const w = new nn.Parameter(tensor([[1, 2]]));
  const opt = new optim.Adam([w], { lr: 0.5 });
  const before = w.mul(1);
  w.sum().backward();
  await opt.step();
  assert.deepEqual(await before.array(), [[1, 2]]);
  // Adam's first step moves every element by lr (m̂/√v̂ = 1 for a constant gradient).
  assertClose(await w.array(), [[0.5, 1.5]]);
});

test('changing the learning rate between steps does not recompile, and the new rate applies', async () => {
  const w = new nn.Parameter(tensor([0, 0]));
  const opt = new optim.SGD([w], { lr: 1 });
  const x = tensor([1, -1]);
  const compiles = tensorStats().compiles;
  for (const lr of [1, 0.5, 0.25]) {
    opt.lr = lr;
    opt.zeroGrad();
    w.mul(x).sum().backward();
    await opt.step();
  }
  assert.equal(tensorStats().compiles - compiles, 1);
  assertClose(await w.array(), [-1.75, 1.75]);
});
