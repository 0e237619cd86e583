// Run data preparation: held-out split, vocabulary from training rows only, label names, streaming = in-memory, errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareTextData, type TextDataOptions, type WordVocab } from '../../src/train/text-data.js';
import { isGeulError } from '../../src/core/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'geul-textdata-'));
process.once('exit', () => rmSync(dir, { recursive: true, force: true }));

function file(name: string, rows: [string, string | number][]): string {
  const path = join(dir, name);
  writeFileSync(path, rows.map(([text, label]) => JSON.stringify({ text, label })).join('\n'));
  return path;
}

const rows: [string, number][] = Array.from({ length: 50 }, (_, i) => [`word${i} ${i % 5 === 0 ? 'rare' : 'common'} 좋아요`, i % 5 === 0 ? 1 : 0]);
const base = (extra: Partial<TextDataOptions> = {}): TextDataOptions => ({ data: file('d.jsonl', rows), text: 'text', label: 'label', seed: 4, maxLength: 8, vocabSize: 1000, ...extra });

test('held-out split is stratified and the vocabulary comes from the training rows only', async () => {
  const d = await prepareTextData(base());
  assert.deepEqual(d.labels, ['0', '1']);
  assert.equal(d.train.ids.length, 40);
  assert.equal(d.valid.ids.length, 10);
  assert.deepEqual([d.valid.labels.filter((l) => l === 1).length, d.train.labels.filter((l) => l === 1).length], [2, 8]);
  const validWords = new Set(d.valid.ids.flat());
  assert.ok(validWords.has(1), 'validation rows contain words unseen in training ([UNK])');
  const words = (d.vocab as WordVocab).ids;
  assert.ok(words.has('좋아요') && words.has('rare'));
  assert.equal(d.vocab.size, 2 + 40 + 3);
});

test('streaming (no memory budget) gives exactly the in-memory result', async () => {
  const a = await prepareTextData(base());
  const b = await prepareTextData(base({ memoryBudget: 0 }));
  assert.deepEqual(b, a);
});

test('--labels names the classes; a validation label outside them names its line; one class is an error', async () => {
  const valid = file('v.jsonl', [['ok', 0], ['fine', 1], ['odd', 7]]);
  await assert.rejects(prepareTextData(base({ valid, labels: ['neg', 'pos'] })), (err) => {
    assert.ok(isGeulError(err));
    assert.equal(err.code, 'DATA_LABEL_UNKNOWN');
    assert.match(err.message, /"7" in .*v\.jsonl line 3 .*neg, pos/);
    return true;
  });
  const named = await prepareTextData(base({ valid: file('v2.jsonl', [['ok', 0], ['fine', 'pos']]), labels: ['neg', 'pos'] }));
  assert.deepEqual(named.labels, ['neg', 'pos']);
  assert.deepEqual(named.valid.labels, [0, 1]);
  await assert.rejects(prepareTextData(base({ data: file('one.jsonl', [['a', 'x'], ['b', 'x']]) })), (err) => isGeulError(err) && err.code === 'DATA_ONE_CLASS');
});

test('resume: a saved vocabulary and label order are used as they are', async () => {
  const d = await prepareTextData(base(), { words: ['[PAD]', '[UNK]', 'common'], labels: ['1', '0'] });
  assert.equal(d.vocab.size, 3);
  assert.deepEqual(d.labels, ['1', '0']);
  assert.equal(d.train.labels.filter((l) => l === 0).length, 8);
});

test('a named pretrained tokenizer replaces the word vocabulary and is exported with the run', async () => {
  const { fixturesDir } = await import('../helpers/fixtures.js');
  const { configureTransformers } = await import('../../src/runtime/transformers.js');
  const source = join(await fixturesDir(), 'tiny-bert-sentiment');
  const d = await prepareTextData(base({ tokenizer: source, valid: file('v3.jsonl', [['정말 좋아요 film', 1], ['bad', 0]]) }));
  const hf = configureTransformers();
  const tokenizer = await hf.AutoTokenizer.from_pretrained(source, { local_files_only: true });
  const expected = Array.from((tokenizer('정말 좋아요 film', { truncation: true, max_length: 8 }) as unknown as { input_ids: { data: BigInt64Array } }).input_ids.data, Number);
  assert.deepEqual(d.valid.ids[0], expected);
  assert.ok(d.vocab.size > Math.max(...d.train.ids.flat()));
  assert.deepEqual(d.vocab.toJSON(), { tokenizer: source });
  const files = d.vocab.tokenizerFiles(8);
  assert.ok(files['tokenizer.json'].includes('WordPiece'));
  assert.equal(JSON.parse(files['tokenizer_config.json']).model_max_length, 8);
  const resumed = await prepareTextData(base(), { tokenizer: source, labels: ['0', '1'] });
  assert.equal(resumed.vocab.size, d.vocab.size);
});
