// The encoder ModelDef on the Trainer: reference AdamW step, MLM loss, gradient accumulation = concatenated batch,
// no-decay groups, frozen parameters left bit-identical, dropout (seeded, off at inference), HF init of new heads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { hfNoDecay, type OptimizerConfig } from '../../../src/train/optim.js';
import { loadPretrainedEncoder } from '../../../src/train/pretrained/load.js';
import { encoderDropout, encoderFrozen, encoderModelDef, encoderValues } from '../../../src/train/pretrained/model-def.js';
import { Trainer, type MicroBatch } from '../../../src/train/trainer.js';
import { sharedDataPath } from '../../helpers/shared-data.js';

type Nested = number | Nested[];
const flat = (x: Nested): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x]);
const ADAMW: OptimizerConfig = { name: 'adamw', lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };

/** The reference batch, rows `rows` only, each cut to the longest of them (dynamic padding). */
function batch(folder: string, rows: number[], withLabels = true): MicroBatch {
  const inputs = JSON.parse(readFileSync(join(folder, 'inputs.json'), 'utf8')) as Record<string, number[][]>;
  const mask = inputs['attention_mask']!;
  const len = Math.max(...rows.map((r) => mask[r]!.reduce((a, b) => a + b, 0)));
  const cut = (key: string) => new ort.Tensor('int64', BigInt64Array.from(rows.flatMap((r) => inputs[key]![r]!.slice(0, len)), BigInt), [rows.length, len]);
  const features: Record<string, ort.Tensor> = { input_ids: cut('input_ids'), attention_mask: cut('attention_mask') };
  if (inputs['token_type_ids']) features['token_type_ids'] = cut('token_type_ids');
  const labels = inputs['labels'] as unknown as Nested[];
  if (!withLabels) return { features, labels: new BigInt64Array(0) };
  const mlm = Array.isArray(labels[0]);
  return { features, labels: mlm ? cut('labels') : BigInt64Array.from(rows.map((r) => BigInt(labels[r] as number))) };
}

async function trainerFor(folder: string, optimizer: OptimizerConfig, options: Parameters<typeof Trainer.create>[2] = {}, dropout = false) {
  const base = loadPretrainedEncoder(folder);
  const raw = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')) as Record<string, unknown>;
  const model = encoderModelDef(base.config, encoderValues(base), { dropout: dropout ? encoderDropout(raw) : undefined, tokenTypes: true });
  return { trainer: await Trainer.create(model, optimizer, { threads: 1, ...options }), model };
}

test('bert-cls through encoderModelDef + Trainer: one AdamW step reproduces torch (dropout 0)', async (t) => {
  const folder = sharedDataPath(t, 'reference-encoders', 'bert-cls');
  if (!folder) return;
  const reference = JSON.parse(readFileSync(join(folder, 'sgd_step.json'), 'utf8')) as { adamw: { params_after: Record<string, Nested>; small_grad_indices?: Record<string, number[]> } };
  const { trainer } = await trainerFor(folder, ADAMW);
  const b = batch(folder, [0, 1, 2]);
  const { loss, logits } = await trainer.step(b.features, b.labels);
  assert.ok(Math.abs(loss - 1.205472) < 1e-5, `loss ${loss}`);
  assert.equal(logits.length, 3 * 3);
  for (const [name, expected] of Object.entries(reference.adamw.params_after)) {
    const got = trainer.state.params.get(name)!;
    const small = new Set(reference.adamw.small_grad_indices?.[name] ?? []);
    flat(expected).forEach((e, i) => assert.ok(Math.abs(got[i]! - e) <= (small.has(i) ? 2e-3 : 2e-6), `${name}[${i}] ${got[i]} vs ${e}`));
  }
  await trainer.release();
});

test('bert-mlm: the masked-LM loss matches torch, logits need not be fetched, the tied decoder is one parameter', async (t) => {
  const folder = sharedDataPath(t, 'reference-encoders', 'bert-mlm');
  if (!folder) return;
  const { trainer, model } = await trainerFor(folder, { name: 'sgd', lr: 0 }, { fetchLogits: false });
  assert.deepEqual(model.newlyInitialized, []);
  assert.ok(!trainer.shapes.has('cls.predictions.decoder.weight'));
  const b = batch(folder, [0, 1, 2]);
  const { loss, logits } = await trainer.step(b.features, b.labels);
  assert.ok(Math.abs(loss - 5.079042) / 5.079042 < 1e-5, `loss ${loss}`);
  assert.equal(logits.length, 0);
  await trainer.release();
});

