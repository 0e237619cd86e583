// Dataset readers: one conformance suite over JSONL, CSV, TSV, Parquet, gzip and aclImdb folders, plus the row errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parquetWriteFile } from 'hyparquet-writer';
import { loadExamples, readExamples } from '../../../src/train/data/dataset.js';
import { isGeulError } from '../../../src/core/errors.js';
import { sharedDataPath } from '../../helpers/shared-data.js';

const dir = mkdtempSync(join(tmpdir(), 'geul-data-'));
process.once('exit', () => rmSync(dir, { recursive: true, force: true }));

/** The rows every format must give back: quotes, commas, Korean, a numeric label. */
const ROWS = [
  { text: 'a "great", moving film', label: 'pos' },
  { text: '정말 재미있는 영화였다', label: 'pos' },
  { text: 'dull, dull, dull', label: 'neg' },
  { text: "it's 2 hours I won't get back", label: 'neg' },
];

const csvCell = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

function write(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const FORMATS: Record<string, () => string> = {
  jsonl: () => write('d.jsonl', `${ROWS.map((r) => JSON.stringify({ id: 1, review: r.text, sentiment: r.label })).join('\n')}\n`),
  'json array': () => write('d.json', JSON.stringify(ROWS.map((r) => ({ review: r.text, sentiment: r.label })), null, 2)),
  'jsonl.gz': () => write('d.jsonl.gz', gzipSync(ROWS.map((r) => JSON.stringify({ review: r.text, sentiment: r.label })).join('\n'))),
  csv: () => write('d.csv', `\uFEFFid,review,sentiment\r\n${ROWS.map((r, i) => `${i},${csvCell(r.text)},${r.label}`).join('\r\n')}\r\n`),
  tsv: () => write('d.tsv', `review\tsentiment\n${ROWS.map((r) => `${r.text}\t${r.label}`).join('\n')}\n`),
  parquet: () => {
    const path = join(dir, 'd.parquet');
    parquetWriteFile({ filename: path, columnData: [
      { name: 'review', data: ROWS.map((r) => r.text), type: 'STRING' },
      { name: 'sentiment', data: ROWS.map((r) => r.label), type: 'STRING' },
    ], rowGroupSize: 3 });
    return path;
  },
};

for (const [format, make] of Object.entries(FORMATS)) {
  test(`${format}: column mapping gives back every row, quoting and Korean intact`, async () => {
    const examples = await loadExamples(make(), { text: 'review', label: 'sentiment' });
    assert.deepEqual(examples.map(({ text, label }) => ({ text, label })), ROWS);
    assert.match(examples[1].where, /^(line|row|item) \d+$/);
  });

  test(`${format}: a missing column is DATA_COLUMN_MISSING naming the column`, async () => {
    await assert.rejects(loadExamples(make(), { text: 'body', label: 'sentiment' }), (err) => {
      assert.ok(isGeulError(err));
      assert.equal(err.code, 'DATA_COLUMN_MISSING');
      assert.match(err.message, /"body"/);
      assert.match(err.message, /review/);
      return true;
    });
  });
}

test('CSV: quoted fields may hold newlines; rows are located by line', async () => {
  const path = write('multi.csv', 'text,label\n"line one\nline two",1\nplain,0\n');
  const examples = await loadExamples(path);
  assert.deepEqual(examples.map((e) => e.text), ['line one\nline two', 'plain']);
  assert.equal(examples[1].where, 'line 4');
});

test('CSV: an unclosed quote is DATA_INVALID with the line', async () => {
  const path = write('bad.csv', 'text,label\nfine,1\n"never closed,0\n');
  await assert.rejects(loadExamples(path), (err) => isGeulError(err) && err.code === 'DATA_INVALID' && /bad\.csv/.test(err.message));
});

test('TSV: a row with the wrong number of fields names its line', async () => {
  const path = write('ragged.tsv', 'text\tlabel\nok\t1\nno label here\n');
  await assert.rejects(loadExamples(path), /line 3: 1 tab-separated fields, the header has 2/);
});

test('JSONL: numeric and boolean labels become strings; bad JSON names the line', async () => {
  const path = write('num.jsonl', '{"text":"a","label":1}\n\n{"text":"b","label":false}\n');
  assert.deepEqual((await loadExamples(path)).map((e) => e.label), ['1', 'false']);
  const bad = write('bad.jsonl', '{"text":"a","label":1}\n{"text": oops}\n');
  await assert.rejects(loadExamples(bad), /line 2: not valid JSON/);
  const missing = write('missing.jsonl', '{"text":"a","label":1}\n{"text":"b"}\n');
  await assert.rejects(loadExamples(missing), (err) => isGeulError(err) && err.code === 'DATA_COLUMN_MISSING' && /line 2/.test(err.message));
  const nolabel = write('nolabel.jsonl', '{"text":"a","label":null}\n');
  await assert.rejects(loadExamples(nolabel), /line 1: no label in column "label"/);
});

test('empty texts: skipped with one warning by default, DATA_EMPTY_TEXT with emptyText "error"', async () => {
  const path = write('empty.tsv', 'text\tlabel\ngood\t1\n   \t0\n\t1\nalso good\t0\n');
  const warnings: string[] = [];
  const examples = await loadExamples(path, { onWarning: (w) => warnings.push(w) });
  assert.deepEqual(examples.map((e) => e.text), ['good', 'also good']);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /skipped 2 rows with empty text in column "text" .*line 3, line 4/);
  await assert.rejects(loadExamples(path, { emptyText: 'error' }), (err) => isGeulError(err) && err.code === 'DATA_EMPTY_TEXT' && /line 3/.test(err.message));
});

