// Fine-tuning data pieces: the checkpoint tokenizer's ids and truncation, RoBERTa's position limit and pad id,
// id2label matching, length-grouped batches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../src/core/random.js';
import { configureTransformers } from '../../../src/runtime/transformers.js';
import { LabelSet } from '../../../src/train/data/labels.js';
import { loadPretrainedEncoder } from '../../../src/train/pretrained/load.js';
import { encoderBatch, epochBatches, headLabels } from '../../../src/train/pretrained/finetune-data.js';
import { EncoderTokenizer, positionLimit } from '../../../src/train/pretrained/tokenize.js';
import { sharedDataPath } from '../../helpers/shared-data.js';
import { tinyBase } from './finetune-fixture.js';

test('the checkpoint tokenizer gives transformers.js ids; over the limit it truncates as inference does, and says so', async (t) => {
  const reference = sharedDataPath(t, 'reference-encoders', 'bert-cls');
  if (!reference) return;
  const base = tinyBase(reference);
  const tokenizer = await EncoderTokenizer.load(base, loadPretrainedEncoder(base).config);
  const hf = await configureTransformers().AutoTokenizer.from_pretrained(base, { local_files_only: true });
  const text = 'the film was really wonderful and the plot was great';
  const expected = Array.from((hf(text) as unknown as { input_ids: { data: BigInt64Array } }).input_ids.data, Number);
  assert.deepEqual(tokenizer.encode(text, 64), { ids: expected, truncated: false });
  const cut = tokenizer.encode(text, 6);
  assert.equal(cut.truncated, true);
  // Exactly what inference (src/tasks/encoder.ts) computes for the same text and maximum length.
  const inference = hf([text], { padding: true, truncation: true, max_length: 6 }) as unknown as { input_ids: { data: BigInt64Array } };
  assert.deepEqual(cut.ids, Array.from(inference.input_ids.data, Number));
  assert.equal(cut.ids.length, 6);
  assert.ok(tokenizer.files.has('tokenizer.json') && tokenizer.files.has('vocab.txt'));
});

test('RoBERTa: 66 positions hold 64 tokens, and batches pad with its pad id 1', (t) => {
  const reference = sharedDataPath(t, 'reference-encoders', 'roberta-cls');
  if (!reference) return;
  const config = loadPretrainedEncoder(reference).config;
  assert.equal(positionLimit(config), 64);
  const { features } = encoderBatch({ ids: [[0, 5, 2], [0, 2]], labels: [1, 0] }, [0, 1], config.padTokenId);
  assert.deepEqual(Array.from(features['input_ids']!.data as BigInt64Array, Number), [0, 5, 2, 0, 2, 1]);
  assert.deepEqual(Array.from(features['attention_mask']!.data as BigInt64Array, Number), [1, 1, 1, 1, 1, 0]);
});

test('labels: the base id2label order when the names match (any case), else the data labels with a new head', () => {
  const data = LabelSet.fromData(['positive', 'negative', 'positive'], 'd');
  assert.deepEqual(headLabels(data, ['NEGATIVE', 'POSITIVE']), { names: ['NEGATIVE', 'POSITIVE'], baseLabels: true });
  assert.deepEqual(headLabels(data, ['POSITIVE', 'NEGATIVE']), { names: ['POSITIVE', 'NEGATIVE'], baseLabels: true });
  assert.deepEqual(headLabels(data, ['NEGATIVE', 'NEUTRAL', 'POSITIVE']), { names: ['negative', 'positive'], baseLabels: false });
  assert.deepEqual(headLabels(LabelSet.fromData(['0', '1'], 'd'), ['LABEL_0', 'LABEL_1']), { names: ['0', '1'], baseLabels: false });
  assert.deepEqual(headLabels(data, undefined), { names: ['negative', 'positive'], baseLabels: false });
});

test('length-grouped batches cover every row once and pad less than shuffled ones', () => {
  const rng = new Rng(5);
  const ids = Array.from({ length: 400 }, () => Array.from({ length: 2 + Math.floor(rng.next() * 60) }, () => 7));
  const data = { ids, labels: ids.map(() => 0) };
  const padding = (batches: number[][]) => batches.reduce((sum, rows) => {
    const longest = Math.max(...rows.map((r) => ids[r]!.length));
    return sum + rows.reduce((s, r) => s + longest - ids[r]!.length, 0);
  }, 0);
  const grouped = epochBatches(data, 8, new Rng(1), true);
  const plain = epochBatches(data, 8, new Rng(1), false);
  for (const batches of [grouped, plain]) assert.deepEqual(batches.flat().sort((a, b) => a - b), ids.map((_, i) => i));
  assert.ok(padding(grouped) < padding(plain) / 3, `padding ${padding(grouped)} vs ${padding(plain)}`);
});
