// Masked-LM data: packing, the held-out split by document, 15 % / 80-10-10 masking, whole words, reproducibility.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isGeulError } from '../../../src/core/errors.js';
import { SAMPLE_CORPUS } from '../../../src/fixtures/sample-corpus.js';
import { readCorpus } from '../../../src/train/pretrained/mlm-corpus.js';
import { BatchOrder, buildMlmCorpus, maskBatch, packSequences, stepRng } from '../../../src/train/pretrained/mlm-data.js';
import { IGNORED_LABEL } from '../../../src/train/pretrained/mlm-loss.js';
import { loadMlmTokenizer, type MlmTokenizer } from '../../../src/train/pretrained/mlm-tokenizer.js';
import { trainWordpieceTokenizer, wordpieceTokenizerFiles } from '../../../src/train/pretrained/wordpiece-files.js';

const TEXTS = [...SAMPLE_CORPUS.en, ...SAMPLE_CORPUS.ko, ...SAMPLE_CORPUS.fr, ...SAMPLE_CORPUS.de];
/** Distinct documents (numbered), so the held-out split by hash has many to choose from. */
const DOCS = Array.from({ length: 400 }, (_, i) => `${TEXTS[i % TEXTS.length]} number ${i}`);
let dir: string;
let tokenizer: MlmTokenizer;

async function* from(texts: readonly string[]): AsyncGenerator<string> {
  for (const t of texts) yield t;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'geul-mlm-data-'));
  const vocab = await trainWordpieceTokenizer(from(TEXTS), { vocabSize: 300 });
  for (const [name, text] of Object.entries(wordpieceTokenizerFiles(vocab, {}, 64))) writeFileSync(join(dir, name), text);
  tokenizer = await loadMlmTokenizer(dir);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('the tokenizer wrapper finds the BERT specials and the ## continuation pieces', () => {
  assert.deepEqual([tokenizer.pad, tokenizer.cls, tokenizer.sep, tokenizer.mask], [0, 2, 3, 4]);
  assert.deepEqual([...tokenizer.special].sort(), [0, 1, 2, 3, 4]);
  assert.ok(tokenizer.continuation && tokenizer.continuation.some((c) => c === 1));
});

test('packing: [CLS] body [SEP] rows whose bodies concatenate back to the stream, the last row padded', () => {
  const stream = Int32Array.from({ length: 23 }, (_, i) => 10 + i);
  const packed = packSequences(stream, 8, tokenizer);
  assert.equal(packed.count, 4);
  const bodies: number[] = [];
  for (let s = 0; s < packed.count; s++) {
    const row = [...packed.ids.subarray(s * 8, (s + 1) * 8)];
    const len = packed.lengths[s];
    assert.equal(row[0], tokenizer.cls);
    assert.equal(row[len - 1], tokenizer.sep);
    assert.ok(row.slice(len).every((id) => id === tokenizer.pad));
    bodies.push(...row.slice(1, len - 1));
  }
  assert.deepEqual(bodies, [...stream]);
  assert.throws(() => packSequences(stream, 2, tokenizer), (err) => isGeulError(err) && err.code === 'INVALID_INPUT');
});

test('the held-out slice is chosen by document, the same whatever the order, and documents are joined by [SEP]', async () => {
  const a = await buildMlmCorpus(from(DOCS), tokenizer, { maxLength: 32, heldOutFraction: 0.1 });
  const b = await buildMlmCorpus(from([...DOCS].reverse()), tokenizer, { maxLength: 32, heldOutFraction: 0.1 });
  assert.equal(a.documents.train + a.documents.heldOut, DOCS.length);
  assert.ok(a.documents.heldOut > 10 && a.documents.heldOut < 80, `${a.documents.heldOut} held out`);
  assert.deepEqual(a.documents, b.documents);
  assert.deepEqual(a.tokens, b.tokens);
  const encodedTotal = DOCS.reduce((n, d) => n + tokenizer.encode(d).length, 0);
  assert.equal(a.tokens.train + a.tokens.heldOut, encodedTotal);
  // Separators between documents: (documents − 1) [SEP]s inside the bodies of each side.
  let inner = 0;
  for (let s = 0; s < a.train.count; s++) {
    const row = a.train.ids.subarray(s * 32, s * 32 + a.train.lengths[s] - 1);
    for (let i = 1; i < row.length; i++) if (row[i] === tokenizer.sep) inner++;
  }
  assert.equal(inner, a.documents.train - 1);
});

