// `geul train` / `geul eval` on a Hub dataset repo (fake Hub), with label names, an aclImdb folder and data errors.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { startFakeHub, type FakeHub } from '../helpers/fake-hub.js';
import { jsonLines, runCli } from '../helpers/cli.js';

const work = mkdtempSync(join(tmpdir(), 'geul-train-data-'));
let hub: FakeHub;
let env: NodeJS.ProcessEnv;

const GOOD = ['wonderful', 'moving', 'great', 'superb', 'lovely', '최고예요'];
const BAD = ['awful', 'boring', 'dull', 'tedious', 'weak', '지루해요'];

function reviews(n: number, offset: number): { sentence: string; label: number }[] {
  return Array.from({ length: n }, (_, k) => {
    const i = k + offset;
    const pos = i % 2 === 0;
    return { sentence: `the film was ${(pos ? GOOD : BAD)[(i >> 1) % 6]} and ${i % 3 === 0 ? 'long' : 'short'}`, label: pos ? 1 : 0 };
  });
}

const parquet = (rows: { sentence: string; label: number }[]) => new Uint8Array(parquetWriteBuffer({ columnData: [
  { name: 'sentence', data: rows.map((r) => r.sentence), type: 'STRING' },
  { name: 'label', data: rows.map((r) => BigInt(r.label)), type: 'INT64' },
] }));

before(async () => {
  hub = await startFakeHub({ repos: { 'datasets/acme/toy-sst': { main: {
    'data/train-00000-of-00001.parquet': parquet(reviews(120, 0)),
    'data/validation-00000-of-00001.parquet': parquet(reviews(30, 500)),
    'data/test-00000-of-00001.parquet': parquet(reviews(20, 900)),
  } } } });
  const config = join(work, 'none.json');
  writeFileSync(config, '{}');
  env = { GEUL_HUB_URL: hub.url, GEUL_CACHE_DIR: join(work, 'cache', 'models'), GEUL_CONFIG: config };
});

after(async () => {
  await hub.close();
  rmSync(work, { recursive: true, force: true });
});

test('train on a Hub dataset (train/validation splits, label names), then eval on its test split', async () => {
  const out = join(work, 'run');
  const t = await runCli(['train', '--model', 'bow', '--data', 'hf://datasets/acme/toy-sst', '--valid', 'hf://datasets/acme/toy-sst', '--text', 'sentence',
    '--labels', 'negative,positive', '--epochs', '5', '--batch-size', '8', '--lr', '0.05', '--dim', '8', '--buckets', '0', '--max-length', '12', '--out', out, '--json'], { env });
  assert.equal(t.code, 0, t.stderr);
  const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { labels: string[]; accuracy: number; examples: number };
  assert.deepEqual(metrics.labels, ['negative', 'positive']);
  assert.equal(metrics.examples, 30, 'the validation split');
  assert.ok(metrics.accuracy >= 0.9, `validation accuracy ${metrics.accuracy}`);
  assert.ok(readFileSync(join(out, 'report.html'), 'utf8').includes('<svg'));

  const e = await runCli(['eval', '--model', out, '--data', 'hf://datasets/acme/toy-sst', '--text', 'sentence', '--split', 'test', '--json'], { env });
  assert.equal(e.code, 0, e.stderr);
  const [result] = jsonLines(e.stdout) as { examples: number; accuracy: number; label_map: Record<string, string> }[];
  assert.equal(result.examples, 20);
  assert.deepEqual(result.label_map, { 0: 'negative', 1: 'positive' });
  assert.ok(result.accuracy >= 0.9, `test accuracy ${result.accuracy}`);
});

test('train on an aclImdb-style folder; empty files are skipped with a warning', async () => {
  const root = join(work, 'aclImdb', 'train');
  reviews(40, 0).forEach((r, i) => {
    const dir = join(root, r.label ? 'pos' : 'neg');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${i}_${r.label ? 9 : 2}.txt`), r.sentence);
  });
  writeFileSync(join(root, 'pos', '999_9.txt'), '  \n');
  const out = join(work, 'imdb-run');
  const t = await runCli(['train', '--model', 'bow', '--data', root, '--epochs', '1', '--dim', '4', '--buckets', '0', '--out', out], { env });
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stderr, /warning: skipped 1 row with empty text .*999_9\.txt/);
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')).labels, ['neg', 'pos']);
});

test('train: a single class and a missing column fail with their codes', async () => {
  const one = join(work, 'one.csv');
  writeFileSync(one, 'text,label\n"a, b",x\nc,x\n');
  const r = await runCli(['train', '--model', 'bow', '--data', one, '--out', join(work, 'one')], { env });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Only one label \("x"\) .*\[DATA_ONE_CLASS\]/);
  const m = await runCli(['train', '--model', 'bow', '--data', one, '--text', 'review', '--out', join(work, 'one')], { env });
  assert.equal(m.code, 2);
  assert.match(m.stderr, /Column "review" is missing .*\[DATA_COLUMN_MISSING\]/);
});
