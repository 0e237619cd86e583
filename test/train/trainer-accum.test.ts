// Trainer generalisations on geul's own models: gradient accumulation over a row-sparse embedding model (dense
// tables while accumulating) equals one step on the concatenated batch; frozen parameters stay as they were.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { bagOfEmbeddings } from '../../src/train/models/text.js';
import { mlp } from '../../src/train/models/mlp.js';
import { Trainer } from '../../src/train/trainer.js';

/** Rows of token ids (1…49, 0 = padding) padded to `len`, with labels from whether a row holds an even id. */
function bowBatch(rows: number[][], len: number) {
  const ids = new BigInt64Array(rows.length * len);
  const mask = new BigInt64Array(rows.length * len);
  rows.forEach((r, b) => r.forEach((id, t) => {
    ids[b * len + t] = BigInt(id);
    mask[b * len + t] = 1n;
  }));
  return {
    features: { input_ids: new ort.Tensor('int64', ids, [rows.length, len]), attention_mask: new ort.Tensor('int64', mask, [rows.length, len]) },
    labels: BigInt64Array.from(rows, (r) => BigInt(Number(r.some((id) => id % 2 === 0)))),
  };
}

test('bag of embeddings: accumulating micro-batches (own padding) equals a step on the concatenation (SGD)', async () => {
  const rows = [[3, 5, 7, 9], [2, 4], [11, 13, 15], [6], [21, 23, 25, 27, 29, 31], [8, 10, 12]];
  const model = () => bagOfEmbeddings({ vocab: 50, dim: 8, classes: 2, buckets: 0, dropout: 0 });
  const whole = await Trainer.create(model(), { name: 'sgd', lr: 0.5 }, { seed: 2, threads: 1 });
  const split = await Trainer.create(model(), { name: 'sgd', lr: 0.5 }, { seed: 2, threads: 1, gradAccum: 3 });
  for (let step = 0; step < 3; step++) {
    const a = await whole.step(bowBatch(rows, 6).features, bowBatch(rows, 6).labels);
    const b = await split.stepAccumulated([bowBatch(rows.slice(0, 2), 4), bowBatch(rows.slice(2, 5), 6), bowBatch(rows.slice(5), 3)]);
    assert.ok(Math.abs(a.loss - b.loss) < 1e-6, `loss ${a.loss} vs ${b.loss}`);
    assert.equal(b.logits.length, 6 * 2);
  }
  for (const [name, values] of whole.state.params) {
    const other = split.state.params.get(name)!;
    values.forEach((v, i) => assert.ok(Math.abs(v - other[i]!) < 1e-6, `${name}[${i}] ${v} vs ${other[i]}`));
  }
  await assert.rejects(whole.stepAccumulated([bowBatch(rows, 6), bowBatch(rows, 6)]), /gradAccum > 1/);
  await whole.release();
  await split.release();
});

test('mlp: a frozen layer keeps its values, is not trained, and still shapes predictions and the export', async () => {
  const x = new ort.Tensor('float32', Float32Array.from({ length: 32 * 3 }, (_, i) => Math.sin(i * 1.3)), [32, 3]);
  const y = BigInt64Array.from({ length: 32 }, (_, i) => BigInt(Number(Math.sin(i * 3.9) > 0)));
  const frozen = (name: string) => name.startsWith('layers.0.');
  const t = await Trainer.create(mlp({ features: 3, hidden: [8], classes: 2 }), { name: 'adam', lr: 0.05 }, { seed: 4, threads: 1, frozen });
  const before = new Map([...t.weights()].map(([n, v]) => [n, Float32Array.from(v)]));
  assert.ok([...before.keys()].some(frozen), `names: ${[...before.keys()]}`);
  for (let i = 0; i < 5; i++) await t.step({ x }, y);
  for (const [name, values] of t.weights()) {
    const same = values.every((v, i) => Object.is(v, before.get(name)![i]));
    assert.equal(same, frozen(name), name);
    assert.equal(t.state.params.has(name), !frozen(name));
  }
  const session = await ort.InferenceSession.create(t.exportOnnx());
  assert.deepEqual(Array.from((await session.run({ x })).logits.data as Float32Array), Array.from(await t.predict({ x })));
  await session.release();
  await t.release();
});
