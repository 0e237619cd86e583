// Vector files: word2vec binary/text round trips (UTF-8, spaces), GloVe, fastText .vec, gzip, --limit, malformed files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { isGeulError } from '../../src/core/errors.js';
import { detectFormat, formatFloat, readVectors, writeVectors } from '../../src/words/formats.js';
import { parseHubVectors } from '../../src/words/source.js';
import { WordVectors } from '../../src/words/vectors.js';

const dir = mkdtempSync(join(tmpdir(), 'geul-formats-'));
const fails = (code: string, detail?: RegExp) => (err: unknown) => isGeulError(err) && err.code === code && (!detail || detail.test(err.message));

function sample(): WordVectors {
  const words = ['the', '사과', 'Ünïcödé', '東京', 'x'];
  const data = Float32Array.from({ length: words.length * 3 }, (_, i) => Math.fround(Math.sin(i + 1) * 10 ** ((i % 7) - 3)));
  return new WordVectors(words, 3, data);
}

test('bin ↔ txt round trips are exact (UTF-8 words, Korean); a file written by geul reads back identically', async () => {
  const v = sample();
  await writeVectors(join(dir, 'a.bin'), v, 'bin');
  await writeVectors(join(dir, 'a.txt'), v, 'txt');
  for (const file of ['a.bin', 'a.txt']) {
    const back = await readVectors(join(dir, file));
    assert.deepEqual(back.words, v.words, file);
    assert.deepEqual(Array.from(back.data), Array.from(v.data), file);
  }
  // txt → bin and bin → txt give the same bytes as writing directly.
  await writeVectors(join(dir, 'b.bin'), await readVectors(join(dir, 'a.txt')), 'bin');
  await writeVectors(join(dir, 'b.txt'), await readVectors(join(dir, 'a.bin')), 'txt');
  assert.deepEqual(readFileSync(join(dir, 'b.bin')), readFileSync(join(dir, 'a.bin')));
  assert.equal(readFileSync(join(dir, 'b.txt'), 'utf8'), readFileSync(join(dir, 'a.txt'), 'utf8'));
  // gensim's layout: header, then "word " + 12 float bytes, no newline between vectors.
  const bin = readFileSync(join(dir, 'a.bin'));
  assert.equal(bin.subarray(0, 4).toString(), '5 3\n');
  assert.equal(bin.subarray(4, 8).toString(), 'the ');
  assert.equal(bin.length, 4 + v.words.reduce((n, w) => n + Buffer.byteLength(w) + 1 + 12, 0));
  assert.match(readFileSync(join(dir, 'a.txt'), 'utf8').split('\n')[2], /^사과 -?[\d.e-]+ -?[\d.e-]+ -?[\d.e-]+$/);
});

test('shortest float text reads back as the same float32', () => {
  for (const x of [0, 1, -0.5, 0.1, 1e-7, 3.4e38, Math.fround(0.123456789), Math.fround(-7.654321e-5)]) {
    const v = Math.fround(x);
    assert.equal(Math.fround(Number(formatFloat(v))), v);
  }
  assert.equal(formatFloat(Math.fround(0.5)), '0.5');
});

test('words with spaces: kept by the text format, refused or replaced for binary', async () => {
  const v = new WordVectors(['new york', '서울 특별시', 'a'], 2, Float32Array.of(1, 2, 3, 4, 5, 6));
  await writeVectors(join(dir, 'spaces.txt'), v, 'txt');
  assert.deepEqual((await readVectors(join(dir, 'spaces.txt'))).words, ['new york', '서울 특별시', 'a']);
  await assert.rejects(writeVectors(join(dir, 'spaces.bin'), v, 'bin'), fails('INVALID_INPUT', /new york/));
  await writeVectors(join(dir, 'spaces.bin'), v, 'bin', { replaceSpaces: '_' });
  assert.deepEqual((await readVectors(join(dir, 'spaces.bin'))).words, ['new_york', '서울_특별시', 'a']);
  await assert.rejects(writeVectors(join(dir, 'nl.txt'), new WordVectors(['a\nb'], 1, Float32Array.of(1)), 'txt'), fails('INVALID_INPUT'));
});

