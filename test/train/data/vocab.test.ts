// Vocabulary, label sets and splits: Hangul-safe tokenisation that transformers.js reproduces, stable label order, seeded splits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tokenize, WordCounter, WordVocab } from '../../../src/train/data/vocab.js';
import { LabelSet, sortLabels } from '../../../src/train/data/labels.js';
import { stratifiedMask, stratifiedSplit, shuffled } from '../../../src/train/data/split.js';
import { configureTransformers } from '../../../src/runtime/transformers.js';
import { isGeulError } from '../../../src/core/errors.js';

const SAMPLES = [
  '이 영화 정말 재미있어요!! 최고의 배우들.',
  'Un café très "chaud", n\'est-ce pas?',
  'GREAT film :) 10/10 — would   watch again…',
  'Ｆｕｌｌ-width ＡＢＣ and 中文字符 mixed with ㅋㅋㅋ',
  '한국어\u1100\u1161 decomposed jamo: \u1112\u1161\u11AB\u1100\u1173\u11AF',
];

test('tokenize keeps Hangul words whole and splits punctuation runs', () => {
  assert.deepEqual(tokenize('이 영화 정말 재미있어요!! 최고의 배우들.'), ['이', '영화', '정말', '재미있어요', '!!', '최고의', '배우들', '.']);
  assert.deepEqual(tokenize("Un café, n'est-ce pas?"), ['un', 'café', ',', 'n', "'", 'est', '-', 'ce', 'pas', '?']);
  assert.deepEqual(tokenize('NFD: \u1112\u1161\u11AB'), ['nfd', ':', '한']);
  assert.deepEqual(tokenize('Keep CASE', { lowercase: false }), ['Keep', 'CASE']);
});

test('vocabulary: [PAD] [UNK] first, frequency order with code-point ties, max size and min count', () => {
  const v = WordVocab.build(['b a a', 'c b a', 'd'], { maxSize: 5 });
  assert.deepEqual(v.words, ['[PAD]', '[UNK]', 'a', 'b', 'c']);
  assert.deepEqual(v.encode('a d zzz b', 10), [2, 1, 1, 3]);
  assert.deepEqual(v.encode('', 10), [1]);
  assert.deepEqual(v.encode('a b c', 2), [2, 3]);
  const counter = new WordCounter();
  for (const t of ['b a a', 'c b a', 'd']) counter.add(t);
  assert.deepEqual(counter.vocab({ minCount: 2 }).words, ['[PAD]', '[UNK]', 'a', 'b']);
  assert.throws(() => counter.vocab({ maxSize: 2 }), (err) => isGeulError(err) && err.code === 'INVALID_INPUT');
});

test('tokenizer.json: transformers.js gives the same ids as WordVocab.encode (Korean, accents, full-width, NFD)', async () => {
  const vocab = WordVocab.build(SAMPLES.slice(0, 3));
  const dir = mkdtempSync(join(tmpdir(), 'geul-vocab-'));
  try {
    for (const [name, text] of Object.entries(vocab.tokenizerFiles(64))) writeFileSync(join(dir, name), text);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'bert' }));
    const hf = configureTransformers();
    const tokenizer = await hf.AutoTokenizer.from_pretrained(dir, { local_files_only: true });
    for (const text of SAMPLES) {
      const ids = Array.from((tokenizer(text) as { input_ids: { data: BigInt64Array } }).input_ids.data, Number);
      assert.deepEqual(ids, vocab.encode(text, 64), text);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('labels: numeric order for numbers, code points otherwise; names map by name, case, or integer index', () => {
  assert.deepEqual(sortLabels(['10', '2', '1', '2']), ['1', '2', '10']);
  assert.deepEqual(sortLabels(['pos', 'neg', 'Neutral']), ['Neutral', 'neg', 'pos']);
  const named = LabelSet.fromData(['0', '1', '1'], 'd.tsv', ['negative', 'positive']);
  assert.deepEqual([named.index('0', ''), named.index('1', ''), named.index('POSITIVE', '')], [0, 1, 1]);
  assert.throws(() => named.index('2', 'line 9'), (err) => isGeulError(err) && err.code === 'DATA_LABEL_UNKNOWN' && /"2" in d\.tsv line 9 .*negative, positive/.test(err.message));
  const numeric = new LabelSet(['1', '2', '3']);
  assert.equal(numeric.lookup('0'), undefined, 'integer names are matched by name only');
  assert.throws(() => LabelSet.fromData(['pos', 'pos'], 'one.jsonl'), (err) => isGeulError(err) && err.code === 'DATA_ONE_CLASS' && /"pos"/.test(err.message));
  assert.throws(() => LabelSet.fromData(['0', '1', 'spam'], 'x.csv', ['neg', 'pos']), /"spam"/);
});

test('stratified split: per-label fraction, seeded, disjoint and complete', () => {
  const rows = Array.from({ length: 103 }, (_, i) => ({ id: i, label: i % 10 < 7 ? 'a' : 'b' }));
  const { train, valid } = stratifiedSplit(rows, 0.2, 7);
  assert.equal(train.length + valid.length, rows.length);
  assert.equal(new Set([...train, ...valid].map((r) => r.id)).size, rows.length);
  const count = (xs: typeof rows, l: string) => xs.filter((r) => r.label === l).length;
  assert.equal(count(valid, 'a'), Math.round(count(rows, 'a') * 0.2));
  assert.equal(count(valid, 'b'), Math.round(count(rows, 'b') * 0.2));
  assert.deepEqual(stratifiedSplit(rows, 0.2, 7), { train, valid });
  assert.notDeepEqual(stratifiedMask(rows.map((r) => r.label), 0.2, 8), stratifiedMask(rows.map((r) => r.label), 0.2, 7));
  assert.deepEqual(shuffled([1, 2, 3, 4, 5], 3), shuffled([1, 2, 3, 4, 5], 3));
});
