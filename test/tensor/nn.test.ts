// nn modules (parameter discovery, state dicts, safetensors), layers, losses and optimizers against hand-computed values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Generator, tensor, nn, optim, type Tensor } from '../../src/tensor/index.js';
import { assertClose } from './grad-check.js';

class Net extends nn.Module {
  encoder = new nn.Linear(3, 4);
  blocks = [new nn.LayerNorm(4), new nn.Linear(4, 2, { bias: false })];
  scale = new nn.Parameter(tensor([1]));
  forward(x: Tensor): Tensor {
    return this.blocks[1].forward(this.blocks[0].forward(this.encoder.forward(x).relu())).mul(this.scale);
  }
}

const values = async (t: Tensor) => (await t.array()) as number[][];

test('a Module finds parameters and sub-modules assigned to its fields', () => {
  const net = new Net();
  assert.deepEqual([...net.namedParameters()].map(([n, p]) => `${n}:${p.shape.join('x')}`), [
    'scale:1', 'encoder.weight:4x3', 'encoder.bias:4', 'blocks.0.weight:4', 'blocks.0.bias:4', 'blocks.1.weight:2x4',
  ]);
  const seq = new nn.Sequential(new nn.Linear(2, 3), new nn.ReLU(), new nn.Linear(3, 1));
  assert.deepEqual([...seq.namedParameters()].map(([n]) => n), ['0.weight', '0.bias', '2.weight', '2.bias']);
  assert.equal(seq.parameters().length, 4);
  // Tied weights are one parameter (the optimizer must not update them twice).
  const tied = new nn.Sequential(new nn.Linear(2, 2), new nn.Linear(2, 2));
  Object.defineProperty(tied, 'shared', { value: (tied.get(0) as nn.Linear).weight, enumerable: true });
  assert.deepEqual([...tied.namedParameters()].map(([n]) => n), ['shared', '0.bias', '1.weight', '1.bias']);
});

test('stateDict, loadStateDict and safetensors save/load round-trip', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'geul-tensor-'));
  try {
    const a = new Net();
    const b = new Net();
    const x = tensor([[1, -2, 3]]);
    assert.notDeepEqual(await values(a.forward(x)), await values(b.forward(x)));
    a.save(join(dir, 'net.safetensors'));
    b.load(join(dir, 'net.safetensors'));
    assert.deepEqual(await values(b.forward(x)), await values(a.forward(x)));
    const c = new Net();
    c.loadStateDict(a.stateDict());
    assert.deepEqual(await values(c.forward(x)), await values(a.forward(x)));
    const state = a.stateDict();
    state.set('encoder.bias', tensor([1, 2]));
    assert.throws(() => c.loadStateDict(state), /encoder.bias has shape \[2\], the model needs \[4\]/);
    state.delete('scale');
    assert.throws(() => c.loadStateDict(state), /missing scale/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Linear, Embedding and LayerNorm compute what their definitions say', async () => {
  const lin = new nn.Linear(2, 2);
  const w = await values(lin.weight);
  const b = (await (lin.bias as Tensor).array()) as number[];
  for (const row of w) for (const v of row) assert.ok(Math.abs(v) <= 1 / Math.sqrt(2));
  const x = [[1, 2]];
  assertClose(await values(lin.forward(tensor(x))), [[w[0][0] + 2 * w[0][1] + b[0], w[1][0] + 2 * w[1][1] + b[1]]]);
  const emb = new nn.Embedding(5, 3, { generator: new Generator(1) });
  const table = await values(emb.weight);
  assert.deepEqual(await emb.forward(tensor([[4, 0]], { dtype: 'int64' })).array(), [[table[4], table[0]]]);
  const ln = new nn.LayerNorm(4);
  const out = (await values(ln.forward(tensor([[1, 2, 3, 4]]))))[0];
  const sd = Math.sqrt(1.25 + 1e-5);
  assertClose(out, [-1.5 / sd, -0.5 / sd, 0.5 / sd, 1.5 / sd], 1e-5);
});

test('Linear\'s fused Gemm has the gradients of x·Wᵀ + b', async () => {
  const lin = new nn.Linear(3, 2, { generator: new Generator(2) });
  const x = tensor([[1, -2, 0.5], [0.3, 0.1, -1]], { requiresGrad: true });
  const r = tensor([[1, 2], [-1, 0.5]]);
  lin.forward(x).mul(r).sum().backward();
  const fused = [await x.grad.array(), await lin.weight.grad.array(), await (lin.bias as Tensor).grad.array()];
  x.grad = null;
  lin.zeroGrad();
  x.matmul(lin.weight.T).add(lin.bias as Tensor).mul(r).sum().backward();
  assertClose(fused, [await x.grad.array(), await lin.weight.grad.array(), await (lin.bias as Tensor).grad.array()]);
  // 3-D inputs take the matmul path.
  assert.deepEqual(lin.forward(tensor([[[1, 2, 3]]])).shape, [1, 1, 2]);
});

