// `geul eval` on the tiny pretrained fixture and on a model trained in the test: JSON fields, label mapping, errors.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';
import { fixturesDir } from '../helpers/fixtures.js';
import { jsonLines, runCli } from '../helpers/cli.js';
import { sharedDataPath } from '../helpers/shared-data.js';
import { trainText } from '../../src/train/run.js';

const work = mkdtempSync(join(tmpdir(), 'geul-eval-'));
process.once('exit', () => rmSync(work, { recursive: true, force: true }));
const env = { GEUL_CACHE_DIR: join(work, 'cache'), GEUL_CONFIG: join(work, 'none.json') };

const GOOD = ['wonderful', 'moving', 'great', 'superb', 'lovely', '최고'];
const BAD = ['awful', 'boring', 'dull', 'tedious', 'weak', '별로'];
const FILLER = ['the', 'film', 'was', 'a', 'plot', 'and', 'story', '영화'];

/** Toy reviews: one sentiment word among filler; label 1 positive, 0 negative. */
function toy(n: number, offset = 0): { text: string; label: number }[] {
  return Array.from({ length: n }, (_, k) => {
    const i = k + offset;
    const pos = i % 2 === 0;
    const words = Array.from({ length: 3 + (i % 4) }, (_, j) => FILLER[(i * 3 + j * 5) % FILLER.length]);
    words.splice(i % words.length, 0, (pos ? GOOD : BAD)[(i >> 1) % GOOD.length]);
    return { text: words.join(' '), label: pos ? 1 : 0 };
  });
}

const tsv = (rows: { text: string; label: number | string }[]) => `text\tlabel\n${rows.map((r) => `${r.text}\t${r.label}`).join('\n')}\n`;

before(() => {
  writeFileSync(env.GEUL_CONFIG, '{}');
  writeFileSync(join(work, 'train.tsv'), tsv(toy(160)));
  writeFileSync(join(work, 'dev.tsv'), tsv(toy(40, 1000)));
});

interface EvalJson {
  accuracy: number; f1_macro: number; precision: number; recall: number; roc_auc: number | null; examples: number; labels: string[];
  confusion: number[][]; per_class: Record<string, { f1: number; support: number }>; label_map: Record<string, string>;
}

test('tiny fixture model: numeric labels map to NEGATIVE/POSITIVE; predictions are those of `geul sentiment`', async () => {
  const model = join(await fixturesDir(), 'tiny-bert-sentiment');
  const data = join(work, 'dev.tsv');
  const r = await runCli(['eval', '--model', model, '--data', data, '--json'], { env });
  assert.equal(r.code, 0, r.stderr);
  const [out] = jsonLines(r.stdout) as EvalJson[];
  assert.deepEqual(out.labels, ['NEGATIVE', 'POSITIVE']);
  assert.deepEqual(out.label_map, { 0: 'NEGATIVE', 1: 'POSITIVE' });
  assert.equal(out.examples, 40);
  assert.equal(out.confusion.flat().reduce((a, b) => a + b, 0), 40);
  assert.deepEqual(out.confusion.map((row) => row.reduce((a, b) => a + b, 0)), [20, 20]);
  assert.ok(out.roc_auc === null || (out.roc_auc >= 0 && out.roc_auc <= 1));
  for (const key of ['accuracy', 'f1_macro', 'precision', 'recall']) assert.equal(typeof out[key as keyof EvalJson], 'number', key);

  const texts = toy(40, 1000).map((t) => t.text);
  const s = await runCli(['sentiment', '--model', model, '--json', ...texts], { env });
  assert.equal(s.code, 0, s.stderr);
  const predicted = (jsonLines(s.stdout) as { label: string }[][]).map((ranked) => ranked[0].label);
  const column = (label: string) => predicted.filter((p) => p === label).length;
  assert.deepEqual([out.confusion[0][0] + out.confusion[1][0], out.confusion[0][1] + out.confusion[1][1]], [column('NEGATIVE'), column('POSITIVE')]);
  const correct = toy(40, 1000).filter((t, i) => predicted[i] === (t.label === 1 ? 'POSITIVE' : 'NEGATIVE')).length;
  assert.ok(Math.abs(out.accuracy - correct / 40) < 1e-12);
});

