// ensureModelFiles, listRepoFiles and the cache against the fake hub: reuse without network, revisions, errors, offline.
import { after, afterEach, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeHub, type FakeHub } from '../helpers/fake-hub.js';
import { loadConfig, type GeulConfig } from '../../src/core/config.js';
import { isGeulError } from '../../src/core/errors.js';
import { ensureModelFiles, listRepoFiles, type DownloadProgress } from '../../src/core/hub.js';
import { META_FILE, cachedModelInfo, listCachedModels, readMeta, removeCachedModel } from '../../src/core/cache.js';

const bytes = (n: number, seed: number): Buffer => Buffer.from(Buffer.alloc(n).map((_, i) => (i * seed + 13) % 251));
const TINY = {
  'config.json': JSON.stringify({ model_type: 'bert' }),
  'tokenizer.json': JSON.stringify({ version: '1.0' }),
  'onnx/model_quantized.onnx': bytes(50_000, 7),
};
const TINY_V2 = { ...TINY, 'config.json': JSON.stringify({ model_type: 'bert', v: 2 }) };

let hub: FakeHub;
let cacheDir: string;
let config: GeulConfig;

before(async () => {
  hub = await startFakeHub({ repos: { 'acme/tiny': { main: TINY, v2: TINY_V2 }, gpt2: { main: TINY } } });
});
after(async () => {
  await hub.close();
});
beforeEach(() => {
  hub.clearFaults();
  hub.clearRequests();
  cacheDir = mkdtempSync(join(tmpdir(), 'geul-cache-'));
  config = configFor(hub.url);
});
afterEach(() => {
  rmSync(cacheDir, { recursive: true, force: true });
});

function configFor(hubUrl: string, extra: Record<string, unknown> = {}): GeulConfig {
  return loadConfig({ hubUrl, cacheDir, ...extra }, { env: {}, skipFile: true });
}

