// Run data preparation: held-out split, vocabulary from training rows only, label names, streaming = in-memory, errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareTextData, type TextDataOptions } from '../../src/train/text-data.js';
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
  assert.ok(d.vocab.ids.has('좋아요') && d.vocab.ids.has('rare'));
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