test('a model trained here: eval on its validation file reproduces metrics.json; Parquet with named labels too', async () => {
  const out = join(work, 'run');
  await trainText({
    data: { source: join(work, 'train.tsv'), valid: join(work, 'dev.tsv'), maxLength: 16, vocabSize: 100 }, model: { name: 'bow', dim: 8, buckets: 0 },
    optim: { lr: 0.05 }, run: { epochs: 4, batchSize: 16, seed: 1, threads: 1 }, output: { dir: out },
  });
  const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as EvalJson & { history: unknown[] };
  assert.ok(metrics.accuracy >= 0.9, `validation accuracy ${metrics.accuracy}`);
  assert.equal(metrics.history.length, 4);
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  assert.ok(html.includes('<svg') && html.includes('class="cm"'));

  const r = await runCli(['eval', '--model', out, '--data', join(work, 'dev.tsv'), '--json'], { env });
  assert.equal(r.code, 0, r.stderr);
  const [result] = jsonLines(r.stdout) as EvalJson[];
  assert.deepEqual(result.confusion, metrics.confusion);
  assert.ok(Math.abs(result.accuracy - metrics.accuracy) < 1e-12);
  assert.ok(Math.abs((result.roc_auc ?? 0) - (metrics.roc_auc ?? 0)) < 1e-6);

  const pq = join(work, 'dev.parquet');
  const rows = toy(40, 1000);
  parquetWriteFile({ filename: pq, columnData: [
    { name: 'review', data: rows.map((x) => x.text), type: 'STRING' },
    { name: 'sentiment', data: rows.map((x) => (x.label ? 'Positive' : 'Negative')), type: 'STRING' },
  ] });
  const p = await runCli(['eval', '--model', out, '--data', pq, '--text', 'review', '--label', 'sentiment', '--labels', 'negative,positive', '--json'], { env });
  assert.equal(p.code, 0, p.stderr);
  const [named] = jsonLines(p.stdout) as EvalJson[];
  assert.deepEqual(named.label_map, { Negative: '0', Positive: '1' });
  assert.deepEqual(named.confusion, metrics.confusion);
});

test('bad input: an unknown label and a missing column are clear errors naming the row or column', async () => {
  const model = join(await fixturesDir(), 'tiny-bert-sentiment');
  const bad = join(work, 'bad.tsv');
  writeFileSync(bad, tsv([{ text: 'fine', label: 1 }, { text: 'odd', label: 'neutral' }]));
  const r = await runCli(['eval', '--model', model, '--data', bad], { env });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Label "neutral" in .*bad\.tsv line 3 .*NEGATIVE, POSITIVE.*\[DATA_LABEL_UNKNOWN\]/);
  const c = await runCli(['eval', '--model', model, '--data', bad, '--text', 'sentence'], { env });
  assert.equal(c.code, 2);
  assert.match(c.stderr, /Column "sentence" is missing .*\(columns: text, label\) \[DATA_COLUMN_MISSING\]/);
});

test('acceptance: geul eval on SST-2 dev (shared data)', async (t) => {
  const dev = sharedDataPath(t, 'sst2', 'dev.tsv');
  if (!dev) return;
  const model = join(await fixturesDir(), 'tiny-bert-sentiment');
  const r = await runCli(['eval', '--model', model, '--data', dev, '--text', 'text', '--label', 'label', '--json'], { env, timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  const [out] = jsonLines(r.stdout) as EvalJson[];
  assert.equal(out.examples, 872);
  assert.equal(out.confusion.length, 2);
});
