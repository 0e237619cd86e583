// All six reference checkpoints load under Hugging Face's rules: legacy names, no prefix, tied decoders, DistilBERT, RoBERTa.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isGeulError } from '../../../src/core/errors.js';
import { readSafetensors } from '../../../src/core/weights/safetensors.js';
import { parseEncoderConfig } from '../../../src/train/pretrained/config.js';
import { loadPretrainedEncoder } from '../../../src/train/pretrained/load.js';
import { sharedDataPath } from '../../helpers/shared-data.js';

const FOLDERS = ['bert-cls', 'bert-mlm', 'bert-legacy-names', 'bert-base-noprefix', 'distilbert-cls', 'roberta-cls'];

test('every reference checkpoint loads completely, with nothing newly initialised', (t) => {
  for (const name of FOLDERS) {
    const folder = sharedDataPath(t, 'reference-encoders', name);
    if (!folder) return;
    const { spec, weights, config } = loadPretrainedEncoder(folder);
    assert.deepEqual(weights.newlyInitialized, [], name);
    assert.deepEqual([...weights.tensors.keys()].sort(), [...spec.parameters.keys()].sort(), name);
    for (const [key, shape] of spec.parameters) assert.deepEqual(weights.tensors.get(key)!.shape, shape, `${name} ${key}`);
    assert.equal(spec.architecture, JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')).architectures[0], name);
    assert.equal(config.numLabels > 0, true);
  }
});

test('legacy names, the bare base model and the tied MLM decoder map to the modern HF names', (t) => {
  const legacy = sharedDataPath(t, 'reference-encoders', 'bert-legacy-names');
  const noprefix = sharedDataPath(t, 'reference-encoders', 'bert-base-noprefix');
  const mlm = sharedDataPath(t, 'reference-encoders', 'bert-mlm');
  if (!legacy || !noprefix || !mlm) return;
  const legacyLoaded = loadPretrainedEncoder(legacy);
  const raw = readSafetensors(join(legacy, 'model.safetensors')).tensors;
  assert.deepEqual(legacyLoaded.weights.tensors.get('bert.embeddings.LayerNorm.weight')!.data, raw.get('bert.embeddings.LayerNorm.gamma')!.data);
  assert.equal(legacyLoaded.spec.architecture, 'BertForMaskedLM');

  const base = loadPretrainedEncoder(noprefix);
  assert.equal(base.spec.architecture, 'BertModel');
  assert.ok(base.weights.tensors.has('pooler.dense.weight'));

  const full = loadPretrainedEncoder(mlm);
  assert.deepEqual(full.weights.unused.sort(), ['cls.predictions.decoder.bias', 'cls.predictions.decoder.weight']);
  // Fine-tuning an MLM checkpoint as a classifier: the pooler and classifier are new, the MLM head is unused.
  const asClassifier = loadPretrainedEncoder(mlm, 'sequence-classification');
  assert.deepEqual(asClassifier.weights.newlyInitialized, ['bert.pooler.dense.weight', 'bert.pooler.dense.bias', 'classifier.weight', 'classifier.bias']);
  assert.ok(asClassifier.weights.unused.includes('cls.predictions.transform.dense.weight'));
});

test('a config of another architecture is refused naming the supported types', () => {
  const fails = (err: unknown) => isGeulError(err) && err.code === 'MODEL_INVALID' && /"gpt2".*bert, distilbert, roberta, xlm-roberta/.test(err.message);
  assert.throws(() => parseEncoderConfig({ model_type: 'gpt2' }, 'gpt2'), fails);
  const base = { model_type: 'bert', hidden_size: 8, num_attention_heads: 2, num_hidden_layers: 1, intermediate_size: 16, max_position_embeddings: 8, vocab_size: 10 };
  assert.equal(parseEncoderConfig(base, 'ok').hiddenAct, 'gelu');
  assert.throws(() => parseEncoderConfig({ ...base, hidden_act: 'mish' }, 'x'), (err: unknown) => isGeulError(err) && /activation "mish"/.test(err.message));
  assert.throws(() => parseEncoderConfig({ ...base, num_attention_heads: 3 }, 'x'), (err: unknown) => isGeulError(err) && /multiple of 3/.test(err.message));
});

test('a checkpoint that does not match its config fails listing the tensors', (t) => {
  const source = sharedDataPath(t, 'reference-encoders', 'bert-cls');
  if (!source) return;
  const dir = mkdtempSync(join(tmpdir(), 'geul-pretrained-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  copyFileSync(join(source, 'model.safetensors'), join(dir, 'model.safetensors'));
  const config = { model_type: 'bert', architectures: ['BertForSequenceClassification'], hidden_size: 64, num_attention_heads: 4, num_hidden_layers: 3, intermediate_size: 128, max_position_embeddings: 64, vocab_size: 200, id2label: { 0: 'a', 1: 'b', 2: 'c' } };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  assert.throws(() => loadPretrainedEncoder(dir), (err: unknown) => isGeulError(err) && err.code === 'STATE_DICT_MISMATCH' && /missing \(16\): bert\.encoder\.layer\.2\./.test(err.message));
});
