// The trainer: XOR (perceptron fails, MLP solves), optimizers decrease the loss, determinism, export round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { xorDemo } from '../../src/train/xor.js';
import { Trainer } from '../../src/train/trainer.js';
import { mlp } from '../../src/train/models/mlp.js';
import { scheduledLr, type OptimizerConfig } from '../../src/train/optim.js';

test('XOR: a perceptron stays at <= 75 % accuracy, a 2-layer MLP reaches 100 %', async () => {
  const r = await xorDemo();
  assert.ok(r.perceptron.accuracy <= 0.75, `perceptron ${r.perceptron.accuracy}`);
  assert.equal(r.mlp.accuracy, 1);
});

const data = () => {
  const x = new Float32Array(64 * 3);
  const y = new BigInt64Array(64);
  for (let i = 0; i < 64; i++) {
    for (let j = 0; j < 3; j++) x[i * 3 + j] = Math.sin(i * 1.7 + j * 2.3);
    y[i] = x[i * 3] + x[i * 3 + 1] * 0.5 > 0 ? 1n : 0n;
  }
  return { x: new ort.Tensor('float32', x, [64, 3]), y };
};

for (const opt of [
  { name: 'sgd', lr: 0.5 }, { name: 'sgd', lr: 0.2, momentum: 0.9 }, { name: 'adam', lr: 0.02, clipNorm: 1 },
  { name: 'adamw', lr: 0.02, weightDecay: 0.1, schedule: 'cosine', warmup: 5 },
] as OptimizerConfig[]) {
  test(`${opt.name}${opt.momentum ? '+momentum' : ''}${opt.clipNorm ? '+clip' : ''}${opt.schedule ? `+${opt.schedule}` : ''} lowers the loss, deterministically`, async () => {
    const { x, y } = data();
    const run = async () => {
      const t = await Trainer.create(mlp({ features: 3, hidden: [16], classes: 2 }), opt, { seed: 3, totalSteps: 60, threads: 1 });
      const losses: number[] = [];
      for (let i = 0; i < 60; i++) losses.push((await t.step({ x }, y)).loss);
      const weights = Array.from(t.state.params.get('classifier.weight') as Float32Array);
      await t.release();
      return { losses, weights };
    };
    const a = await run();
    assert.ok(a.losses[59] < a.losses[0] * 0.6, `loss ${a.losses[0]} -> ${a.losses[59]}`);
    assert.deepEqual(a, await run());
  });
}

test('schedules: warmup then linear decay and cosine', () => {
  const lin: OptimizerConfig = { name: 'sgd', lr: 1, schedule: 'linear', warmup: 10 };
  assert.equal(scheduledLr(lin, 0, 110), 0.1);
  assert.equal(scheduledLr(lin, 9, 110), 1);
  assert.ok(Math.abs(scheduledLr(lin, 60, 110) - 0.5) < 1e-9);
  assert.ok(Math.abs(scheduledLr({ ...lin, schedule: 'cosine' }, 60, 110) - 0.5) < 1e-9);
  assert.equal(scheduledLr({ name: 'sgd', lr: 0.3 }, 1000, 10), 0.3);
});

test('exported ONNX computes the same logits as the trainer', async () => {
  const { x, y } = data();
  const t = await Trainer.create(mlp({ features: 3, hidden: [4], classes: 2, dropout: 0.2 }), { name: 'adam', lr: 0.01 }, { seed: 5, threads: 1 });
  for (let i = 0; i < 5; i++) await t.step({ x }, y);
  const expected = await t.predict({ x });
  const session = await ort.InferenceSession.create(t.exportOnnx());
  const got = (await session.run({ x })).logits.data as Float32Array;
  assert.deepEqual(Array.from(got), Array.from(expected));
  await session.release();
  await t.release();
});
