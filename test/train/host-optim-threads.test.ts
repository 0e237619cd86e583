// The host optimizer on several threads gives the single-thread result bit for bit (dense and sparse parameters,
// clipping, no-decay parameters, gradient accumulation), and its lanes share the parameters out by size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { Rng } from '../../src/core/random.js';
import { clipScale, globalNorm, hostUpdate } from '../../src/train/host-optim.js';
import { assignLanes, HostOptimizerThreads, type HostStepEntry } from '../../src/train/host-optim-threads.js';
import { bagOfEmbeddings } from '../../src/train/models/text.js';
import { mlp } from '../../src/train/models/mlp.js';
import { hfNoDecay, stepScalars, type OptimizerConfig } from '../../src/train/optim.js';
import { Trainer, type TrainerOptions } from '../../src/train/trainer.js';

const sameBits = (got: Float32Array, want: Float32Array, what: string) => {
  assert.equal(got.length, want.length, what);
  const a = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const b = new Uint32Array(want.buffer, want.byteOffset, want.length);
  const at = a.findIndex((v, i) => v !== b[i]);
  assert.equal(at, -1, `${what}[${at}]: ${got[at]} vs ${want[at]}`);
};

test('assignLanes: largest first onto the least loaded lane, every parameter once', () => {
  const sizes = new Map([['a', 10], ['b', 40], ['c', 30], ['d', 20], ['e', 5]]);
  assert.deepEqual(assignLanes(sizes, 2), [['b', 'a', 'e'], ['c', 'd']]); // 55 and 50
  assert.deepEqual(assignLanes(sizes, 1), [['b', 'c', 'd', 'a', 'e']]);
  assert.deepEqual(assignLanes(sizes, 3).flat().sort(), ['a', 'b', 'c', 'd', 'e']);
});

for (const config of [
  { name: 'adamw', lr: 0.01, weightDecay: 0.1, clipNorm: 0.5, noDecay: hfNoDecay },
  { name: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 0.05 },
] as OptimizerConfig[]) {
  test(`HostOptimizerThreads (${config.name}): 3 threads update moved parameters as hostUpdate does on one, bit for bit`, async () => {
    const rng = new Rng(5);
    const sizes = [300, 7, 1000, 64, 1];
    const names = sizes.map((_, i) => (i % 2 ? `l${i}.bias` : `l${i}.weight`));
    const slots = config.name === 'sgd' ? 1 : 2;
    const make = (): { param: Float32Array; states: Float32Array[] }[] => sizes.map((n) => ({ param: rng.normalArray(n, 1), states: Array.from({ length: slots }, () => new Float32Array(n)) }));
    const initial = make();
    const copy = (): { param: Float32Array; states: Float32Array[] }[] => initial.map((p) => ({ param: Float32Array.from(p.param), states: p.states.map((s) => Float32Array.from(s)) }));
    const one = copy();
    let many = copy();
    const threads = HostOptimizerThreads.start(config, 3, new Map(names.map((n, i) => [n, sizes[i]])));
    assert.equal(threads.threads, 3);
    try {
      for (let t = 0; t < 3; t++) {
        const grads = sizes.map((n) => rng.normalArray(n, 0.5));
        const scalars = stepScalars(config, t, config.lr);
        const decay = (name: string) => !config.noDecay?.(name);
        const scale = config.clipNorm ? clipScale(config, globalNorm(grads)) : 1;
        one.forEach((p, i) => hostUpdate(config, scalars, { param: p.param, grad: Float32Array.from(grads[i]), states: p.states }, { gradScale: scale, decay: decay(names[i]) }));
        const entries: HostStepEntry[] = many.map((p, i) => ({ name: names[i], update: { param: p.param, grad: Float32Array.from(grads[i]), states: p.states }, decay: decay(names[i]) }));
        const moved = await threads.step({ entries, scalars, clip: config.clipNorm ? (norm) => clipScale(config, norm) : undefined });
        assert.ok(moved.size >= 2, `${moved.size} parameters went to the workers`);
        // Moved arrays are detached here until they come back; the returned ones replace them.
        many = many.map((p, i) => moved.get(names[i]) ?? p);
        one.forEach((p, i) => {
          sameBits(many[i].param, p.param, `step ${t} ${names[i]}`);
          p.states.forEach((s, j) => sameBits(many[i].states[j], s, `step ${t} ${names[i]} state ${j}`));
        });
      }
      assert.ok(one[0].param.some((v, i) => v !== initial[0].param[i]), 'the parameters moved');
    } finally {
      await threads.release();
    }
  });
}

