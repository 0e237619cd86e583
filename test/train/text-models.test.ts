// Text models on tiny synthetic batches: sparse embedding updates, each architecture learns, export matches predict.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { Trainer } from '../../src/train/trainer.js';
import { bagOfEmbeddings, embeddingMlp, recurrentClassifier } from '../../src/train/models/text.js';
import { transformerClassifier } from '../../src/train/models/transformer.js';
import type { ModelDef } from '../../src/train/model.js';

/** 16 rows of 6 token ids over a vocab of 20; label 1 when token 3 occurs. Rows 8+ are right-padded (id 0, mask 0). */
export function toyBatch(): { features: Record<string, ort.Tensor>; labels: BigInt64Array } {
  const ids = new BigInt64Array(16 * 6);
  const mask = new BigInt64Array(16 * 6);
  const labels = new BigInt64Array(16);
  for (let b = 0; b < 16; b++) {
    const len = b < 8 ? 6 : 4;
    for (let t = 0; t < len; t++) {
      ids[b * 6 + t] = BigInt(4 + ((b * 7 + t * 5) % 15));
      mask[b * 6 + t] = 1n;
    }
    if (b % 2 === 1) ids[b * 6 + (b % len)] = 3n;
    labels[b] = BigInt(b % 2);
  }
  return { features: { input_ids: new ort.Tensor('int64', ids, [16, 6]), attention_mask: new ort.Tensor('int64', mask, [16, 6]) }, labels };
}

test('bow: sparse embedding updates touch only the batch rows, lower the loss and export the same logits', async () => {
  const { features, labels } = toyBatch();
  const trainer = await Trainer.create(bagOfEmbeddings({ vocab: 20, dim: 8, classes: 2, buckets: 64 }), { name: 'adam', lr: 0.05 }, { seed: 1, threads: 1 });
  const before = Float32Array.from(trainer.state.params.get('embeddings.weight') as Float32Array);
  const losses: number[] = [];
  for (let i = 0; i < 40; i++) losses.push((await trainer.step(features, labels)).loss);
  assert.ok(losses[39] < losses[0] * 0.5, `loss ${losses[0]} -> ${losses[39]}`);
  const after = trainer.state.params.get('embeddings.weight') as Float32Array;
  const mask = features.attention_mask.data as BigInt64Array;
  const used = new Set(Array.from(features.input_ids.data as BigInt64Array, Number).filter((_, i) => mask[i] === 1n)); // padding id 0 gets no gradient
  for (let row = 0; row < 20; row++) {
    const changed = after.subarray(row * 8, row * 8 + 8).some((v, j) => v !== before[row * 8 + j]);
    assert.equal(changed, used.has(row), `row ${row}`);
  }
  const session = await ort.InferenceSession.create(trainer.exportOnnx());
  const got = (await session.run(features)).logits.data as Float32Array;
  assert.deepEqual(Array.from(got), Array.from(await trainer.predict(features)));
  await session.release();
  await trainer.release();
});

const learners: [string, ModelDef][] = [
  ['mlp', embeddingMlp({ vocab: 20, embedding: 8, hidden: [16], classes: 2, dropout: 0.1 })],
  ['lstm (last state)', recurrentClassifier({ vocab: 20, embedding: 8, hidden: 8, classes: 2, cell: 'lstm' })],
  ['bilstm, 2 layers, max pooling, dropout', recurrentClassifier({ vocab: 20, embedding: 8, hidden: 6, classes: 2, cell: 'lstm', bidirectional: true, layers: 2, pooling: 'max', dropout: 0.1 })],
  ['transformer, 2 layers', transformerClassifier({ vocab: 20, maxLength: 6, hidden: 8, heads: 2, ffn: 16, layers: 2, classes: 2, dropout: 0.1 })],
  ['bigru, mean pooling', recurrentClassifier({ vocab: 20, embedding: 8, hidden: 6, classes: 2, cell: 'gru', bidirectional: true, pooling: 'mean' })],
];

for (const [name, model] of learners) {
  test(`${name}: fits the toy batch; the export computes the trainer's logits`, async () => {
    const { features, labels } = toyBatch();
    // Post-LayerNorm attention diverges at 0.05 with dropout on (it passed by luck of the masks before).
    const lr = model.kind === 'transformer' ? 0.02 : 0.05;
    const trainer = await Trainer.create(model, { name: 'adam', lr, clipNorm: 5 }, { seed: 2, threads: 1 });
    const losses: number[] = [];
    for (let i = 0; i < 60; i++) losses.push((await trainer.step(features, labels)).loss);
    assert.ok(losses[59] < 0.2, `loss ${losses[0]} -> ${losses[59]}`);
    const session = await ort.InferenceSession.create(trainer.exportOnnx());
    const got = (await session.run(features)).logits.data as Float32Array;
    const want = await trainer.predict(features);
    got.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-5, `logit ${i}: ${v} vs ${want[i]}`));
    await session.release();
    await trainer.release();
  });
}
