// Model loading: dtype picks the ONNX file, auto follows what is on disk, missing files and bad configs are named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/core/config.js';
import { isGeulError } from '../../src/core/errors.js';
import { ModelStore, checkModelKind } from '../../src/runtime/models.js';
import { kindProblem, outputsProblem, servableKinds } from '../../src/runtime/model-kinds.js';
import { fixturesDir } from '../helpers/fixtures.js';

const config = (overrides: Record<string, unknown> = {}) =>
  loadConfig({ cacheDir: mkdtempSync(join(tmpdir(), 'geul-c-')), offline: true, ...overrides }, { skipFile: true });

async function copyOf(name: string): Promise<string> {
  const dir = join(mkdtempSync(join(tmpdir(), 'geul-m-')), name);
  cpSync(join(await fixturesDir(), name), dir, { recursive: true });
  return dir;
}

const fails = (code: string, pattern?: RegExp) => (err: unknown) => {
  assert.ok(isGeulError(err), String(err));
  assert.equal(err.code, code, err.message);
  if (pattern) assert.match(err.message, pattern);
  return true;
};

test('dtype selects the ONNX file; auto uses the one present', async () => {
  const dir = await copyOf('tiny-bert-sentiment');
  renameSync(join(dir, 'onnx', 'model.onnx'), join(dir, 'onnx', 'model_quantized.onnx'));
  const q8 = new ModelStore(config({ dtype: 'q8' }));
  assert.ok((await q8.load(dir, 'sequence-classification', 'classify')).model);
  await q8.dispose();
  const auto = new ModelStore(config());
  assert.ok((await auto.load(dir, 'sequence-classification', 'classify')).model);
  await auto.dispose();
  const fp16 = new ModelStore(config({ dtype: 'fp16' }));
  await assert.rejects(fp16.load(dir, 'sequence-classification', 'classify'), fails('MODEL_FILE_MISSING', /model_fp16\.onnx/));
});

test('a folder without config.json, or with a broken one', async () => {
  const dir = await copyOf('tiny-bert-embed');
  writeFileSync(join(dir, 'config.json'), '{ not json');
  const store = new ModelStore(config());
  await assert.rejects(store.load(dir, 'feature-extraction', 'embeddings'), fails('MODEL_INVALID'));
  await assert.rejects(store.load(join(dir, 'nope'), 'feature-extraction', 'embeddings'), fails('MODEL_NOT_FOUND'));
  await assert.rejects(store.load(join(dir, 'onnx'), 'feature-extraction', 'embeddings'), fails('MODEL_FILE_MISSING', /config\.json/));
});

test('a corrupt ONNX file is MODEL_INVALID, not a crash', async () => {
  const dir = await copyOf('tiny-bert-embed');
  writeFileSync(join(dir, 'onnx', 'model.onnx'), 'garbage');
  const store = new ModelStore(config());
  await assert.rejects(store.load(dir, 'feature-extraction', 'embeddings'), fails('MODEL_INVALID'));
});

test('checkModelKind refuses models that cannot do a task', () => {
  assert.throws(() => checkModelKind('m', 'translate', 'seq2seq-lm', { model_type: 'bert' }), fails('TASK_NOT_SUPPORTED', /encoder-decoder/));
  assert.throws(() => checkModelKind('m', 'generate', 'causal-lm', { model_type: 'bert' }), fails('TASK_NOT_SUPPORTED'));
  assert.throws(() => checkModelKind('m', 'classify', 'sequence-classification', { model_type: 'bert' }), fails('TASK_NOT_SUPPORTED', /id2label/));
  assert.doesNotThrow(() => checkModelKind('m', 'generate', 'causal-lm', { model_type: 'gpt2' }));
});

test('threads reach the ONNX session options (a 1-thread session still runs)', async () => {
  const store = new ModelStore(config({ threads: 1 }));
  const loaded = await store.load(join(await fixturesDir(), 'tiny-bert-embed'), 'feature-extraction', 'embeddings');
  assert.ok(loaded.model);
  await store.dispose();
});

test('kindProblem: architectures decide when present, else model_type; servableKinds lists the rest', () => {
  const gpt2 = { model_type: 'gpt2', architectures: ['GPT2LMHeadModel'] };
  const classifier = { model_type: 'bert', architectures: ['BertForSequenceClassification'], id2label: { 0: 'NEG', 1: 'POS' } };
  const mpnet = { model_type: 'mpnet', architectures: ['MPNetForMaskedLM'] };
  assert.match(String(kindProblem('feature-extraction', gpt2)), /task head/);
  assert.match(String(kindProblem('masked-lm', classifier)), /not a masked language model/);
  assert.match(String(kindProblem('sequence-classification', { model_type: 'bert', architectures: ['BertModel'], id2label: { 0: 'LABEL_0' } })), /not a sequence classifier/);
  // Sentence-embedding exports of MLM checkpoints keep their MLM config: the ONNX outputs decide after loading.
  assert.equal(kindProblem('feature-extraction', mpnet), undefined);
  assert.match(String(kindProblem('causal-lm', { model_type: 'llama', architectures: ['LlamaModel'] })), /not a causal language model/);
  assert.deepEqual(servableKinds(gpt2), ['causal-lm']);
  assert.deepEqual(servableKinds(classifier), ['sequence-classification']);
  assert.deepEqual(servableKinds({ model_type: 'm2m_100', is_encoder_decoder: true }), ['seq2seq-lm']);
  assert.match(String(outputsProblem('feature-extraction', ['logits'])), /not token vectors/);
  assert.equal(outputsProblem('feature-extraction', ['last_hidden_state']), undefined);
  assert.match(String(outputsProblem('masked-lm', ['last_hidden_state'])), /not logits/);
});
