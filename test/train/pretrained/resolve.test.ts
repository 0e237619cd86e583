// resolveCheckpoint: local folders as is; Hub ids fetch only config, weights (single, sharded or torch .bin) and tokenizer files, cache first.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type GeulConfig } from '../../../src/core/config.js';
import { isGeulError } from '../../../src/core/errors.js';
import { readSafetensors, writeSafetensors } from '../../../src/core/weights/safetensors.js';
import type { WeightTensor } from '../../../src/core/weights/tensor.js';
import { parseEncoderConfig } from '../../../src/train/pretrained/config.js';
import { loadPretrainedEncoder } from '../../../src/train/pretrained/load.js';
import { resolveCheckpoint } from '../../../src/train/pretrained/resolve.js';
import { startFakeHub, type FakeHub, type FakeRepoFiles } from '../../helpers/fake-hub.js';
import { sharedDataDir } from '../../helpers/shared-data.js';
import { torchSave } from '../../helpers/torch-save.js';

const reference = sharedDataDir() && join(sharedDataDir()!, 'reference-encoders', 'bert-cls');
const skip = reference && existsSync(reference) ? false : 'shared test data not found: ../shared/data/reference-encoders/bert-cls';
const work = mkdtempSync(join(tmpdir(), 'geul-resolve-'));
let hub: FakeHub;
let tensors: Map<string, WeightTensor>;
const TOKENIZER = JSON.stringify({ version: '1.0', model: { type: 'WordPiece', vocab: { '[UNK]': 0 } } });

/** A safetensors file's bytes (written through the project's writer into a scratch file). */
function safetensorsBytes(subset: Map<string, WeightTensor>, name: string): Buffer {
  const path = join(work, name);
  writeSafetensors(path, subset);
  return readFileSync(path);
}

before(async () => {
  if (skip) return;
  const config = readFileSync(join(reference!, 'config.json'), 'utf8');
  tensors = readSafetensors(join(reference!, 'model.safetensors')).tensors;
  const names = [...tensors.keys()].sort();
  const half = Math.ceil(names.length / 2);
  const shards = [names.slice(0, half), names.slice(half)].map((part) => new Map(part.map((n) => [n, tensors.get(n)!])));
  const shardName = (i: number) => `model-0000${i + 1}-of-00002.safetensors`;
  const weightMap = Object.fromEntries(shards.flatMap((s, i) => [...s.keys()].map((n) => [n, shardName(i)])));
  const single: FakeRepoFiles = {
    'config.json': config, 'model.safetensors': readFileSync(join(reference!, 'model.safetensors')), 'tokenizer.json': TOKENIZER,
    'vocab.txt': '[PAD]\n[UNK]\n', 'README.md': 'not needed', 'onnx/model.onnx': 'not needed', 'pytorch_model.bin': 'not needed',
  };
  const sharded: FakeRepoFiles = {
    'config.json': config, 'model.safetensors.index.json': JSON.stringify({ metadata: {}, weight_map: weightMap }),
    [shardName(0)]: safetensorsBytes(shards[0]!, 'a.safetensors'), [shardName(1)]: safetensorsBytes(shards[1]!, 'b.safetensors'),
  };
  const bin: FakeRepoFiles = { 'config.json': config, 'pytorch_model.bin': torchSave(names.map((n) => [n, tensors.get(n)!] as const)) };
  const escaping: FakeRepoFiles = { 'config.json': config, 'model.safetensors.index.json': JSON.stringify({ weight_map: { x: '../other/model.safetensors' } }) };
  hub = await startFakeHub({ repos: { 'acme/single': { main: single }, 'acme/sharded': { main: sharded }, 'acme/bin': { main: bin }, 'acme/escape': { main: escaping }, 'acme/none': { main: { 'config.json': config } },
    'acme/gpt2': { main: { 'config.json': JSON.stringify({ model_type: 'gpt2', architectures: ['GPT2LMHeadModel'] }), 'model.safetensors': single['model.safetensors']! } },
  } });
});
after(async () => {
  await hub?.close();
  rmSync(work, { recursive: true, force: true });
});

function hubConfig(cacheDir: string, extra: Record<string, unknown> = {}): GeulConfig {
  return loadConfig({ hubUrl: hub.url, cacheDir, ...extra }, { env: {}, skipFile: true });
}

const fetched = () => hub.requests.filter((r) => r.kind === 'resolve' && r.status !== 404).map((r) => r.file).sort();

/** The loaded tensors equal the reference checkpoint's, bit for bit. */
function assertSameWeights(dir: string): void {
  const loaded = loadPretrainedEncoder(dir).weights.tensors;
  assert.equal(loaded.size, tensors.size);
  for (const [name, t] of tensors) assert.deepEqual(loaded.get(name)!.data, t.data, name);
}

