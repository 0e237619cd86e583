// pullModel and the file selection behind it: dtype naming, external data, fallbacks, offline and refresh.
import { after, afterEach, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeHub, type FakeHub } from '../helpers/fake-hub.js';
import { loadConfig, type GeulConfig } from '../../src/core/config.js';
import { isGeulError } from '../../src/core/errors.js';
import { onnxFileName, pullModel, resolveLocalDtype } from '../../src/core/hub.js';
import { availableDtypes, parseOnnxFileName, resolveDtype, selectOnnxFiles, selectSupportFiles } from '../../src/core/hub-files.js';

const w = (n: number): Buffer => Buffer.alloc(n, n % 251);
const ENCODER = {
  'config.json': JSON.stringify({ model_type: 'bert' }),
  'tokenizer.json': '{}',
  'tokenizer_config.json': '{}',
  'special_tokens_map.json': '{}',
  'vocab.txt': '[PAD]\n[UNK]\n',
  'README.md': '# not needed',
  '.gitattributes': '*.onnx filter=lfs',
  'onnx/model.onnx': w(3000),
  'onnx/model_quantized.onnx': w(1000),
  'onnx/model_fp16.onnx': w(1500),
  'onnx/model_fp16.onnx_data': w(700),
  'onnx/model_q4.onnx': w(900),
};
const SEQ2SEQ = {
  'config.json': JSON.stringify({ model_type: 'm2m_100', is_encoder_decoder: true }),
  'generation_config.json': '{}',
  'tokenizer.json': '{}',
  'sentencepiece.bpe.model': w(300),
  'onnx/encoder_model_quantized.onnx': w(400),
  'onnx/decoder_model_merged_quantized.onnx': w(500),
  'onnx/decoder_model_quantized.onnx': w(501),
  'onnx/decoder_with_past_model_quantized.onnx': w(502),
  'onnx/encoder_model.onnx': w(800),
};
const ONLY_Q8 = {
  'config.json': JSON.stringify({ model_type: 'gpt2', 'transformers.js_config': { dtype: 'q4' } }),
  'merges.txt': 'a b',
  'vocab.json': '{}',
  'onnx/model_quantized.onnx': w(600),
  'onnx/model_q4.onnx': w(610),
  'onnx/decoder_model_merged_q4.onnx': w(620),
};

let hub: FakeHub;
let config: GeulConfig;

before(async () => {
  hub = await startFakeHub({ repos: { 'acme/enc': { main: ENCODER }, 'acme/m2m': { main: SEQ2SEQ }, 'acme/gpt': { main: ONLY_Q8 } } });
});
after(async () => {
  await hub.close();
});
beforeEach(() => {
  hub.clearFaults();
  hub.clearRequests();
  config = loadConfig({ hubUrl: hub.url, cacheDir: mkdtempSync(join(tmpdir(), 'geul-pull-')) }, { env: {}, skipFile: true });
});
afterEach(() => {
  rmSync(config.cacheDir, { recursive: true, force: true });
});

const paths = (r: { files: { path: string }[] }): string[] => r.files.map((f) => f.path).sort();

test('onnxFileName follows transformers.js naming and parseOnnxFileName inverts it', () => {
  const names = { fp32: 'model.onnx', fp16: 'model_fp16.onnx', q8: 'model_quantized.onnx', int8: 'model_int8.onnx', uint8: 'model_uint8.onnx', q4: 'model_q4.onnx', bnb4: 'model_bnb4.onnx', q4f16: 'model_q4f16.onnx' } as const;
  for (const [dtype, name] of Object.entries(names)) {
    assert.equal(onnxFileName('model', dtype as keyof typeof names), name);
    assert.deepEqual(parseOnnxFileName(name), { base: 'model', dtype });
  }
  assert.equal(onnxFileName('decoder_model_merged', 'q8'), 'decoder_model_merged_quantized.onnx');
  assert.equal(onnxFileName('encoder_model', 'auto'), 'encoder_model.onnx');
  assert.deepEqual(parseOnnxFileName('model_q2f16.onnx'), { base: 'model', dtype: 'other' });
  assert.equal(parseOnnxFileName('model.onnx_data'), undefined);
});