for (const name of ['bert-cls', 'bert-mlm']) {
  test(`${name}: accumulating micro-batches of different lengths equals one step on their concatenation`, async (t) => {
    const folder = sharedDataPath(t, 'reference-encoders', name);
    if (!folder) return;
    const whole = await trainerFor(folder, { name: 'sgd', lr: 0.5, momentum: 0.9 });
    const split = await trainerFor(folder, { name: 'sgd', lr: 0.5, momentum: 0.9 }, { gradAccum: 2 });
    const parts = [batch(folder, [0, 1]), batch(folder, [2])];
    assert.notEqual(parts[0]!.features['input_ids']!.dims[1], parts[1]!.features['input_ids']!.dims[1]);
    for (let step = 0; step < 2; step++) {
      const a = await whole.trainer.step(batch(folder, [0, 1, 2]).features, batch(folder, [0, 1, 2]).labels);
      const b = await split.trainer.stepAccumulated(parts);
      assert.ok(Math.abs(a.loss - b.loss) < 1e-5 * Math.abs(a.loss), `step ${step} loss ${a.loss} vs ${b.loss}`);
    }
    let largest = 0;
    for (const [param, values] of whole.trainer.state.params) {
      const other = split.trainer.state.params.get(param)!;
      values.forEach((v, i) => (largest = Math.max(largest, Math.abs(v - other[i]!))));
    }
    assert.ok(largest < 2e-6, `largest parameter difference ${largest}`);
    const moved = [...whole.trainer.state.params].some(([param, v]) => v.some((x, i) => x !== encoderValues(loadPretrainedEncoder(folder)).get(param)![i]));
    assert.ok(moved, 'the steps changed the parameters');
    await whole.trainer.release();
    await split.trainer.release();
  });
}

test('no-decay groups: AdamW skips decay exactly for biases and LayerNorm weights', async (t) => {
  const folder = sharedDataPath(t, 'reference-encoders', 'bert-cls');
  if (!folder) return;
  const lr = 1e-3;
  const weightDecay = 0.1;
  const decayAll = await trainerFor(folder, { ...ADAMW, lr, weightDecay });
  const grouped = await trainerFor(folder, { ...ADAMW, lr, weightDecay, noDecay: hfNoDecay });
  const initial = encoderValues(loadPretrainedEncoder(folder));
  const b = batch(folder, [0, 1, 2]);
  await decayAll.trainer.step(b.features, b.labels);
  await grouped.trainer.step(b.features, b.labels);
  let exempt = 0;
  for (const [name, values] of grouped.trainer.state.params) {
    const other = decayAll.trainer.state.params.get(name)!;
    const p0 = initial.get(name)!;
    const skipped = hfNoDecay(name);
    exempt += Number(skipped);
    // Decoupled decay: p ← p·(1 − lr·wd) − step, so the two runs differ by lr·wd·p0 exactly where decay was skipped.
    values.forEach((v, i) => {
      const expected = skipped ? lr * weightDecay * p0[i]! : 0;
      // Each run rounds its parameter to float32 once (half an ulp, 6e-8 near 1), so the difference carries up to two.
      assert.ok(Math.abs(v - other[i]! - expected) < 1e-7 + 2 ** -23 * Math.abs(v), `${name}[${i}]: ${v - other[i]!} vs ${expected}`);
    });
  }
  assert.ok(hfNoDecay('bert.encoder.layer.0.attention.output.LayerNorm.weight') && hfNoDecay('classifier.bias') && !hfNoDecay('classifier.weight'));
  assert.ok(exempt > 10, `${exempt} exempt tensors`);
  await decayAll.trainer.release();
  await grouped.trainer.release();
});

