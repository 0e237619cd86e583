// Integer labels with class names in the file (Hugging Face Parquet ClassLabel): the run and `geul eval` show the names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { classLabelNames } from '../../src/train/data/formats.js';
import { prepareTextData } from '../../src/train/text-data.js';
import { trainText } from '../../src/train/run.js';
import { jsonLines, runCli } from '../helpers/cli.js';

const work = mkdtempSync(join(tmpdir(), 'geul-classlabel-'));
const HF_META = { key: 'huggingface', value: JSON.stringify({ info: { features: { sentence: { dtype: 'string', _type: 'Value' }, label: { names: ['negative', 'positive'], _type: 'ClassLabel' } } } }) };

function write(path: string, n: number, offset: number, named = true): void {
  const rows = Array.from({ length: n }, (_, k) => {
    const i = k + offset;
    return { sentence: `the film was ${i % 2 ? ['great', 'lovely', 'superb'][i % 3] : ['dull', 'awful', 'weak'][i % 3]} and ${i % 5 ? 'long' : 'short'}`, label: i % 2 };
  });
  writeFileSync(path, new Uint8Array(parquetWriteBuffer({
    columnData: [
      { name: 'sentence', data: rows.map((r) => r.sentence), type: 'STRING' },
      { name: 'label', data: rows.map((r) => BigInt(r.label)), type: 'INT64' },
    ],
    ...(named ? { kvMetadata: [HF_META] } : {}),
  })));
}

test('classLabelNames reads the ClassLabel names of the datasets library, and nothing from other metadata', () => {
  assert.deepEqual(classLabelNames([HF_META]), { label: ['negative', 'positive'] });
  assert.deepEqual(classLabelNames([{ key: 'huggingface', value: 'not json' }]), {});
  assert.deepEqual(classLabelNames(undefined), {});
});

test('training data with ClassLabel names: the label set, config.json and `geul eval` use the names, not 0/1', async () => {
  const train = join(work, 'train.parquet');
  const dev = join(work, 'dev.parquet');
  write(train, 80, 0);
  write(dev, 20, 100);
  const prepared = await prepareTextData({ data: train, text: 'sentence', label: 'label', seed: 1, maxLength: 8, vocabSize: 50 });
  assert.deepEqual(prepared.labels, ['negative', 'positive']);
  // Explicit --labels still win.
  const renamed = await prepareTextData({ data: train, text: 'sentence', label: 'label', seed: 1, maxLength: 8, vocabSize: 50, labels: ['bad', 'good'] });
  assert.deepEqual(renamed.labels, ['bad', 'good']);

  const out = join(work, 'run');
  await trainText({ data: { source: train, valid: dev, text: 'sentence', maxLength: 8, vocabSize: 50 }, model: { name: 'bow', dim: 8, buckets: 0 }, optim: { lr: 0.05 }, run: { epochs: 3, batchSize: 8, threads: 1 }, output: { dir: out } });
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { id2label: Record<string, string> };
  assert.deepEqual(config.id2label, { 0: 'negative', 1: 'positive' });
  const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { labels: string[] };
  assert.deepEqual(metrics.labels, ['negative', 'positive']);

  const env = { GEUL_CONFIG: join(work, 'none.json'), GEUL_CACHE_DIR: join(work, 'cache') };
  writeFileSync(env.GEUL_CONFIG, '{}');
  const e = await runCli(['eval', '--model', out, '--data', dev, '--text', 'sentence', '--json'], { env });
  assert.equal(e.code, 0, e.stderr);
  const [result] = jsonLines(e.stdout) as { label_map: Record<string, string>; examples: number }[];
  assert.equal(result.examples, 20);
  assert.deepEqual(result.label_map, { 0: 'negative', 1: 'positive' });
});
