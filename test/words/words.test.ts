// Word vectors: file formats, gensim-style queries, evaluation numbers, and Word2Vec training behaviour.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isGeulError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/random.js';
import { readVectors, writeVectors } from '../../src/words/formats.js';
import { evaluateAnalogies, evaluateSimilarity, ranks, spearman } from '../../src/words/evaluate.js';
import { trainWord2Vec } from '../../src/words/train.js';
import { WordVectors } from '../../src/words/vectors.js';
import { tokenize } from '../../src/words/corpus.js';

const dir = mkdtempSync(join(tmpdir(), 'geul-words-'));
const fails = (code: string) => (err: unknown) => isGeulError(err) && err.code === code;

/** king − man + woman = queen by construction; fruit words elsewhere. */
function handMade(): WordVectors {
  const rows: Record<string, number[]> = {
    man: [1, 0, 0, 0], woman: [1, 1, 0, 0], king: [1, 0, 1, 0], queen: [1, 1, 1, 0],
    apple: [0, 0, 0, 1], banana: [0, 0.1, 0, 1], 사과: [0, 0, 0.1, 1],
  };
  const words = Object.keys(rows);
  return new WordVectors(words, 4, Float32Array.from(words.flatMap((w) => rows[w])));
}

test('binary and text files round-trip exactly, Korean words included', async () => {
  const v = handMade();
  for (const format of ['bin', 'txt'] as const) {
    const path = join(dir, `v.${format}`);
    await writeVectors(path, v, format);
    const back = await readVectors(path);
    assert.deepEqual(back.words, v.words);
    assert.deepEqual(Array.from(back.data), Array.from(v.data));
  }
  const fromTxt = await readVectors(join(dir, 'v.txt'));
  await writeVectors(join(dir, 'again.bin'), fromTxt, 'bin');
  assert.deepEqual(readFileSync(join(dir, 'again.bin')), readFileSync(join(dir, 'v.bin')));
  assert.equal((await readVectors(join(dir, 'v.bin'), { limit: 3 })).size, 3);
});

test('words with spaces survive the text format; the binary format refuses them', async () => {
  const v = new WordVectors(['new york', '서울 특별시'], 2, Float32Array.of(1, 2, 3, 4));
  await writeVectors(join(dir, 'spaces.txt'), v, 'txt');
  assert.deepEqual((await readVectors(join(dir, 'spaces.txt'))).words, ['new york', '서울 특별시']);
  await assert.rejects(writeVectors(join(dir, 'spaces.bin'), v, 'bin'), fails('INVALID_INPUT'));
});

test('GloVe (no header) and malformed files', async () => {
  writeFileSync(join(dir, 'glove.txt'), 'the 0.1 0.2\nof 0.3 0.4\n');
  const glove = await readVectors(join(dir, 'glove.txt'));
  assert.deepEqual(glove.words, ['the', 'of']);
  assert.equal(glove.dim, 2);
  writeFileSync(join(dir, 'count.txt'), '3 2\na 1 2\nb 3 4\n');
  await assert.rejects(readVectors(join(dir, 'count.txt')), fails('FILE_INVALID'));
  writeFileSync(join(dir, 'nan.txt'), '1 2\na NaN 2\n');
  await assert.rejects(readVectors(join(dir, 'nan.txt')), fails('FILE_INVALID'));
  writeFileSync(join(dir, 'short.txt'), '1 3\na 1 2\n');
  await assert.rejects(readVectors(join(dir, 'short.txt')), fails('FILE_INVALID'));
  const full = readFileSync(join(dir, 'v.bin'));
  writeFileSync(join(dir, 'cut.bin'), full.subarray(0, full.length - 5));
  await assert.rejects(readVectors(join(dir, 'cut.bin')), fails('FILE_INVALID'));
  await assert.rejects(readVectors(join(dir, 'missing.bin')), fails('FILE_NOT_FOUND'));
});

test('queries follow gensim: most_similar, analogies (add and mul), similarity, doesnt_match', () => {
  const v = handMade();
  assert.equal(v.analogy('man', 'king', 'woman', { topn: 1 })[0].word, 'queen');
  assert.equal(v.analogy('man', 'king', 'woman', { method: 'mul', topn: 1 })[0].word, 'queen');
  assert.equal(v.mostSimilar({ positive: ['apple'], topn: 2 }).map((s) => s.word).includes('apple'), false);
  assert.ok(Math.abs(v.similarity('apple', 'apple') - 1) < 1e-6);
  assert.equal(v.doesntMatch(['apple', 'banana', '사과', 'king']), 'king');
  assert.equal(v.nearest([0, 0, 0, 1], 1)[0].word, 'apple');
  assert.throws(() => v.mostSimilar({ positive: ['pear'] }), (err: unknown) => isGeulError(err) && err.code === 'UNKNOWN_WORD' && /pear/.test(err.message));
  assert.throws(() => v.similarity('King', 'queen'), (err: unknown) => isGeulError(err) && err.message === 'Word "King" is not in the vocabulary (but "king" is; words are case-sensitive)');
  assert.throws(() => v.doesntMatch(['apple', '배']), (err: unknown) => isGeulError(err) && err.message === 'Word "배" is not in the vocabulary');
});