test('masking chooses ≈15 % of ordinary tokens, never specials, and replaces them 80/10/10', async () => {
  const corpus = await buildMlmCorpus(from(DOCS), tokenizer, { maxLength: 64, heldOutFraction: 0 });
  const rows = Array.from({ length: corpus.train.count }, (_, i) => i);
  let eligible = 0;
  let chosen = 0;
  let masked = 0;
  let random = 0;
  let kept = 0;
  for (let round = 0; round < 20; round++) {
    const batch = maskBatch(corpus.train, rows, tokenizer, stepRng(7, round));
    for (let b = 0; b < batch.batch; b++) {
      const r = rows[b];
      for (let i = 0; i < batch.seq; i++) {
        const at = b * batch.seq + i;
        const original = i < corpus.train.lengths[r] ? corpus.train.ids[r * corpus.train.length + i] : tokenizer.pad;
        const label = Number(batch.labels[at]);
        assert.equal(Number(batch.attentionMask[at]), i < corpus.train.lengths[r] ? 1 : 0);
        if (tokenizer.special.has(original)) {
          assert.equal(label, IGNORED_LABEL);
          assert.equal(Number(batch.inputIds[at]), original);
          continue;
        }
        eligible++;
        if (label === IGNORED_LABEL) {
          assert.equal(Number(batch.inputIds[at]), original);
          continue;
        }
        assert.equal(label, original);
        chosen++;
        const input = Number(batch.inputIds[at]);
        if (input === tokenizer.mask) masked++;
        else if (input === original) kept++;
        else {
          random++;
          assert.ok(!tokenizer.special.has(input) && input < tokenizer.vocabSize);
        }
      }
    }
  }
  assert.ok(eligible > 50_000, `${eligible} eligible tokens`);
  assert.ok(Math.abs(chosen / eligible - 0.15) < 0.01, `chosen ${chosen / eligible}`);
  assert.ok(Math.abs(masked / chosen - 0.8) < 0.015, `[MASK] ${masked / chosen}`);
  // A random draw can hit the original token (1 / vocab): it then counts as kept.
  assert.ok(Math.abs(random / chosen - 0.1) < 0.015, `random ${random / chosen}`);
  assert.ok(Math.abs(kept / chosen - 0.1) < 0.015, `kept ${kept / chosen}`);
});

test('whole-word masking chooses every ## piece of a chosen word, and words are chosen at ≈15 %', async () => {
  const corpus = await buildMlmCorpus(from(DOCS), tokenizer, { maxLength: 64, heldOutFraction: 0 });
  const rows = Array.from({ length: corpus.train.count }, (_, i) => i);
  const cont = tokenizer.continuation!;
  let words = 0;
  let chosenWords = 0;
  let splitWordsChosen = 0;
  for (let round = 0; round < 10; round++) {
    const batch = maskBatch(corpus.train, rows, tokenizer, stepRng(3, round), { wholeWord: true });
    for (let b = 0; b < batch.batch; b++) {
      const r = rows[b];
      const ids = corpus.train.ids.subarray(r * 64, r * 64 + corpus.train.lengths[r]);
      for (let i = 0; i < ids.length; i++) {
        if (tokenizer.special.has(ids[i]) || (cont[ids[i]] && !tokenizer.special.has(ids[i - 1]))) continue;
        let end = i + 1;
        while (end < ids.length && cont[ids[end]] && !tokenizer.special.has(ids[end])) end++;
        const flags = Array.from({ length: end - i }, (_, k) => Number(batch.labels[b * batch.seq + i + k]) !== IGNORED_LABEL);
        words++;
        if (flags[0]) chosenWords++;
        if (end - i > 1 && flags[0]) splitWordsChosen++;
        assert.ok(flags.every((f) => f === flags[0]), `a word is chosen whole or not at all (row ${r}, position ${i})`);
      }
    }
  }
  assert.ok(splitWordsChosen > 100, `${splitWordsChosen} multi-piece words chosen`);
  assert.ok(Math.abs(chosenWords / words - 0.15) < 0.015, `words chosen ${chosenWords / words}`);
});

