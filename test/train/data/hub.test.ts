// Hub dataset repos: a split's Parquet files downloaded from the fake Hub, cached, read offline; errors for missing things.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { startFakeHub } from '../../helpers/fake-hub.js';
import { loadExamples } from '../../../src/train/data/dataset.js';
import { isSplitFile, parseHubDataset } from '../../../src/train/data/hub.js';
import { isGeulError } from '../../../src/core/errors.js';

const parquet = (texts: string[], labels: number[]) => new Uint8Array(parquetWriteBuffer({ columnData: [
  { name: 'sentence', data: texts, type: 'STRING' },
  { name: 'label', data: labels, type: 'INT32' },
] }));

test('parseHubDataset: hf://datasets/… and hf: forms with revision and path; local paths are not sources', () => {
  assert.deepEqual(parseHubDataset('hf://datasets/acme/reviews'), { id: 'acme/reviews', owner: 'acme', name: 'reviews', revision: undefined, path: undefined });
  assert.deepEqual(parseHubDataset('hf:acme/reviews@v2/data/test.parquet'), { id: 'acme/reviews', owner: 'acme', name: 'reviews', revision: 'v2', path: 'data/test.parquet' });
  assert.equal(parseHubDataset('hf://datasets/acme/reviews@refs/convert/parquet/default/train')?.revision, 'refs/convert/parquet');
  assert.equal(parseHubDataset('./data/train.parquet'), undefined);
  assert.ok(isSplitFile('data/train-00000-of-00002.parquet', 'train'));
  assert.ok(isSplitFile('default/validation/0000.parquet', 'validation'));
  assert.ok(!isSplitFile('data/test-00000-of-00001.parquet', 'train'));
});

test('Hub dataset: the split\'s Parquet files are downloaded once, read in order, then served offline from the cache', async () => {
  const hub = await startFakeHub({ repos: { 'datasets/acme/reviews': { main: {
    'README.md': '# reviews',
    'data/train-00000-of-00002.parquet': parquet(['좋은 영화', 'bad film'], [1, 0]),
    'data/train-00001-of-00002.parquet': parquet(['fine, "ok"'], [1]),
    'data/test-00000-of-00001.parquet': parquet(['test row'], [0]),
  } } } });
  const cacheDir = join(mkdtempSync(join(tmpdir(), 'geul-ds-')), 'models');
  try {
    const config = { hubUrl: hub.url, revision: 'main', cacheDir, offline: false };
    const train = await loadExamples('hf://datasets/acme/reviews', { text: 'sentence', hub: config });
    assert.deepEqual(train.map((e) => [e.text, e.label]), [['좋은 영화', '1'], ['bad film', '0'], ['fine, "ok"', '1']]);
    assert.match(train[2].where, /row 1 of train-00001-of-00002\.parquet/);
    assert.equal(hub.count({ kind: 'resolve' }), 2);
    assert.equal(hub.count({ kind: 'api', repo: 'datasets/acme/reviews' }), 1);

    const test = await loadExamples('hf:acme/reviews', { text: 'sentence', split: 'test', hub: config });
    assert.deepEqual(test.map((e) => e.text), ['test row']);

    hub.clearRequests();
    const offline = await loadExamples('hf://datasets/acme/reviews', { text: 'sentence', hub: { ...config, offline: true } });
    assert.equal(offline.length, 3);
    assert.equal(hub.count(), 0, 'offline reads use no network');

    await assert.rejects(loadExamples('hf://datasets/acme/reviews', { text: 'sentence', split: 'dev', hub: config }),
      (err) => isGeulError(err) && err.code === 'DATA_INVALID' && /split "dev"/.test(err.message) && /train-00000/.test(err.message));
    await assert.rejects(loadExamples('hf://datasets/acme/missing', { hub: config }), (err) => isGeulError(err) && err.code === 'DATASET_NOT_FOUND');
    await assert.rejects(loadExamples('hf://datasets/acme/other', { hub: { ...config, offline: true } }), (err) => isGeulError(err) && err.code === 'DATASET_NOT_FOUND' && /offline/.test(err.message));
    rmSync(join(cacheDir, '..', 'datasets', 'acme', 'reviews', 'main', 'data', 'test-00000-of-00001.parquet'));
    await assert.rejects(loadExamples('hf://datasets/acme/reviews', { text: 'sentence', split: 'test', hub: { ...config, offline: true } }), /"data\/test-00000-of-00001\.parquet" is not cached/);
    await assert.rejects(loadExamples('hf://datasets/acme/reviews', { hub: config }), (err) => isGeulError(err) && err.code === 'DATA_COLUMN_MISSING' && /sentence/.test(err.message));
  } finally {
    await hub.close();
    rmSync(join(cacheDir, '..'), { recursive: true, force: true });
  }
});

test('Hub dataset: a truncated download fails and leaves no partial file to read', async () => {
  const hub = await startFakeHub({ repos: { 'datasets/acme/tiny': { main: { 'train.parquet': parquet(['a', 'b'], [0, 1]) } } } });
  const cacheDir = join(mkdtempSync(join(tmpdir(), 'geul-ds-')), 'models');
  try {
    const config = { hubUrl: hub.url, revision: 'main', cacheDir, offline: false };
    hub.fault('train.parquet', { truncateAt: 10 }, { times: 1 });
    await assert.rejects(loadExamples('hf://datasets/acme/tiny', { text: 'sentence', hub: config }), (err) => isGeulError(err) && err.code === 'DOWNLOAD_INCOMPLETE');
    assert.equal((await loadExamples('hf://datasets/acme/tiny', { text: 'sentence', hub: config })).length, 2);
  } finally {
    await hub.close();
    rmSync(join(cacheDir, '..'), { recursive: true, force: true });
  }
});