test('a Hub id with model.safetensors: config, weights and tokenizer files only; then served from the cache offline', { skip }, async () => {
  const cacheDir = join(work, 'cache-single');
  hub.clearRequests();
  const dir = await resolveCheckpoint('acme/single', hubConfig(cacheDir));
  assert.equal(dir, join(cacheDir, 'acme', 'single', 'main'));
  assert.deepEqual(fetched(), ['config.json', 'model.safetensors', 'tokenizer.json', 'vocab.txt']);
  assert.ok(!existsSync(join(dir, 'pytorch_model.bin')) && !existsSync(join(dir, 'onnx')));
  assertSameWeights(dir);
  hub.clearRequests();
  assert.equal(await resolveCheckpoint('acme/single', hubConfig(cacheDir, { offline: true })), dir);
  assert.equal(await resolveCheckpoint('acme/single', hubConfig(cacheDir)), dir);
  assert.equal(hub.count(), 0, 'a cached checkpoint needs no network');
});

test('a sharded checkpoint: the index and every shard it names', { skip }, async () => {
  const cacheDir = join(work, 'cache-sharded');
  hub.clearRequests();
  const dir = await resolveCheckpoint('acme/sharded', hubConfig(cacheDir));
  assert.deepEqual(fetched(), ['config.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json']);
  assertSameWeights(dir);
});

test('a repo with only pytorch_model.bin', { skip }, async () => {
  const cacheDir = join(work, 'cache-bin');
  const dir = await resolveCheckpoint('acme/bin', hubConfig(cacheDir));
  assert.ok(existsSync(join(dir, 'pytorch_model.bin')));
  assertSameWeights(dir);
});

test('offline and not cached, no weights, a shard outside the folder, a missing repo: catalogued errors', { skip }, async () => {
  const code = (c: string) => (err: unknown) => isGeulError(err) && err.code === c;
  await assert.rejects(resolveCheckpoint('acme/single', hubConfig(join(work, 'cache-offline'), { offline: true })), code('OFFLINE_NOT_CACHED'));
  await assert.rejects(resolveCheckpoint('acme/none', hubConfig(join(work, 'cache-none'))), (err: unknown) => code('MODEL_FILE_MISSING')(err) && /pytorch_model\.bin/.test((err as Error).message));
  await assert.rejects(resolveCheckpoint('acme/escape', hubConfig(join(work, 'cache-escape'))), code('WEIGHTS_INVALID'));
  await assert.rejects(resolveCheckpoint('acme/missing', hubConfig(join(work, 'cache-missing'))), code('MODEL_NOT_FOUND'));
});

test('a local folder is used as it is; one without config.json is MODEL_FILE_MISSING', { skip }, async () => {
  hub.clearRequests();
  assert.equal(await resolveCheckpoint(reference!, hubConfig(join(work, 'cache-local'))), reference);
  const empty = join(work, 'empty-folder');
  mkdirSync(empty);
  writeFileSync(join(empty, 'model.safetensors'), '');
  await assert.rejects(resolveCheckpoint(empty, hubConfig(join(work, 'cache-local'))), (err: unknown) => isGeulError(err) && err.code === 'MODEL_FILE_MISSING');
  assert.equal(hub.count(), 0);
});

test('checkConfig sees config.json before any weights are fetched: a GPT-2 repo stops with MODEL_INVALID naming the supported types', { skip }, async () => {
  hub.clearRequests();
  await assert.rejects(
    resolveCheckpoint('acme/gpt2', hubConfig(join(work, 'cache-gpt2')), { checkConfig: (raw) => void parseEncoderConfig(raw, 'acme/gpt2') }),
    (err: unknown) => isGeulError(err) && err.code === 'MODEL_INVALID' && /gpt2.*supported: bert, distilbert, roberta, xlm-roberta/.test(err.message),
  );
  assert.equal(hub.count({ file: 'model.safetensors' }), 0);
});

test('the configured revision picks the snapshot', { skip }, async () => {
  const cacheDir = join(work, 'cache-revision');
  hub.addRepo('acme/bin', 'v2', { 'config.json': readFileSync(join(reference!, 'config.json'), 'utf8'), 'model.safetensors': readFileSync(join(reference!, 'model.safetensors')) });
  const dir = await resolveCheckpoint('acme/bin', hubConfig(cacheDir, { revision: 'v2' }));
  assert.equal(dir, join(cacheDir, 'acme', 'bin', 'v2'));
  assert.ok(existsSync(join(dir, 'model.safetensors')) && !existsSync(join(dir, 'pytorch_model.bin')));
  await assert.rejects(resolveCheckpoint('acme/bin', hubConfig(cacheDir, { revision: 'nope' })), (err: unknown) => isGeulError(err) && err.code === 'MODEL_NOT_FOUND');
});
