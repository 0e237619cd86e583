// Autodiff through the encoder graph reproduces the reference losses and gradients (padding_idx rows included).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { gradients } from '../../../src/graph/autodiff.js';
import { GraphBuilder, type Value } from '../../../src/graph/builder.js';
import { softmaxCrossEntropy } from '../../../src/graph/losses.js';
import { buildEncoder } from '../../../src/train/pretrained/encoder-graph.js';
import { initializerSource, loadPretrainedEncoder } from '../../../src/train/pretrained/load.js';
import { maskedLmLoss, maskedTargets } from '../../../src/train/pretrained/mlm-loss.js';
import { runGraph } from '../../helpers/run-graph.js';
import { sharedDataPath } from '../../helpers/shared-data.js';

interface Grads {
  loss: number;
  grads: Record<string, { shape: number[]; rows?: number[]; values: number[] | number[][] }>;
}

const int64 = (rows: number[] | number[][]) => {
  const flatRows = (rows as (number | number[])[]).flat() as number[];
  const dims = Array.isArray(rows[0]) ? [rows.length, (rows[0] as number[]).length] : [rows.length];
  return new ort.Tensor('int64', BigInt64Array.from(flatRows, BigInt), dims);
};

const FOLDERS = ['bert-cls', 'bert-mlm', 'bert-legacy-names', 'bert-base-noprefix', 'distilbert-cls', 'roberta-cls'];

for (const name of FOLDERS) {
  test(`${name}: loss and gradients match the reference (per tensor ≤ 1e-4 of its max)`, async (t) => {
    const folder = sharedDataPath(t, 'reference-encoders', name);
    if (!folder) return;
    const inputs = JSON.parse(readFileSync(join(folder, 'inputs.json'), 'utf8')) as Record<string, number[][]>;
    const reference = JSON.parse(readFileSync(join(folder, 'grads.json'), 'utf8')) as Grads;
    const { config, weights } = loadPretrainedEncoder(folder);

    const g = new GraphBuilder(name);
    const made = new Map<string, Value>();
    const initializers = initializerSource(g, weights.tensors);
    const param = (key: string, shape: readonly number[]) => {
      const value = initializers(key, shape);
      made.set(key, value);
      return value;
    };
    const seq = ['batch', 'seq'];
    const hasTypes = Boolean(inputs['token_type_ids']);
    // Masked LM: the head runs at the masked positions only (mlm-loss.ts).
    const masked = config.head === 'masked-lm' ? maskedTargets(g, g.input('labels', 'int64', seq)) : undefined;
    const out = buildEncoder(g, config, param, {
      inputIds: g.input('input_ids', 'int64', seq),
      attentionMask: g.input('attention_mask', 'int64', seq),
      tokenTypeIds: hasTypes ? g.input('token_type_ids', 'int64', seq) : undefined,
      maskedPositions: masked?.positions,
    });
    let loss: Value;
    if (config.head === 'base') loss = g.reduceMean(g.mul(out.poolerOutput!, out.poolerOutput!), undefined, false);
    else if (config.head === 'masked-lm') loss = maskedLmLoss(g, out.logits!, masked!.targets, config.vocabSize);
    else loss = softmaxCrossEntropy(g, out.logits!, g.input('labels', 'int64', ['batch']));
    const names = Object.keys(reference.grads);
    const grads = gradients(g, loss, names.map((n) => made.get(n)!));
    g.output(loss, 'loss', { shape: [] });
    grads.forEach((grad, i) => g.output(grad, `grad_${i}`));

    const feeds: Record<string, ort.Tensor> = { input_ids: int64(inputs['input_ids']!), attention_mask: int64(inputs['attention_mask']!) };
    if (hasTypes) feeds['token_type_ids'] = int64(inputs['token_type_ids']!);
    if (config.head !== 'base') feeds['labels'] = int64(inputs['labels']!);
    const got = await runGraph(g, feeds);

    const lossValue = (got['loss']!.data as Float32Array)[0]!;
    assert.ok(Math.abs(lossValue - reference.loss) <= 1e-5 * Math.abs(reference.loss), `${name} loss ${lossValue} vs ${reference.loss}`);
    names.forEach((key, i) => {
      const { shape, rows, values } = reference.grads[key]!;
      const data = got[`grad_${i}`]!.data as Float32Array;
      assert.equal(data.length, shape.reduce((a, b) => a * b, 1), key);
      const width = shape[shape.length - 1]!;
      const expected = (values as (number | number[])[]).flat() as number[];
      const actual = rows ? rows.flatMap((r) => Array.from(data.subarray(r * width, (r + 1) * width))) : Array.from(data);
      const scale = Math.max(...expected.map(Math.abs));
      const worst = Math.max(...actual.map((v, j) => Math.abs(v - expected[j]!)));
      assert.ok(worst <= 1e-4 * scale, `${name} ${key}: max diff ${worst} vs max |grad| ${scale}`);
    });
  });
}

test('padding_idx: the pad rows get no gradient from the lookup even when padded outputs feed the loss', async (t) => {
  for (const [name, checks] of [['bert-cls', [['bert.embeddings.word_embeddings.weight', 0, 101]]], ['roberta-cls', [['roberta.embeddings.word_embeddings.weight', 1, 0], ['roberta.embeddings.position_embeddings.weight', 1, 2]]]] as const) {
    const folder = sharedDataPath(t, 'reference-encoders', name);
    if (!folder) return;
    const inputs = JSON.parse(readFileSync(join(folder, 'inputs.json'), 'utf8')) as Record<string, number[][]>;
    const { config, weights } = loadPretrainedEncoder(folder);
    const g = new GraphBuilder(name);
    const made = new Map<string, Value>();
    const initializers = initializerSource(g, weights.tensors);
    const out = buildEncoder(g, config, (key, shape) => { const v = initializers(key, shape); made.set(key, v); return v; }, {
      inputIds: g.input('input_ids', 'int64', ['batch', 'seq']),
      attentionMask: g.input('attention_mask', 'int64', ['batch', 'seq']),
    });
    // Every position counts, padding included, so without padding_idx the pad rows would receive a gradient.
    const loss = g.reduceSum(g.mul(out.embeddingOutput, out.embeddingOutput), undefined, false);
    const grads = gradients(g, loss, checks.map(([key]) => made.get(key)!));
    grads.forEach((grad, i) => g.output(grad, `grad_${i}`));
    const got = await runGraph(g, { input_ids: int64(inputs['input_ids']!), attention_mask: int64(inputs['attention_mask']!) });
    checks.forEach(([key, padRow, usedRow], i) => {
      const data = got[`grad_${i}`]!.data as Float32Array;
      const row = (r: number) => Array.from(data.subarray(r * config.hiddenSize, (r + 1) * config.hiddenSize));
      assert.ok(row(padRow).every((v) => v === 0), `${name} ${key} row ${padRow} got a gradient`);
      assert.ok(row(usedRow).some((v) => v !== 0), `${name} ${key} row ${usedRow} got none`);
    });
  }
});
