// The masked-LM loss with the head run at the masked positions only equals Hugging Face's formulation (logits at
// every position, cross-entropy through a one-hot, mean over the labels not -100): loss and every gradient, for
// BERT (the reference checkpoint), DistilBERT and RoBERTa heads; its logits are [masked, vocab].
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { Rng } from '../../../src/core/random.js';
import { gradients } from '../../../src/graph/autodiff.js';
import { GraphBuilder, type Value } from '../../../src/graph/builder.js';
import { oneHot } from '../../../src/graph/losses.js';
import type { EncoderConfig } from '../../../src/train/pretrained/config.js';
import { buildEncoder } from '../../../src/train/pretrained/encoder-graph.js';
import { loadPretrainedEncoder } from '../../../src/train/pretrained/load.js';
import { IGNORED_LABEL, maskedLmLoss, maskedTargets } from '../../../src/train/pretrained/mlm-loss.js';
import { encoderParameterSpec } from '../../../src/train/pretrained/parameters.js';
import { runGraph } from '../../helpers/run-graph.js';
import { sharedDataPath } from '../../helpers/shared-data.js';

/** The formulation before: logits [batch, seq, vocab], log-softmax · one-hot, weighted mean over the counted labels. */
function everyPositionLoss(g: GraphBuilder, logits: Value, labels: Value, vocabSize: number): Value {
  const counted = g.not(g.equal(labels, g.int(IGNORED_LABEL)));
  const weight = g.cast(counted, 'float32');
  const safeLabels = g.where(counted, labels, g.int(0));
  const picked = g.reduceSum(g.mul(g.logSoftmax(logits, -1), oneHot(g, safeLabels, vocabSize)), [-1], false);
  const total = g.reduceSum(g.mul(picked, weight), undefined, false);
  return g.withShape(g.neg(g.div(total, g.reduceSum(weight, undefined, false))), []);
}

type Feeds = Record<string, ort.Tensor>;

/** Loss, logits and the gradient of every parameter under one of the two formulations. */
async function lossAndGradients(config: EncoderConfig, weights: ReadonlyMap<string, Float32Array>, feeds: Feeds, atMasked: boolean) {
  const g = new GraphBuilder('mlm');
  const seq = ['batch', 'seq'];
  const names = [...encoderParameterSpec(config).parameters.keys()];
  const params = new Map<string, Value>();
  const param = (name: string, shape: readonly number[]) => {
    let v = params.get(name);
    if (!v) params.set(name, (v = g.input(`p/${name}`, 'float32', shape)));
    return v;
  };
  const labels = g.input('labels', 'int64', seq);
  const masked = atMasked ? maskedTargets(g, labels) : undefined;
  const hasTypes = 'token_type_ids' in feeds;
  const out = buildEncoder(g, config, param, {
    inputIds: g.input('input_ids', 'int64', seq),
    attentionMask: g.input('attention_mask', 'int64', seq),
    tokenTypeIds: hasTypes ? g.input('token_type_ids', 'int64', seq) : undefined,
    maskedPositions: masked?.positions,
  });
  const loss = masked ? maskedLmLoss(g, out.logits!, masked.targets, config.vocabSize) : everyPositionLoss(g, out.logits!, labels, config.vocabSize);
  const grads = gradients(g, loss, names.map((n) => params.get(n)!));
  g.output(loss, 'loss', { shape: [] });
  g.output(out.logits!, 'logits');
  grads.forEach((grad, i) => g.output(grad, `grad/${names[i]}`));
  const all: Feeds = { ...feeds };
  for (const n of names) all[`p/${n}`] = new ort.Tensor('float32', weights.get(n)!, encoderParameterSpec(config).parameters.get(n)!);
  const got = await runGraph(g, all);
  return { loss: (got.loss.data as Float32Array)[0], logitsDims: got.logits.dims, grads: new Map(names.map((n) => [n, got[`grad/${n}`].data as Float32Array])) };
}