test('unreadable files: FILE_NOT_FOUND, FILE_INVALID for unknown formats and non-Parquet bytes', async () => {
  await assert.rejects(loadExamples(join(dir, 'nope.jsonl')), (err) => isGeulError(err) && err.code === 'FILE_NOT_FOUND');
  await assert.rejects(loadExamples(write('x.xlsx', 'x')), (err) => isGeulError(err) && err.code === 'FILE_INVALID');
  await assert.rejects(loadExamples(write('fake.parquet', 'not parquet at all')), (err) => isGeulError(err) && err.code === 'FILE_INVALID');
  if (process.getuid?.() !== 0) {
    const locked = write('locked.tsv', 'text\tlabel\n');
    chmodSync(locked, 0);
    await assert.rejects(loadExamples(locked), (err) => isGeulError(err) && err.code === 'FILE_INVALID');
  }
});

test('aclImdb folders: label = folder name, unsup skipped, files in numeric order', async () => {
  const root = join(dir, 'aclImdb', 'train');
  for (const [label, files] of Object.entries({ pos: { '10_9.txt': 'ten', '2_8.txt': 'two' }, neg: { '0_1.txt': '영화 별로' }, unsup: { '0_0.txt': 'x' } })) {
    mkdirSync(join(root, label), { recursive: true });
    for (const [name, text] of Object.entries(files)) writeFileSync(join(root, label, name), text);
  }
  writeFileSync(join(root, 'urls_pos.txt'), 'http://example');
  const examples = await loadExamples(root);
  assert.deepEqual(examples.map((e) => [e.label, e.text]), [['neg', '영화 별로'], ['pos', 'two'], ['pos', 'ten']]);
  assert.equal(examples[2].where, `file ${join('pos', '10_9.txt')}`);
  await assert.rejects(loadExamples(join(dir, 'aclImdb')), /only one label folder with \.txt files \("train"\)/);
});

test('streaming: readExamples yields rows lazily and honours limit', async () => {
  const path = write('big.jsonl', Array.from({ length: 5000 }, (_, i) => JSON.stringify({ text: `row ${i}`, label: i % 3 })).join('\n'));
  const seen: string[] = [];
  for await (const e of readExamples(path, { limit: 3 })) seen.push(e.text);
  assert.deepEqual(seen, ['row 0', 'row 1', 'row 2']);
  let progress = 0;
  let count = 0;
  for await (const _ of readExamples(path, { onProgress: (done) => { progress = done; } })) count++;
  assert.equal(count, 5000);
  assert.ok(progress > 0);
});

test('encodings: --encoding decodes legacy files; undecodable bytes are reported once', async () => {
  const path = write('latin1.tsv', Buffer.from('text\tlabel\ncafé crème\t1\nnaïve\t0\n', 'latin1'));
  assert.deepEqual((await loadExamples(path, { encoding: 'windows-1252' })).map((e) => e.text), ['café crème', 'naïve']);
  const warnings: string[] = [];
  await loadExamples(path, { onWarning: (w) => warnings.push(w) });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /2 texts in .*latin1\.tsv hold bytes that are not valid utf-8 \(line 2, line 3\).*--encoding/);
  await assert.rejects(loadExamples(path, { encoding: 'klingon' }), (err) => isGeulError(err) && err.code === 'INVALID_INPUT');
});

test('NSMC: the CP949 original read with euc-kr equals the UTF-8 copy (shared data)', async (t) => {
  const original = sharedDataPath(t, 'nsmc', 'ratings_test.txt');
  const utf8 = original && sharedDataPath(t, 'nsmc', 'ratings_test.utf8.txt');
  if (!original || !utf8) return;
  const options = { text: 'document', limit: 2000 };
  const a = await loadExamples(original, { ...options, encoding: 'euc-kr' });
  const b = await loadExamples(utf8, options);
  assert.equal(a.length, 2000);
  assert.deepEqual(a.map((e) => [e.text, e.label]), b.map((e) => [e.text, e.label]));
});
