// Corpus reading: tokenizers (Hangul kept whole, NFC), Gutenberg stripping, gzip, and the id store in memory or on disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { sharedDataPath } from '../helpers/shared-data.js';
import { GutenbergFilter, makeTokenizer, sentences, tokenize } from '../../src/words/corpus.js';
import { blocks, encodeCorpus, slices, type CorpusStore } from '../../src/words/encode.js';

const dir = mkdtempSync(join(tmpdir(), 'geul-corpus-'));

async function all(paths: string[], options = {}): Promise<string[][]> {
  const out: string[][] = [];
  for await (const s of sentences(paths, options)) out.push(s);
  return out;
}

test('tokenizers: Unicode words (Hangul whole, NFC, apostrophes), whitespace, custom patterns, case', () => {
  assert.deepEqual(tokenize('영화가 정말 재미있다! The END.'), ['영화가', '정말', '재미있다', 'the', 'end']);
  // Decomposed jamo (NFD) become the precomposed syllables.
  assert.deepEqual(tokenize('\u1112\u1161\u11ab\u1100\u1173\u11af'), ['한글']);
  assert.deepEqual(tokenize("Don't stop—it’s 2024, café_au_lait"), ["don't", 'stop', 'it’s', '2024', 'café', 'au', 'lait']);
  assert.deepEqual(makeTokenizer({ tokenizer: 'whitespace', lowercase: false })('  New-York,  is\tbig '), ['New-York,', 'is', 'big']);
  assert.deepEqual(makeTokenizer({ tokenizer: '[a-z]+' })('ab1cd'), ['ab', 'cd']);
  assert.throws(() => makeTokenizer({ tokenizer: '(' }), /bad tokenizer pattern/);
});

test('Gutenberg filter: header and footer dropped; files without markers kept whole', () => {
  const run = (lines: string[]) => {
    const f = new GutenbergFilter();
    return [...lines.flatMap((l) => f.push(l)), ...f.end()];
  };
  assert.deepEqual(run(['Title: X', '*** START OF THIS PROJECT GUTENBERG EBOOK X ***', 'Call me Ishmael.', 'End of the Project Gutenberg EBook of X', 'licence']), ['Call me Ishmael.']);
  assert.deepEqual(run(['*** START OF THE PROJECT GUTENBERG EBOOK X ***', 'text', '*** END OF THE PROJECT GUTENBERG EBOOK X ***', 'licence']), ['text']);
  assert.deepEqual(run(['just', 'text']), ['just', 'text']);
  const long = Array.from({ length: 1500 }, (_, i) => `line ${i}`);
  assert.deepEqual(run(long), long);
});

test('a real Gutenberg book loses its licence text', async (t) => {
  const book = sharedDataPath(t, 'gutenberg', '11-0.txt');
  if (!book) return;
  const stripped = (await all([book], { stripGutenberg: true })).flat();
  const raw = (await all([book])).flat();
  assert.ok(raw.includes('gutenberg') && !stripped.includes('gutenberg'));
  assert.deepEqual(stripped.slice(0, 4), ['alice’s', 'adventures', 'in', 'wonderland']);
});

test('corpus files: BOM, CRLF, gzip, missing files', async () => {
  writeFileSync(join(dir, 'a.txt'), '\uFEFFone two\r\n\r\nthree\r\n');
  writeFileSync(join(dir, 'b.txt.gz'), gzipSync('네 다섯\n'));
  assert.deepEqual(await all([join(dir, 'a.txt'), join(dir, 'b.txt.gz')]), [['one', 'two'], ['three'], ['네', '다섯']]);
  await assert.rejects(all([join(dir, 'nope.txt')]), /File not found/);
});

test('encoded ids: same blocks from memory and from the temporary file; thread slices end at sentence ends', async () => {
  const lines = Array.from({ length: 3000 }, (_, i) => Array.from({ length: 1 + (i % 7) }, (_, j) => `w${(i * 7 + j) % 50}`).join(' '));
  writeFileSync(join(dir, 'c.txt'), lines.join('\n'));
  const mem = await encodeCorpus([join(dir, 'c.txt')]);
  const disk = await encodeCorpus([join(dir, 'c.txt')], { memoryLimit: 1000 });
  try {
    assert.equal(mem.store.kind, 'memory');
    assert.equal(disk.store.kind, 'file');
    assert.equal(mem.words, lines.reduce((n, l) => n + l.split(' ').length, 0));
    assert.deepEqual(disk.tokens, mem.tokens);
    assert.deepEqual(disk.counts, mem.counts);
    // Drop every third word (as min_count would), renumber the rest.
    const remap = Int32Array.from(mem.tokens, (_, i) => (i % 3 === 0 ? -2 : i));
    const collect = (store: CorpusStore, parts: number) => slices(store, parts).flatMap(([s, e]) => Array.from(blocks(store, remap, s, e, 1 << 12), (b) => Array.from(b)).flat());
    const whole = collect(mem.store, 1);
    assert.equal(whole.filter((x) => x === -1).length, 3000);
    assert.ok(!whole.some((x) => x >= 0 && x % 3 === 0));
    for (const parts of [2, 3]) {
      assert.deepEqual(collect(mem.store, parts), whole);
      assert.deepEqual(collect(disk.store, parts), whole);
      for (const [s] of slices(disk.store, parts).slice(1)) assert.equal(mem.store.kind === 'memory' && mem.store.ids[s - 1], -1);
    }
  } finally {
    disk.dispose();
  }
});