test('GloVe (no header), fastText .vec (trailing spaces), CRLF, gzip and --limit', async () => {
  writeFileSync(join(dir, 'glove.txt'), 'the 0.1 0.2\nof 0.3 0.4\nand -1 2e-3\n');
  const glove = await readVectors(join(dir, 'glove.txt'));
  assert.deepEqual([glove.words, glove.dim, Array.from(glove.data)], [['the', 'of', 'and'], 2, [0.1, 0.2, 0.3, 0.4, -1, 2e-3].map(Math.fround)]);
  assert.equal(await detectFormat(join(dir, 'glove.txt')), 'glove');
  writeFileSync(join(dir, 'ft.vec'), '2 3\r\n, 0.1 0.2 0.3 \r\n한국 1 2 3 \r\n');
  const ft = await readVectors(join(dir, 'ft.vec'));
  assert.deepEqual([ft.words, ft.dim], [[',', '한국'], 3]);
  await writeVectors(join(dir, 'v.bin'), sample(), 'bin');
  writeFileSync(join(dir, 'v.bin.gz'), gzipSync(readFileSync(join(dir, 'v.bin'))));
  writeFileSync(join(dir, 'glove.txt.gz'), gzipSync(readFileSync(join(dir, 'glove.txt'))));
  assert.deepEqual((await readVectors(join(dir, 'v.bin.gz'))).words, sample().words);
  assert.deepEqual((await readVectors(join(dir, 'glove.txt.gz'))).words, ['the', 'of', 'and']);
  assert.deepEqual((await readVectors(join(dir, 'v.bin'), { limit: 2 })).words, ['the', '사과']);
  assert.deepEqual((await readVectors(join(dir, 'glove.txt'), { limit: 1 })).words, ['the']);
  let last = 0;
  await readVectors(join(dir, 'v.bin'), { onProgress: (read, total) => { last = read; assert.equal(total, readFileSync(join(dir, 'v.bin')).length); } });
  assert.equal(last, readFileSync(join(dir, 'v.bin')).length);
});

test('malformed files fail with FILE_INVALID naming the problem', async () => {
  const cases: [string, string | Buffer, RegExp][] = [
    ['count-low.txt', '3 2\na 1 2\nb 3 4\n', /announces 3 words but the file has 2/],
    ['count-high.txt', '1 2\na 1 2\nb 3 4\n', /announces 1 words/],
    ['nan.txt', '1 2\na NaN 2\n', /bad value "NaN"/],
    ['inf.txt', '1 2\na inf 2\n', /bad value/],
    ['short.txt', '1 3\na 1 2\n', /has 2 values, expected 3/],
    ['long.txt', '1 2\na 1 2 3\n', /has 3 values, expected 2/],
    ['double-space.txt', '1 2\na 1  2\n', /line 2 has 3 values, expected 2/],
    ['header.txt', '1 2 3\na 1 2\n', /"<words> <dimensions>"/],
    ['empty.bin', '', /empty file/],
    ['fasttext.bin', Buffer.from(Int32Array.of(793712314, 12).buffer), /fastText model/],
  ];
  const full = readFileSync(join(dir, 'v.bin'));
  cases.push(['cut.bin', full.subarray(0, full.length - 5), /truncated: 4 of 5/]);
  const nan = Buffer.from(full);
  nan.writeFloatLE(NaN, full.indexOf(' ', 4) + 1);
  cases.push(['nan.bin', nan, /"the" \(number 1\) has a non-finite value/]);
  for (const [name, content, detail] of cases) {
    writeFileSync(join(dir, name), content);
    const format = name === 'header.txt' ? 'txt' : name.endsWith('.bin') && name !== 'fasttext.bin' ? 'bin' : 'auto';
    await assert.rejects(readVectors(join(dir, name), { format }), fails('FILE_INVALID', detail), name);
  }
  await assert.rejects(readVectors(join(dir, 'missing.bin')), fails('FILE_NOT_FOUND'));
  await assert.rejects(readVectors(dir), fails('FILE_INVALID', /folder/));
  writeFileSync(join(dir, 'bad.gz'), 'not gzip at all');
  await assert.rejects(readVectors(join(dir, 'bad.gz')), fails('FILE_INVALID'));
});

test('a file read in the wrong format says so (short messages, no binary noise)', async () => {
  await writeVectors(join(dir, 'w.bin'), sample(), 'bin');
  await writeVectors(join(dir, 'w.txt'), sample(), 'txt');
  await assert.rejects(readVectors(join(dir, 'w.txt'), { format: 'bin' }), fails('FILE_INVALID', /text vector file.*--format txt/));
  await assert.rejects(readVectors(join(dir, 'w.bin'), { format: 'txt' }), fails('FILE_INVALID', /line 2 is not text: a binary word2vec file/));
  await assert.rejects(readVectors(join(dir, 'w.txt'), { format: 'glove' }), fails('FILE_INVALID', /word2vec header "5 3", not a GloVe vector/));
  const bigDim = new WordVectors(['x'], 200, new Float32Array(200).fill(Math.fround(1.1)));
  await writeVectors(join(dir, 'big.bin'), bigDim, 'bin');
  const err = await readVectors(join(dir, 'big.bin'), { format: 'vec' }).catch((e: Error) => e);
  assert.ok(err instanceof Error && err.message.length < 200, String(err));
});

test('hub vector references', () => {
  assert.deepEqual(parseHubVectors('hub:fse/word2vec-google-news-300/word2vec-google-news-300.model.vectors.npy'), { repo: 'fse/word2vec-google-news-300', file: 'word2vec-google-news-300.model.vectors.npy' });
  assert.deepEqual(parseHubVectors('hub:acme/vecs/sub/dir/v.bin'), { repo: 'acme/vecs', file: 'sub/dir/v.bin' });
  assert.equal(parseHubVectors('vectors.bin'), undefined);
  assert.throws(() => parseHubVectors('hub:acme/v.bin'), fails('INVALID_INPUT'));
});