test('Dropout drops with probability p while training and is the identity in eval mode', async () => {
  const drop = new nn.Dropout(0.25, new Generator(9));
  const x = tensor(new Array(4000).fill(1));
  const kept = ((await drop.forward(x).array()) as number[]);
  const zeros = kept.filter((v) => v === 0).length / kept.length;
  assert.ok(Math.abs(zeros - 0.25) < 0.03, `dropped ${zeros}`);
  assert.ok(kept.every((v) => v === 0 || Math.abs(v - 4 / 3) < 1e-6));
  drop.eval();
  assert.equal(drop.forward(x), x);
});

test('losses: crossEntropy (indices, float indices, probabilities), nll, mse, bce, bceWithLogits', async () => {
  const logits = tensor([[2, 0], [0, 3]]);
  const ce = (Math.log(1 + Math.exp(-2)) + Math.log(1 + Math.exp(3))) / 2;
  assertClose(await nn.crossEntropy(logits, tensor([0, 0], { dtype: 'int64' })).item(), ce);
  assertClose(await nn.crossEntropy(logits, tensor([0, 0])).item(), ce);
  assertClose(await nn.crossEntropy(logits, tensor([[1, 0], [1, 0]])).item(), ce);
  assertClose(await nn.nll(logits.logSoftmax(1), tensor([0, 0], { dtype: 'int64' })).item(), ce);
  assertClose(await nn.mse(tensor([1, 2]), tensor([0, 4])).item(), 2.5);
  const p = [0.8, 0.3];
  const bce = -(Math.log(0.8) + Math.log(0.7)) / 2;
  assertClose(await nn.bce(tensor(p), tensor([1, 0])).item(), bce);
  assertClose(await nn.bceWithLogits(tensor(p.map((v) => Math.log(v / (1 - v)))), tensor([1, 0])).item(), bce);
  assert.throws(() => nn.crossEntropy(logits, tensor([0, 1, 1], { dtype: 'int64' })), /needs input \[batch, classes\] and class indices \[batch\]/);
});

/** A one-parameter model whose gradient is the constant c: loss = c·w. */
function linearLoss(w: Tensor, c: number): Tensor {
  return w.mul(c).sum();
}

test('SGD with momentum and Nesterov follow torch\'s update rule', async () => {
  const w = new nn.Parameter(tensor([1]));
  const opt = new optim.SGD([w], { lr: 0.1, momentum: 0.9, dampening: 0.5 });
  for (let i = 0; i < 2; i++) {
    opt.zeroGrad();
    linearLoss(w, 2).backward();
    await opt.step();
  }
  // buf1 = g = 2 (the first step ignores dampening), buf2 = 0.9·2 + 0.5·2 = 2.8; w = 1 - 0.1·2 - 0.1·2.8.
  assertClose(await w.item(), 1 - 0.2 - 0.28);
  const v = new nn.Parameter(tensor([1]));
  const nesterov = new optim.SGD([v], { lr: 0.1, momentum: 0.5, nesterov: true, weightDecay: 1 });
  linearLoss(v, 2).backward();
  await nesterov.step();
  // g = 2 + 1·1 = 3, buf = 3, step = g + 0.5·buf = 4.5.
  assertClose(await v.item(), 1 - 0.45);
});

test('Adam and AdamW: bias-corrected moments, L2 vs decoupled decay', async () => {
  const grads = [2, -1];
  const run = async (make: (p: Tensor[]) => optim.Optimizer) => {
    const w = new nn.Parameter(tensor([1]));
    const opt = make([w]);
    for (const g of grads) {
      opt.zeroGrad();
      linearLoss(w, g).backward();
      await opt.step();
    }
    return w.item();
  };
  const adam = (lr: number, wd: number, decoupled: boolean) => {
    let w = 1;
    let m = 0;
    let v = 0;
    grads.forEach((g0, i) => {
      const t = i + 1;
      if (decoupled) w *= 1 - lr * wd;
      const g = decoupled ? g0 : g0 + wd * w;
      m = 0.9 * m + 0.1 * g;
      v = 0.999 * v + 0.001 * g * g;
      w -= (lr / (1 - 0.9 ** t)) * m / (Math.sqrt(v) / Math.sqrt(1 - 0.999 ** t) + 1e-8);
    });
    return w;
  };
  assertClose(await run((p) => new optim.Adam(p, { lr: 0.1 })), adam(0.1, 0, false));
  assertClose(await run((p) => new optim.Adam(p, { lr: 0.1, weightDecay: 0.5 })), adam(0.1, 0.5, false));
  assertClose(await run((p) => new optim.AdamW(p, { lr: 0.1, weightDecay: 0.5 })), adam(0.1, 0.5, true));
});

test('StepLR multiplies the learning rate every stepSize epochs', () => {
  const opt = new optim.SGD([new nn.Parameter(tensor([1]))], { lr: 1 });
  const sched = new optim.StepLR(opt, 2, 0.5);
  const lrs: number[] = [];
  for (let i = 0; i < 5; i++) {
    sched.step();
    lrs.push(sched.lastLr);
  }
  assert.deepEqual(lrs, [1, 0.5, 0.5, 0.25, 0.25]);
});