async function assertSameAsEveryPosition(config: EncoderConfig, weights: ReadonlyMap<string, Float32Array>, feeds: Feeds) {
  const before = await lossAndGradients(config, weights, feeds, false);
  const now = await lossAndGradients(config, weights, feeds, true);
  const labels = feeds.labels.data as BigInt64Array;
  const counted = labels.filter((l) => l !== BigInt(IGNORED_LABEL)).length;
  assert.ok(counted > 0 && counted < labels.length / 2, `${counted} masked of ${labels.length}`);
  assert.deepEqual(now.logitsDims, [counted, config.vocabSize]);
  assert.deepEqual(before.logitsDims, [...feeds.input_ids.dims, config.vocabSize]);
  assert.ok(Math.abs(now.loss - before.loss) <= 1e-5 * Math.abs(before.loss), `loss ${now.loss} vs ${before.loss}`);
  let trained = 0;
  for (const [name, want] of before.grads) {
    const got = now.grads.get(name)!;
    const worst = want.reduce((w, v, i) => Math.max(w, Math.abs(v - got[i])), 0);
    const scale = want.reduce((w, v) => Math.max(w, Math.abs(v)), 0);
    assert.ok(worst <= 1e-5 * Math.max(scale, 1e-3), `${config.modelType} ${name}: max diff ${worst} (max |grad| ${scale})`);
    if (scale > 0) trained++;
  }
  assert.ok(trained > before.grads.size / 2, `${trained} of ${before.grads.size} gradients are non-zero`);
}

const int64 = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat(), BigInt), [rows.length, rows[0].length]);

test('bert-mlm reference checkpoint: loss at the masked positions equals the every-position formulation', async (t) => {
  const folder = sharedDataPath(t, 'reference-encoders', 'bert-mlm');
  if (!folder) return;
  const inputs = JSON.parse(readFileSync(join(folder, 'inputs.json'), 'utf8')) as Record<string, number[][]>;
  const { config, weights } = loadPretrainedEncoder(folder);
  const feeds: Feeds = { input_ids: int64(inputs.input_ids), attention_mask: int64(inputs.attention_mask), labels: int64(inputs.labels) };
  if (inputs.token_type_ids) feeds.token_type_ids = int64(inputs.token_type_ids);
  await assertSameAsEveryPosition(config, new Map([...weights.tensors].map(([n, v]) => [n, v.data])), feeds);
});

for (const modelType of ['distilbert', 'roberta'] as const) {
  test(`${modelType} masked-LM head (random weights): loss at the masked positions equals the every-position formulation`, async () => {
    const config: EncoderConfig = {
      modelType, head: 'masked-lm', vocabSize: 97, hiddenSize: 16, layers: 1, heads: 2, intermediateSize: 32, maxPositions: 40,
      typeVocabSize: modelType === 'distilbert' ? 0 : 1, layerNormEps: 1e-5, hiddenAct: 'gelu', padTokenId: 1, numLabels: 2, id2label: ['a', 'b'],
    };
    const rng = new Rng(3);
    const weights = new Map([...encoderParameterSpec(config).parameters].map(([n, shape]) => [n, rng.normalArray(shape.reduce((a, b) => a * b, 1), 0.3)]));
    const [batch, len] = [3, 12];
    const ids = Array.from({ length: batch }, (_, b) => Array.from({ length: len }, (_, i) => (i < len - 3 * b ? 2 + rng.int(95) : 1)));
    const labels = ids.map((row) => row.map((id, i) => (id !== 1 && (i * 7 + id) % 5 === 0 ? id : IGNORED_LABEL)));
    const feeds: Feeds = { input_ids: int64(ids), attention_mask: int64(ids.map((row) => row.map((id) => Number(id !== 1)))), labels: int64(labels) };
    await assertSameAsEveryPosition(config, weights, feeds);
  });
}