test('frozen embeddings and layer 0 stay bit-identical, carry no optimizer state and are not trainer inputs', async (t) => {
  const folder = sharedDataPath(t, 'reference-encoders', 'bert-cls');
  if (!folder) return;
  const base = loadPretrainedEncoder(folder);
  const frozen = encoderFrozen(base.config, { embeddings: true, layers: 1 });
  const { trainer } = await trainerFor(folder, ADAMW, { frozen, gradAccum: 2 });
  const initial = encoderValues(loadPretrainedEncoder(folder));
  const b = batch(folder, [0, 1, 2]);
  for (let i = 0; i < 3; i++) await trainer.stepAccumulated([b, b]);
  const weights = trainer.weights();
  assert.equal(weights.size, initial.size);
  let frozenCount = 0;
  for (const [name, values] of weights) {
    const same = values.every((v, i) => Object.is(v, initial.get(name)![i]));
    if (frozen(name)) {
      frozenCount++;
      assert.ok(same, `${name} changed`);
      assert.ok(!trainer.state.params.has(name) && !trainer.state.states.has(name), `${name} is in the train state`);
    } else assert.ok(!same || name.includes('pooler'), `${name} did not change`);
  }
  assert.ok(frozenCount >= 4 + 16, `${frozenCount} frozen tensors`);
  assert.ok(frozen('bert.encoder.layer.0.output.dense.weight') && !frozen('bert.encoder.layer.1.output.dense.weight') && frozen('bert.embeddings.LayerNorm.bias'));
  assert.equal(trainer.parameterCount + trainer.frozenParameterCount, [...initial.values()].reduce((n, v) => n + v.length, 0));
  assert.throws(() => encoderFrozen(base.config, { layers: 3 }), /INVALID_INPUT|layers/);
  await trainer.release();
});

test('dropout: seeded per step (same seed, same losses), changes the training loss, and is off for predict', async (t) => {
  const folder = sharedDataPath(t, 'reference-encoders', 'distilbert-cls');
  if (!folder) return;
  const b = batch(folder, [0, 1, 2]);
  const run = async (dropout: boolean, seed: number) => {
    const { trainer } = await trainerFor(folder, { name: 'sgd', lr: 0 }, { seed, dropoutSeed: seed }, dropout);
    const losses = [(await trainer.step(b.features, b.labels)).loss, (await trainer.step(b.features, b.labels)).loss];
    const logits = Array.from(await trainer.predict(b.features));
    await trainer.release();
    return { losses, logits };
  };
  const plain = await run(false, 1);
  const a = await run(true, 1);
  assert.deepEqual(a, await run(true, 1));
  assert.notEqual(a.losses[0], a.losses[1]);
  assert.notEqual(a.losses[0], plain.losses[0]);
  assert.deepEqual(a.logits, plain.logits);
});

test('a head the checkpoint lacks is newly initialised as HF does: normal(0, 0.02) weights, zero biases', async (t) => {
  const folder = sharedDataPath(t, 'reference-encoders', 'bert-mlm');
  if (!folder) return;
  const base = loadPretrainedEncoder(folder, 'sequence-classification');
  const model = encoderModelDef({ ...base.config, numLabels: 4, id2label: ['a', 'b', 'c', 'd'] }, encoderValues(base));
  assert.deepEqual(model.newlyInitialized.filter((n) => n.startsWith('classifier')), ['classifier.weight', 'classifier.bias']);
  const trainer = await Trainer.create(model, { name: 'sgd', lr: 0 }, { seed: 4, threads: 1 });
  const w = trainer.state.params.get('classifier.weight')!;
  assert.equal(w.length, 4 * 48);
  const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
  assert.ok(std > 0.015 && std < 0.025, `std ${std}`);
  assert.ok(trainer.state.params.get('classifier.bias')!.every((v) => v === 0));
  const b = batch(folder, [0, 1, 2], false);
  assert.equal((await trainer.predict(b.features)).length, 3 * 4);
  await trainer.release();
});

test('bert-cls: predictions after steps on two optimizer threads use the moved weights (no detached checkpoint array is read)', async (t) => {
  const folder = sharedDataPath(t, 'reference-encoders', 'bert-cls');
  if (!folder) return;
  // The checkpoint's arrays are adopted as the parameters; the threads move some of them away each step.
  const run = async (optimizerThreads: number) => {
    const { trainer } = await trainerFor(folder, ADAMW, { optimizerThreads });
    try {
      for (let s = 0; s < 2; s++) await trainer.step(batch(folder, [0, 1]).features, batch(folder, [0, 1]).labels as BigInt64Array);
      return await trainer.predict(batch(folder, [0, 1], false).features);
    } finally {
      await trainer.release();
    }
  };
  const one = await run(1);
  const two = await run(2);
  assert.equal(two.length, one.length);
  two.forEach((v, i) => assert.ok(Math.abs(v - one[i]!) < 1e-6, `logit ${i}: ${v} vs ${one[i]}`));
});