test('a batch is a function of (seed, step): the same again, another for the next step; epochs visit every row once', async () => {
  const corpus = await buildMlmCorpus(from(DOCS), tokenizer, { maxLength: 32, heldOutFraction: 0 });
  const order = new BatchOrder(corpus.train.count, 8, 11);
  const rows = order.rows(5);
  assert.deepEqual(new BatchOrder(corpus.train.count, 8, 11).rows(5), rows);
  const one = maskBatch(corpus.train, rows, tokenizer, stepRng(11, 5));
  const again = maskBatch(corpus.train, rows, tokenizer, stepRng(11, 5));
  const next = maskBatch(corpus.train, rows, tokenizer, stepRng(11, 6));
  assert.deepEqual(again.inputIds, one.inputIds);
  assert.deepEqual(again.labels, one.labels);
  assert.notDeepEqual(next.labels, one.labels);
  const steps = Math.ceil(corpus.train.count / 8) * 2;
  const seen = new Map<number, number>();
  for (let s = 0; s < steps; s++) for (const r of order.rows(s)) seen.set(r, (seen.get(r) ?? 0) + 1);
  for (let r = 0; r < corpus.train.count; r++) assert.ok((seen.get(r) ?? 0) >= 2, `row ${r} seen ${seen.get(r)} times`);
  // Every row gets at least one prediction target, even a short one.
  const short = packSequences(Int32Array.of(tokenizer.encode('hello')[0]), 8, tokenizer);
  assert.equal(maskBatch(short, [0], tokenizer, stepRng(1, 0)).predicted, 1);
});

test('the corpus reader: lines, paragraphs, whole files, JSONL text columns and folders', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'geul-corpus-'));
  try {
    writeFileSync(join(folder, 'a.txt'), 'first line\nsecond line\n\nthird, after a blank\n');
    writeFileSync(join(folder, 'b.jsonl'), `${JSON.stringify({ text: 'from json', label: 1 })}\n${JSON.stringify({ text: '  ', label: 0 })}\n`);
    writeFileSync(join(folder, 'notes.bin'), 'skipped in folders');
    const read = async (options: Parameters<typeof readCorpus>[1]) => {
      const out: string[] = [];
      for await (const d of readCorpus([folder], options)) out.push(d);
      return out;
    };
    assert.deepEqual(await read({}), ['first line', 'second line', 'third, after a blank', 'from json']);
    assert.deepEqual(await read({ documents: 'paragraph' }), ['first line\nsecond line', 'third, after a blank', 'from json']);
    assert.deepEqual(await read({ documents: 'file' }), ['first line\nsecond line\n\nthird, after a blank', 'from json']);
    await assert.rejects(read({ text: 'body' }), (err) => isGeulError(err) && err.code === 'DATA_COLUMN_MISSING');
    const direct = readCorpus([join(folder, 'notes.bin')]);
    await assert.rejects(direct.next(), (err) => isGeulError(err) && err.code === 'FILE_INVALID');
    await assert.rejects(readCorpus([join(folder, 'missing.txt')]).next(), (err) => isGeulError(err) && err.code === 'FILE_NOT_FOUND');
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