/** Rows of token ids (1…49, 0 = padding) padded to `len`. */
function bowBatch(seed: number, rows: number, len: number) {
  const rng = new Rng(seed);
  const ids = BigInt64Array.from({ length: rows * len }, (_, i) => (i % len < 2 + rng.int(len - 1) ? BigInt(1 + rng.int(49)) : 0n));
  const mask = ids.map((id) => (id ? 1n : 0n));
  return {
    features: { input_ids: new ort.Tensor('int64', ids, [rows, len]), attention_mask: new ort.Tensor('int64', mask, [rows, len]) },
    labels: BigInt64Array.from({ length: rows }, (_, r) => BigInt(Number(ids[r * len] % 2n === 0n))),
  };
}

async function trainedState(optimizerThreads: number, options: TrainerOptions, steps: (t: Trainer) => Promise<void>, model = () => bagOfEmbeddings({ vocab: 50, dim: 24, classes: 2, buckets: 0, dropout: 0 })) {
  const optimizer: OptimizerConfig = { name: 'adamw', lr: 0.05, weightDecay: 0.1, clipNorm: 0.3, noDecay: hfNoDecay };
  const t = await Trainer.create(model(), optimizer, { seed: 9, threads: 1, optimizerThreads, ...options });
  assert.equal(t.optimizerThreads, optimizerThreads);
  const before = new Map([...t.state.params].map(([n, v]) => [n, Float32Array.from(v)]));
  await steps(t);
  const state = { params: new Map(t.state.params), states: new Map(t.state.states), before };
  await t.release();
  return state;
}

function assertSameState(a: Awaited<ReturnType<typeof trainedState>>, b: Awaited<ReturnType<typeof trainedState>>) {
  assert.deepEqual([...a.params.keys()], [...b.params.keys()]);
  for (const [name, values] of a.params) {
    sameBits(b.params.get(name)!, values, name);
    a.states.get(name)!.forEach((s, j) => sameBits(b.states.get(name)![j], s, `${name} state ${j}`));
    assert.ok(values.some((v, i) => v !== a.before.get(name)![i]), `${name} was trained`);
  }
}

test('Trainer: 4 steps with optimizerThreads 1, 2 and 3 give identical parameters and states (sparse table, clipping)', async () => {
  const steps = async (t: Trainer) => {
    for (let s = 0; s < 4; s++) await t.step(bowBatch(s, 6, 8).features, bowBatch(s, 6, 8).labels);
  };
  const one = await trainedState(1, {}, steps);
  assertSameState(one, await trainedState(2, {}, steps));
  assertSameState(one, await trainedState(3, {}, steps));
});

test('Trainer: accumulated steps with optimizerThreads 2 equal 1 bit for bit, and predictions use the moved weights', async () => {
  const x = new ort.Tensor('float32', Float32Array.from({ length: 32 * 3 }, (_, i) => Math.sin(i * 1.3)), [32, 3]);
  const y = BigInt64Array.from({ length: 32 }, (_, i) => BigInt(Number(Math.sin(i * 3.9) > 0)));
  const model = () => mlp({ features: 3, hidden: [16, 8], classes: 2 });
  const predictions: Float32Array[] = [];
  const steps = async (t: Trainer) => {
    for (let s = 0; s < 3; s++) await t.stepAccumulated([{ features: { x }, labels: y }, { features: { x }, labels: y }]);
    predictions.push(await t.predict({ x }));
  };
  const one = await trainedState(1, { gradAccum: 2 }, steps, model);
  assertSameState(one, await trainedState(2, { gradAccum: 2 }, steps, model));
  sameBits(predictions[1], predictions[0], 'predictions');
});

test('Trainer: small models keep the optimizer on the main thread unless asked', async () => {
  const t = await Trainer.create(mlp({ features: 3, hidden: [4], classes: 2 }), { name: 'sgd', lr: 0.1 }, { seed: 1, threads: 2 });
  assert.equal(t.optimizerThreads, 1);
  await t.release();
});

test('HostOptimizerThreads: a step after its threads ended fails with TRAINING_FAILED instead of waiting forever', async () => {
  const config: OptimizerConfig = { name: 'sgd', lr: 0.1 };
  const threads = HostOptimizerThreads.start(config, 2, new Map([['a', 4], ['b', 4]]));
  await threads.release();
  const entry = (name: string): HostStepEntry => ({ name, update: { param: new Float32Array(4), grad: new Float32Array(4).fill(1), states: [] }, decay: true });
  await assert.rejects(threads.step({ entries: [entry('a'), entry('b')], scalars: stepScalars(config, 0, 0.1) }), (err: Error & { code?: string }) => err.code === 'TRAINING_FAILED' && /optimizer thread/.test(err.message));
});
