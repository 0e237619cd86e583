// A task loads a model by hub id from a fake Hub on 127.0.0.1, reuses the cache when the Hub is gone, and fails clearly.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createGeul, isGeulError } from '../../src/index.js';
import { startFakeHub, type FakeHub, type FakeRepoFiles } from '../helpers/fake-hub.js';
import { fixturesDir } from '../helpers/fixtures.js';

function folderFiles(dir: string, base = dir, out: FakeRepoFiles = {}): FakeRepoFiles {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) folderFiles(path, base, out);
    else out[relative(base, path)] = readFileSync(path);
  }
  return out;
}

let hub: FakeHub;
let cacheDir: string;

before(async () => {
  const T = await fixturesDir();
  hub = await startFakeHub({ repos: { 'geul-test/tiny-sentiment': { main: folderFiles(join(T, 'tiny-bert-sentiment')) } } });
  cacheDir = mkdtempSync(join(tmpdir(), 'geul-hub-cache-'));
});
after(() => hub.close());

test('download on first use, then served from the cache with the Hub stopped', async () => {
  const online = createGeul({ hubUrl: hub.url, cacheDir });
  const first = await online.classify('a great film', { model: 'geul-test/tiny-sentiment' });
  assert.ok(hub.count() > 0);
  await online.dispose();
  await hub.close();
  const offline = createGeul({ hubUrl: hub.url, cacheDir, offline: true });
  assert.deepEqual(await offline.classify('a great film', { model: 'geul-test/tiny-sentiment' }), first);
  await offline.dispose();
  // The Hub is down and we are not offline: a cached model still loads without touching the network.
  const cached = createGeul({ hubUrl: hub.url, cacheDir });
  assert.deepEqual(await cached.classify('a great film', { model: 'geul-test/tiny-sentiment' }), first);
  await cached.dispose();
  hub = await startFakeHub({ repos: { 'geul-test/tiny-sentiment': { main: folderFiles(join(await fixturesDir(), 'tiny-bert-sentiment')) } } });
});

test('revision selects another snapshot; unknown models are a clear 404', async () => {
  const dir = join(await fixturesDir(), 'tiny-bert-sentiment');
  const config = { ...JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')), id2label: { 0: 'BAD', 1: 'GOOD' } };
  hub.addRepo('geul-test/tiny-sentiment', 'v2', { ...folderFiles(dir), 'config.json': JSON.stringify(config) });
  const v2 = createGeul({ hubUrl: hub.url, cacheDir, revision: 'v2' });
  const labels = await v2.classify('x', { model: 'geul-test/tiny-sentiment' });
  assert.deepEqual(labels.map((l) => l.label).sort(), ['BAD', 'GOOD']);
  await assert.rejects(v2.classify('x', { model: 'geul-test/does-not-exist' }), (err: unknown) => isGeulError(err) && err.code === 'MODEL_NOT_FOUND');
  await v2.dispose();
});

test('a truncated download never leaves a loadable model; a retry succeeds', async () => {
  const fresh = mkdtempSync(join(tmpdir(), 'geul-hub-cache-'));
  hub.fault(/model\.onnx/, { truncateAt: 100 }, { times: 1 });
  const g = createGeul({ hubUrl: hub.url, cacheDir: fresh });
  await assert.rejects(g.classify('x', { model: 'geul-test/tiny-sentiment' }), (err: unknown) => isGeulError(err) && /DOWNLOAD_/.test(err.code));
  const labels = await g.classify('x', { model: 'geul-test/tiny-sentiment' });
  assert.equal(labels.length, 2);
  await g.dispose();
});
