// Hugging Face loading rules: legacy names, base prefix added or stripped, tied and ignored tensors, new heads, one clear error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isGeulError } from '../../../src/core/errors.js';
import { describeNewlyInitialized, loadStateDict, modernName, type ModelParameterSpec } from '../../../src/core/weights/state-dict.js';
import type { TensorInfo, WeightSource } from '../../../src/core/weights/tensor.js';

/** An in-memory checkpoint: every tensor filled with its index in the listing, so the test sees which one was read. */
function source(shapes: Record<string, number[]>): WeightSource {
  const names = Object.keys(shapes);
  const tensors = new Map<string, TensorInfo>(names.map((n) => [n, { dtype: 'F32', shape: shapes[n]! }]));
  return {
    path: 'mem',
    tensors,
    metadata: {},
    read: (name) => ({ shape: shapes[name]!, data: new Float32Array(shapes[name]!.reduce((a, b) => a * b, 1)).fill(names.indexOf(name)) }),
    close: () => undefined,
  };
}

const classifier: ModelParameterSpec = {
  architecture: 'BertForSequenceClassification',
  basePrefix: 'bert',
  parameters: new Map([
    ['bert.embeddings.word_embeddings.weight', [10, 4]],
    ['bert.embeddings.LayerNorm.weight', [4]],
    ['bert.embeddings.LayerNorm.bias', [4]],
    ['bert.pooler.dense.weight', [4, 4]],
    ['classifier.weight', [3, 4]],
    ['classifier.bias', [3]],
  ]),
  headPrefixes: ['classifier.'],
  tied: new Map(),
};

const fails = (detail: RegExp) => (err: unknown) => isGeulError(err) && err.code === 'STATE_DICT_MISMATCH' && detail.test(err.message);

test('legacy gamma/beta load as weight/bias', () => {
  assert.equal(modernName('bert.embeddings.LayerNorm.gamma'), 'bert.embeddings.LayerNorm.weight');
  assert.equal(modernName('cls.predictions.transform.LayerNorm.beta'), 'cls.predictions.transform.LayerNorm.bias');
  const loaded = loadStateDict(source({
    'bert.embeddings.word_embeddings.weight': [10, 4], 'bert.embeddings.LayerNorm.gamma': [4], 'bert.embeddings.LayerNorm.beta': [4],
    'bert.pooler.dense.weight': [4, 4], 'classifier.weight': [3, 4], 'classifier.bias': [3],
  }), classifier, 'legacy');
  assert.equal(loaded.tensors.get('bert.embeddings.LayerNorm.weight')!.data[0], 1);
  assert.equal(loaded.tensors.get('bert.embeddings.LayerNorm.bias')!.data[0], 2);
  assert.deepEqual(loaded.newlyInitialized, []);
});

test('a base checkpoint without prefix, with pre-training heads and position_ids, gets a newly initialised classifier', () => {
  const loaded = loadStateDict(source({
    'embeddings.word_embeddings.weight': [10, 4], 'embeddings.LayerNorm.weight': [4], 'embeddings.LayerNorm.bias': [4],
    'embeddings.position_ids': [1, 64], 'pooler.dense.weight': [4, 4], 'cls.predictions.bias': [10], 'cls.seq_relationship.weight': [2, 4],
  }), classifier, 'bert-base');
  assert.deepEqual([...loaded.tensors.keys()].sort(), ['bert.embeddings.LayerNorm.bias', 'bert.embeddings.LayerNorm.weight', 'bert.embeddings.word_embeddings.weight', 'bert.pooler.dense.weight']);
  assert.deepEqual(loaded.newlyInitialized, ['classifier.weight', 'classifier.bias']);
  assert.equal(describeNewlyInitialized(loaded.newlyInitialized), 'newly initialized: classifier.weight, classifier.bias');
  assert.deepEqual(loaded.unused.sort(), ['cls.predictions.bias', 'cls.seq_relationship.weight', 'embeddings.position_ids']);
});