async function rejectsWith(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isGeulError(err), `expected GeulError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

const needs = { required: ['config.json', 'tokenizer.json', 'onnx/model_quantized.onnx'] };

test('downloads into cacheDir/owner/name/revision, then serves from the cache with the hub stopped', async () => {
  const events: DownloadProgress[] = [];
  const dir = await ensureModelFiles('acme/tiny', config, { ...needs, onProgress: (p) => events.push(p) });
  assert.equal(dir, join(cacheDir, 'acme', 'tiny', 'main'));
  assert.deepEqual(readFileSync(join(dir, 'onnx/model_quantized.onnx')), TINY['onnx/model_quantized.onnx']);
  assert.ok(events.some((e) => e.model === 'acme/tiny' && e.file === 'onnx/model_quantized.onnx' && e.received === 50_000 && e.total === 50_000));
  const meta = await readMeta(dir);
  assert.equal(meta?.sha, hub.commitSha('acme/tiny', 'main'));
  assert.equal(meta?.files['onnx/model_quantized.onnx'].size, 50_000);

  const gone = await startFakeHub();
  const url = gone.url;
  await gone.close();
  assert.equal(await ensureModelFiles('acme/tiny', configFor(url), needs), dir);
});

test('a second call makes no request at all; optional files the hub lacks are remembered', async () => {
  const options = { ...needs, optional: ['special_tokens_map.json'] };
  const dir = await ensureModelFiles('acme/tiny', config, options);
  assert.ok(!existsSync(join(dir, 'special_tokens_map.json')));
  assert.deepEqual((await readMeta(dir))?.absent, ['special_tokens_map.json']);
  hub.clearRequests();
  await ensureModelFiles('acme/tiny', config, options);
  assert.equal(hub.count(), 0);
});

test('owner-less ids and other revisions get their own snapshot folders', async () => {
  assert.equal(await ensureModelFiles('gpt2', config, needs), join(cacheDir, '@', 'gpt2', 'main'));
  const v2 = await ensureModelFiles('acme/tiny', configFor(hub.url, { revision: 'v2' }), needs);
  assert.equal(v2, join(cacheDir, 'acme', 'tiny', 'v2'));
  assert.equal(JSON.parse(readFileSync(join(v2, 'config.json'), 'utf8')).v, 2);
  const main = await ensureModelFiles('acme/tiny', config, needs);
  assert.equal(JSON.parse(readFileSync(join(main, 'config.json'), 'utf8')).v, undefined);
});

test('concurrent calls for the same files download each file once', async () => {
  const [a, b] = await Promise.all([ensureModelFiles('acme/tiny', config, needs), ensureModelFiles('acme/tiny', config, needs)]);
  assert.equal(a, b);
  assert.equal(hub.count({ kind: 'resolve', file: 'onnx/model_quantized.onnx' }), 1);
});

test('missing repos, revisions and files map to MODEL_NOT_FOUND / MODEL_FILE_MISSING', async () => {
  await rejectsWith(ensureModelFiles('acme/nope', config, needs), 'MODEL_NOT_FOUND', /acme\/nope.*was not found on http/);
  await rejectsWith(ensureModelFiles('acme/tiny', configFor(hub.url, { revision: 'v9' }), needs), 'MODEL_NOT_FOUND', /no revision "v9"/);
  await rejectsWith(ensureModelFiles('acme/tiny', config, { required: ['onnx/model_q4.onnx'] }), 'MODEL_FILE_MISSING', /onnx\/model_q4\.onnx/);
  // A mirror without X-Error-Code: config.json decides whether the model or just the file is missing.
  hub.fault((r) => r.repo === 'acme/ghost', { status: 404 });
  await rejectsWith(ensureModelFiles('acme/ghost', config, { required: ['tokenizer.json'] }), 'MODEL_NOT_FOUND');
  hub.fault('onnx/model_fp16.onnx', { status: 404 });
  await rejectsWith(ensureModelFiles('acme/tiny', config, { required: ['config.json', 'onnx/model_fp16.onnx'] }), 'MODEL_FILE_MISSING', /model_fp16/);
  assert.ok(!existsSync(join(cacheDir, 'acme', 'nope')) && !existsSync(join(cacheDir, 'acme', 'ghost')));
});

test('hub failures: other statuses are HUB_ERROR, a dead hub is HUB_UNREACHABLE', async () => {
  hub.fault('tokenizer.json', { status: 500 }, { times: 1 });
  await rejectsWith(ensureModelFiles('acme/tiny', config, needs), 'HUB_ERROR', /answered 500/);
  const gone = await startFakeHub();
  const url = gone.url;
  await gone.close();
  await rejectsWith(ensureModelFiles('acme/other', configFor(url), needs), 'HUB_UNREACHABLE', new RegExp(url));
});

test('a truncated download is DOWNLOAD_INCOMPLETE, leaves nothing loadable, and a retry succeeds', async () => {
  hub.fault('onnx/model_quantized.onnx', { truncateAt: 1000 }, { times: 1 });
  await rejectsWith(ensureModelFiles('acme/tiny', config, needs), 'DOWNLOAD_INCOMPLETE', /got \d+ of 50000 bytes/);
  const dir = join(cacheDir, 'acme', 'tiny', 'main');
  assert.ok(!existsSync(join(dir, 'onnx/model_quantized.onnx')));
  assert.deepEqual(readdirSync(dir, { recursive: true }).map(String).filter((f) => f.startsWith('onnx')), []);
  await ensureModelFiles('acme/tiny', config, needs);
  assert.deepEqual(readFileSync(join(dir, 'onnx/model_quantized.onnx')), TINY['onnx/model_quantized.onnx']);
});

test('a cached file whose size no longer matches the meta is fetched again', async () => {
  const dir = await ensureModelFiles('acme/tiny', config, needs);
  writeFileSync(join(dir, 'tokenizer.json'), 'garbage that is longer than the original file');
  hub.clearRequests();
  await ensureModelFiles('acme/tiny', config, needs);
  assert.equal(hub.count(), 1);
  assert.equal(readFileSync(join(dir, 'tokenizer.json'), 'utf8'), TINY['tokenizer.json']);
});

test('offline: cached models work with zero requests; missing files are OFFLINE_NOT_CACHED', async () => {
  await ensureModelFiles('acme/tiny', config, needs);
  hub.clearRequests();
  const offline = configFor(hub.url, { offline: true });
  await ensureModelFiles('acme/tiny', offline, { ...needs, optional: ['never-fetched.json'] });
  await rejectsWith(ensureModelFiles('acme/tiny', offline, { required: ['onnx/model.onnx'] }), 'OFFLINE_NOT_CACHED', /"onnx\/model\.onnx" of model "acme\/tiny"/);
  await rejectsWith(ensureModelFiles('acme/new', offline, needs), 'OFFLINE_NOT_CACHED', /"config\.json" of model "acme\/new"/);
  assert.equal(hub.count(), 0);
});

test('HF_ENDPOINT / GEUL_HUB_URL pick the hub; a token is sent as a Bearer header', async () => {
  const viaEnv = loadConfig({ cacheDir }, { env: { HF_ENDPOINT: `${hub.url}/`, HF_TOKEN: 'hf_x' }, skipFile: true });
  assert.equal(viaEnv.hubUrl, hub.url);
  await ensureModelFiles('acme/tiny', viaEnv, { required: ['config.json'] });
  assert.equal(hub.requests.at(-1)?.authorization, 'Bearer hf_x');
  const geulWins = loadConfig({ cacheDir }, { env: { HF_ENDPOINT: 'http://127.0.0.1:9', GEUL_HUB_URL: hub.url }, skipFile: true });
  assert.equal(geulWins.hubUrl, hub.url);
});

test('local folders are checked, never downloaded', async () => {
  const folder = join(cacheDir, 'local-model');
  mkdirSync(join(folder, 'onnx'), { recursive: true });
  writeFileSync(join(folder, 'config.json'), '{}');
  assert.equal(await ensureModelFiles(folder, config, { required: ['config.json'], optional: ['x.json'] }), folder);
  await rejectsWith(ensureModelFiles(folder, config, { required: ['onnx/model.onnx'] }), 'MODEL_FILE_MISSING', /onnx\/model\.onnx/);
  await rejectsWith(ensureModelFiles(join(cacheDir, 'nowhere'), config, { required: ['config.json'] }), 'MODEL_NOT_FOUND');
  await rejectsWith(ensureModelFiles('acme/tiny', config, { required: ['../../etc/passwd'] }), 'INVALID_INPUT');
  await rejectsWith(ensureModelFiles('http://evil/x', config, { required: ['config.json'] }), 'INVALID_MODEL_ID');
  assert.equal(hub.count(), 0);
});

test('listRepoFiles: siblings with sizes and sha; falls back (undefined) when the API is missing', async () => {
  const listing = await listRepoFiles('acme/tiny', 'main', config);
  assert.equal(listing?.sha, hub.commitSha('acme/tiny', 'main'));
  assert.deepEqual(listing?.files.map((f) => f.path), ['config.json', 'onnx/model_quantized.onnx', 'tokenizer.json']);
  const onnx = listing?.files.find((f) => f.path === 'onnx/model_quantized.onnx');
  assert.equal(onnx?.size, 50_000);
  assert.match(onnx?.sha256 ?? '', /^[0-9a-f]{64}$/);
  await rejectsWith(listRepoFiles('acme/nope', 'main', config), 'MODEL_NOT_FOUND');
  hub.fault((r) => r.kind === 'api', { status: 404 }, { times: 1 });
  assert.equal(await listRepoFiles('acme/tiny', 'main', config), undefined);
  const evil = JSON.stringify({ sha: 'x', siblings: [{ rfilename: '../../../etc/passwd' }, { rfilename: '/abs' }, { rfilename: 'ok.json' }] });
  hub.fault((r) => r.kind === 'api', { status: 200, body: evil }, { times: 1 });
  assert.deepEqual((await listRepoFiles('acme/tiny', 'main', config))?.files, [{ path: 'ok.json' }]);
});

test('models cache: list, info (per revision) and rm', async () => {
  await ensureModelFiles('acme/tiny', config, needs);
  await ensureModelFiles('acme/tiny', configFor(hub.url, { revision: 'v2' }), needs);
  await ensureModelFiles('gpt2', config, { required: ['config.json'] });
  writeFileSync(join(cacheDir, 'acme', 'tiny', 'main', 'onnx', 'x.onnx.123-ab.incomplete'), 'partial');
  const all = await listCachedModels(config);
  assert.deepEqual(all.map((m) => [m.id, m.revisions.map((r) => r.revision)]), [['acme/tiny', ['main', 'v2']], ['gpt2', ['main']]]);
  const info = await cachedModelInfo('acme/tiny', config, { revision: 'main' });
  assert.deepEqual(info.revisions[0].files.map((f) => f.path), ['config.json', 'onnx/model_quantized.onnx', 'tokenizer.json']);
  assert.ok(!info.revisions[0].files.some((f) => f.path === META_FILE));
  assert.equal(info.totalSize, Object.values(TINY).reduce((n, v) => n + Buffer.byteLength(v), 0));
  assert.equal(info.revisions[0].sha, hub.commitSha('acme/tiny', 'main'));
  await rejectsWith(cachedModelInfo('acme/tiny', config, { revision: 'v3' }), 'MODEL_NOT_FOUND', /in the cache/);

  const removed = await removeCachedModel('acme/tiny', config, { revision: 'v2' });
  assert.deepEqual(removed.removed, ['v2']);
  assert.ok(removed.freedBytes > 50_000);
  assert.deepEqual((await cachedModelInfo('acme/tiny', config)).revisions.map((r) => r.revision), ['main']);
  await removeCachedModel('acme/tiny', config);
  await removeCachedModel('gpt2', config);
  assert.deepEqual(await listCachedModels(config), []);
  assert.deepEqual(readdirSync(cacheDir), []);
  await rejectsWith(removeCachedModel('acme/tiny', config), 'MODEL_NOT_FOUND');
  await rejectsWith(removeCachedModel('../etc', config), 'INVALID_MODEL_ID');
});