test('a query-only set (raw vectors released) answers the same; its raw vectors are gone with a clear error', () => {
  const full = handMade();
  const before = full.analogy('man', 'king', 'woman', { topn: 3 });
  const light = handMade().releaseRaw();
  assert.deepEqual(light.analogy('man', 'king', 'woman', { topn: 3 }), before);
  assert.equal(light.similarity('apple', 'banana'), full.similarity('apple', 'banana'));
  assert.throws(() => light.vector('king'), fails('INVALID_INPUT'));
});

test('analogy evaluation: sections, case-insensitivity, skipped questions, restrict_vocab', async () => {
  writeFileSync(join(dir, 'q.txt'), ': royals\nMan King Woman Queen\nman king woman apple\n: fruit\napple banana man pear\n');
  const report = await evaluateAnalogies(handMade(), join(dir, 'q.txt'));
  assert.deepEqual(report.sections.royals, { correct: 1, incorrect: 1, accuracy: 0.5 });
  assert.equal(report.skipped, 1);
  assert.equal(report.accuracy, 0.5);
  const restricted = await evaluateAnalogies(handMade(), join(dir, 'q.txt'), { restrictVocab: 3 });
  assert.equal(restricted.total, 0);
});

test('Spearman with tied ranks; similarity evaluation reports OOV', async () => {
  assert.deepEqual(ranks([10, 20, 20, 30]), [1, 2.5, 2.5, 4]);
  assert.ok(Math.abs(spearman([1, 2, 3, 4], [10, 20, 30, 40]) - 1) < 1e-12);
  assert.ok(Math.abs(spearman([1, 2, 3, 4], [4, 3, 2, 1]) + 1) < 1e-12);
  writeFileSync(join(dir, 'sim.txt'), 'king\tqueen\t9\nking\tapple\t1\napple\tbanana\t8\nking\tunicorn\t5\n');
  const r = await evaluateSimilarity(handMade(), join(dir, 'sim.txt'));
  assert.equal(r.pairs, 3);
  assert.equal(r.oov, 0.25);
  assert.ok(r.spearman > 0.4);
});

test('tokenisation keeps Hangul words whole', () => {
  assert.deepEqual(tokenize('영화가 정말 재미있다! The END.'), ['영화가', '정말', '재미있다', 'the', 'end']);
});

/** Two topics that never share a sentence: words of one topic must end up closer to each other. */
function syntheticCorpus(): string {
  const animals = ['cat', 'dog', 'horse', 'cow'];
  const tools = ['hammer', 'saw', 'drill', 'wrench'];
  const lines: string[] = [];
  const rng = new Rng(7);
  const pick = (xs: string[]) => xs[rng.int(xs.length)];
  for (let i = 0; i < 1500; i++) {
    const topic = i % 2 ? animals : tools;
    lines.push(Array.from({ length: 8 }, () => pick(topic)).join(' '));
  }
  return lines.join('\n');
}

test('training puts related words closer than unrelated ones (skip-gram/NS and CBOW/HS); one thread is reproducible', async () => {
  const corpus = join(dir, 'corpus.txt');
  writeFileSync(corpus, syntheticCorpus());
  const base = { vectorSize: 20, window: 3, minCount: 1, epochs: 3, sample: 0, threads: 1, seed: 3 };
  for (const options of [{ ...base }, { ...base, sg: false, hs: true, negative: 0 }]) {
    const v = await trainWord2Vec([corpus], options);
    assert.ok(v.similarity('cat', 'dog') > v.similarity('cat', 'hammer') + 0.2, JSON.stringify(options));
    assert.ok(v.similarity('saw', 'drill') > v.similarity('saw', 'horse') + 0.2, JSON.stringify(options));
  }
  const a = await trainWord2Vec([corpus], base);
  const b = await trainWord2Vec([corpus], base);
  assert.deepEqual(Buffer.from(a.data.buffer), Buffer.from(b.data.buffer));
  const threaded = await trainWord2Vec([corpus], { ...base, threads: 2 });
  assert.ok(threaded.similarity('cat', 'dog') > threaded.similarity('cat', 'hammer'));
});

test('the library API of the README: readVectors, then mostSimilar/analogy/similarity/doesntMatch', async () => {
  const geul = await import('../../src/index.js');
  await geul.writeVectors(join(dir, 'readme.bin'), handMade(), 'bin');
  const vectors = await geul.readVectors(join(dir, 'readme.bin'), { limit: 400_000 });
  assert.equal(vectors.mostSimilar({ positive: ['king'], topn: 3 }).length, 3);
  assert.equal(vectors.analogy('man', 'king', 'woman', { method: 'mul' })[0].word, 'queen');
  assert.ok(vectors.similarity('apple', 'banana') > 0.9);
  assert.equal(vectors.doesntMatch(['apple', 'banana', '사과', 'queen']), 'queen');
});