test('a head of another size is re-initialised, not an error', () => {
  const loaded = loadStateDict(source({
    'bert.embeddings.word_embeddings.weight': [10, 4], 'bert.embeddings.LayerNorm.weight': [4], 'bert.embeddings.LayerNorm.bias': [4],
    'bert.pooler.dense.weight': [4, 4], 'classifier.weight': [2, 4], 'classifier.bias': [2],
  }), classifier, 'two-labels');
  assert.deepEqual(loaded.newlyInitialized, ['classifier.weight', 'classifier.bias']);
  assert.equal(loaded.tensors.has('classifier.weight'), false);
});

test('a prefixed checkpoint loads into a bare base model, dropping its head', () => {
  const base: ModelParameterSpec = { ...classifier, architecture: 'BertModel', parameters: new Map([['embeddings.word_embeddings.weight', [10, 4]]]), headPrefixes: [] };
  const loaded = loadStateDict(source({ 'bert.embeddings.word_embeddings.weight': [10, 4], 'classifier.weight': [3, 4] }), base, 'cls');
  assert.deepEqual([...loaded.tensors.keys()], ['embeddings.word_embeddings.weight']);
  assert.deepEqual(loaded.unused, ['classifier.weight']);
});

test('tied aliases present in the file are dropped; absent ones are not missing', () => {
  const mlm: ModelParameterSpec = {
    architecture: 'BertForMaskedLM', basePrefix: 'bert', headPrefixes: ['cls.'],
    parameters: new Map([['bert.embeddings.word_embeddings.weight', [10, 4]], ['cls.predictions.bias', [10]]]),
    tied: new Map([['cls.predictions.decoder.weight', 'bert.embeddings.word_embeddings.weight'], ['cls.predictions.decoder.bias', 'cls.predictions.bias']]),
  };
  const full = loadStateDict(source({ 'bert.embeddings.word_embeddings.weight': [10, 4], 'cls.predictions.bias': [10], 'cls.predictions.decoder.weight': [10, 4], 'cls.predictions.decoder.bias': [10] }), mlm, 'full');
  assert.deepEqual([...full.tensors.keys()], ['bert.embeddings.word_embeddings.weight', 'cls.predictions.bias']);
  assert.deepEqual(full.newlyInitialized, []);
  const saved = loadStateDict(source({ 'bert.embeddings.word_embeddings.weight': [10, 4], 'cls.predictions.bias': [10] }), mlm, 'saved');
  assert.deepEqual(saved.unused, []);
});

test('missing, unexpected and wrongly shaped base tensors fail together in one error naming each', () => {
  const bad = source({
    'bert.embeddings.word_embeddings.weight': [12, 4], 'bert.embeddings.LayerNorm.weight': [4],
    'bert.encoder.layer.7.output.dense.weight': [4, 4], 'bert.pooler.dense.weight': [4, 4], 'classifier.weight': [3, 4], 'classifier.bias': [3],
  });
  assert.throws(() => loadStateDict(bad, classifier, 'bad'), fails(
    /bad does not fit a BertForSequenceClassification model: missing \(1\): bert\.embeddings\.LayerNorm\.bias; unexpected \(1\): bert\.encoder\.layer\.7\.output\.dense\.weight; wrongly shaped \(1\): bert\.embeddings\.word_embeddings\.weight \[12, 4\] in the checkpoint, \[10, 4\] in the model/,
  ));
  // A pooler the model does not use is ignored, as Hugging Face does for its MLM and RoBERTa heads.
  const noPooler: ModelParameterSpec = { ...classifier, parameters: new Map([...classifier.parameters].filter(([n]) => !n.includes('pooler'))) };
  const loaded = loadStateDict(source({ 'bert.embeddings.word_embeddings.weight': [10, 4], 'bert.embeddings.LayerNorm.weight': [4], 'bert.embeddings.LayerNorm.bias': [4], 'bert.pooler.dense.weight': [4, 4] }), noPooler, 'p');
  assert.deepEqual(loaded.unused, ['bert.pooler.dense.weight']);
});

test('long lists are shortened', () => {
  const many = new Map<string, number[]>(Array.from({ length: 20 }, (_, i) => [`bert.encoder.layer.${i}.x.weight`, [1]]));
  const spec: ModelParameterSpec = { ...classifier, parameters: many };
  assert.throws(() => loadStateDict(source({}), spec, 'empty'), fails(/missing \(20\): .*layer\.11\.x\.weight, and 8 more$/));
});