test('selection: one dtype, its external data, no unused decoder exports, support files present', () => {
  const enc = Object.keys(ENCODER);
  assert.deepEqual(selectOnnxFiles(enc, 'fp16'), ['onnx/model_fp16.onnx', 'onnx/model_fp16.onnx_data']);
  assert.deepEqual(selectOnnxFiles(enc, 'fp32'), ['onnx/model.onnx']);
  assert.deepEqual(selectOnnxFiles(Object.keys(SEQ2SEQ), 'q8'), ['onnx/decoder_model_merged_quantized.onnx', 'onnx/encoder_model_quantized.onnx']);
  assert.deepEqual(selectOnnxFiles(Object.keys(ONLY_Q8), 'q4'), ['onnx/model_q4.onnx']);
  assert.deepEqual(selectOnnxFiles(['onnx/model.onnx', 'onnx/model.onnx_data', 'onnx/model.onnx_data_1', 'onnx/model.onnx_data_x'], 'fp32'),
    ['onnx/model.onnx', 'onnx/model.onnx_data', 'onnx/model.onnx_data_1']);
  assert.deepEqual(selectSupportFiles(enc), ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt']);
  assert.deepEqual(selectSupportFiles([...Object.keys(SEQ2SEQ), 'spiece.model', 'sub/x.model']), ['config.json', 'generation_config.json', 'tokenizer.json', 'sentencepiece.bpe.model', 'spiece.model']);
  assert.deepEqual(availableDtypes(enc), ['fp32', 'q8', 'fp16', 'q4']);
  assert.equal(resolveDtype(enc, 'auto'), 'fp32');
  assert.equal(resolveDtype(Object.keys(ONLY_Q8), 'auto', JSON.parse(ONLY_Q8['config.json'])), 'q4');
  assert.equal(resolveDtype(Object.keys(ONLY_Q8), 'auto'), 'q8');
  assert.equal(resolveDtype(enc, 'int8'), 'int8');
});

test('pull fetches config, tokenizer and the q8 weights only, then is a no-op', async () => {
  const first = await pullModel('acme/enc', config, { dtype: 'q8' });
  assert.equal(first.dtype, 'q8');
  assert.deepEqual(paths(first), ['config.json', 'onnx/model_quantized.onnx', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt']);
  assert.ok(first.files.every((f) => f.downloaded));
  assert.equal(first.sha, hub.commitSha('acme/enc', 'main'));
  assert.equal(first.totalSize, first.downloadedBytes);
  assert.deepEqual(readFileSync(join(first.dir, 'onnx/model_quantized.onnx')), ENCODER['onnx/model_quantized.onnx']);
  assert.equal(await resolveLocalDtype(first.dir, 'auto'), 'q8');
  assert.equal(await resolveLocalDtype(first.dir, 'fp16'), 'fp16');
  assert.equal(await resolveLocalDtype(join(config.cacheDir, 'nothing'), 'auto'), 'fp32');
  hub.clearRequests();
  const again = await pullModel('acme/enc', config, { dtype: 'q8' });
  assert.equal(again.downloadedBytes, 0);
  assert.equal(hub.count({ kind: 'api' }), 1);
  assert.equal(hub.count({ kind: 'resolve' }), 0);
});

test('pull with dtype auto, seq2seq layouts and missing dtypes', async () => {
  assert.deepEqual(paths(await pullModel('acme/m2m', config, { dtype: 'q8' })),
    ['config.json', 'generation_config.json', 'onnx/decoder_model_merged_quantized.onnx', 'onnx/encoder_model_quantized.onnx', 'sentencepiece.bpe.model', 'tokenizer.json']);
  const gpt = await pullModel('acme/gpt', config);
  assert.equal(gpt.dtype, 'q4');
  assert.ok(paths(gpt).includes('onnx/model_q4.onnx') && !paths(gpt).includes('onnx/decoder_model_merged_q4.onnx'));
  await assert.rejects(pullModel('acme/enc', config, { dtype: 'bnb4' }), (err: unknown) =>
    isGeulError(err) && err.code === 'MODEL_FILE_MISSING' && /model_bnb4\.onnx \(available dtypes: fp32, q8, fp16, q4\)/.test(err.message));
  await assert.rejects(pullModel('acme/none', config), (err: unknown) => isGeulError(err) && err.code === 'MODEL_NOT_FOUND');
  assert.ok(!existsSync(join(config.cacheDir, 'acme', 'none')));
  await assert.rejects(pullModel('./folder', config), (err: unknown) => isGeulError(err) && err.code === 'INVALID_MODEL_ID' && /local folder/.test(err.message));
});

test('pull without a listing API guesses the usual file names', async () => {
  const mirror = await startFakeHub({ api: false, root: hub.root });
  try {
    const mirrored = { ...config, hubUrl: mirror.url };
    const result = await pullModel('acme/enc', mirrored, { dtype: 'fp16' });
    assert.deepEqual(paths(result), ['config.json', 'onnx/model_fp16.onnx', 'onnx/model_fp16.onnx_data', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt']);
    await assert.rejects(pullModel('acme/enc', mirrored, { dtype: 'int8' }), (err: unknown) => isGeulError(err) && err.code === 'MODEL_FILE_MISSING');
  } finally {
    await mirror.close();
  }
});

test('pull offline checks the cache only; online it refreshes files that changed upstream', async () => {
  const fresh = await startFakeHub({ repos: { 'acme/moving': { main: { 'config.json': '{"v":1}', 'onnx/model.onnx': w(100) } } } });
  try {
    const cfg = { ...config, hubUrl: fresh.url };
    await pullModel('acme/moving', cfg, { dtype: 'fp32' });
    fresh.clearRequests();
    const offline = await pullModel('acme/moving', { ...cfg, offline: true }, { dtype: 'fp32' });
    assert.deepEqual(paths(offline), ['config.json', 'onnx/model.onnx']);
    assert.equal(fresh.count(), 0);
    await assert.rejects(pullModel('acme/moving', { ...cfg, offline: true }, { dtype: 'q8' }), (err: unknown) => isGeulError(err) && err.code === 'MODEL_FILE_MISSING');
    await assert.rejects(pullModel('acme/other', { ...cfg, offline: true }), (err: unknown) => isGeulError(err) && err.code === 'OFFLINE_NOT_CACHED');

    fresh.addRepo('acme/moving', 'main', { 'config.json': '{"v":2}' });
    const refreshed = await pullModel('acme/moving', cfg, { dtype: 'fp32' });
    assert.deepEqual(refreshed.files.filter((f) => f.downloaded).map((f) => f.path), ['config.json']);
    assert.equal(readFileSync(join(refreshed.dir, 'config.json'), 'utf8'), '{"v":2}');
  } finally {
    await fresh.close();
  }
});
