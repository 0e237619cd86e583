// loadConfig layering (defaults < file < env < flags), the Hugging Face variables, and INVALID_CONFIG for bad values.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFromEnv, loadConfig } from '../../src/core/config.js';
import { isGeulError } from '../../src/core/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'geul-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function fails(fn: () => unknown, code: string, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isGeulError(err), String(err));
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

test('defaults: huggingface.co, main, online, auto dtype, XDG cache folder', () => {
  const config = loadConfig({}, { env: { XDG_CACHE_HOME: '/x/cache', XDG_DATA_HOME: '/x/data' }, skipFile: true });
  assert.equal(config.hubUrl, 'https://huggingface.co');
  assert.equal(config.revision, 'main');
  assert.equal(config.offline, false);
  assert.equal(config.dtype, 'auto');
  assert.equal(config.threads, 0);
  assert.equal(config.hubToken, undefined);
  assert.equal(config.cacheDir, '/x/cache/geul/models');
  assert.equal(config.dataDir, '/x/data/geul');
});

test('layers: defaults < file < env < flags', () => {
  const path = file('layers.json', { revision: 'from-file', dtype: 'q8', threads: 2, cacheDir: '/file/cache', hubUrl: 'http://file.example' });
  const env = { GEUL_REVISION: 'from-env', GEUL_THREADS: '3' };
  const fromFile = loadConfig({}, { env: {}, file: path });
  assert.deepEqual([fromFile.revision, fromFile.dtype, fromFile.threads, fromFile.cacheDir], ['from-file', 'q8', 2, '/file/cache']);
  const fromEnv = loadConfig({}, { env, file: path });
  assert.deepEqual([fromEnv.revision, fromEnv.dtype, fromEnv.threads, fromEnv.hubUrl], ['from-env', 'q8', 3, 'http://file.example']);
  const fromFlags = loadConfig({ revision: 'from-flag', threads: '4', dtype: undefined }, { env, file: path });
  assert.deepEqual([fromFlags.revision, fromFlags.dtype, fromFlags.threads], ['from-flag', 'q8', 4]);
  // GEUL_CONFIG names the file when no explicit one is given.
  assert.equal(loadConfig({}, { env: { GEUL_CONFIG: path } }).revision, 'from-file');
});

test('server and jobs sections: a flag left unset keeps the env\'s or the file\'s field', () => {
  const path = file('sections.json', { server: { host: '0.0.0.0' }, jobs: { concurrency: 3 } });
  const env = { GEUL_JOBS_DIR: '/env/jobs', GEUL_MODELS_DIR: '/env/models' };
  const config = loadConfig({ server: { modelsDir: undefined, port: 9000 }, jobs: { dir: undefined, withWorker: true } }, { env, file: path });
  assert.deepEqual([config.jobs.dir, config.jobs.concurrency, config.jobs.withWorker], ['/env/jobs', 3, true]);
  assert.deepEqual([config.server.modelsDir, config.server.host, config.server.port], ['/env/models', '0.0.0.0', 9000]);
  assert.equal(loadConfig({ jobs: { dir: '/flag/jobs' } }, { env, file: path }).jobs.dir, '/flag/jobs');
});

test('hub endpoint, token and offline follow GEUL_* first, then the Hugging Face variables', () => {
  const hf = loadConfig({}, { env: { HF_ENDPOINT: 'http://mirror.example/', HF_TOKEN: 'hf_a', HF_HUB_OFFLINE: '1' }, skipFile: true });
  assert.deepEqual([hf.hubUrl, hf.hubToken, hf.offline], ['http://mirror.example', 'hf_a', true]);
  const geul = loadConfig({}, {
    env: { HF_ENDPOINT: 'http://mirror.example', GEUL_HUB_URL: 'http://127.0.0.1:9999//', HF_TOKEN: 'hf_a', GEUL_HUB_TOKEN: 'g', HF_HUB_OFFLINE: '1', GEUL_OFFLINE: '0' },
    skipFile: true,
  });
  assert.deepEqual([geul.hubUrl, geul.hubToken, geul.offline], ['http://127.0.0.1:9999', 'g', false]);
  assert.equal(loadConfig({ hubUrl: 'http://flag.example' }, { env: { GEUL_HUB_URL: 'http://env.example' }, skipFile: true }).hubUrl, 'http://flag.example');
  for (const [value, expected] of [['1', true], ['true', true], ['yes', true], ['0', false], ['false', false], ['NO', false]] as const) {
    assert.equal(configFromEnv({ GEUL_OFFLINE: value }).offline, expected, value);
  }
  assert.equal(configFromEnv({ GEUL_OFFLINE: '' }).offline, undefined);
});

test('invalid values are INVALID_CONFIG naming the field; a missing explicit file is FILE_NOT_FOUND', () => {
  fails(() => loadConfig({ dtype: 'q3' }, { env: {}, skipFile: true }), 'INVALID_CONFIG', /dtype/);
  fails(() => loadConfig({}, { env: { GEUL_DTYPE: 'float64' }, skipFile: true }), 'INVALID_CONFIG', /dtype/);
  fails(() => loadConfig({ threads: '-1' }, { env: {}, skipFile: true }), 'INVALID_CONFIG', /threads/);
  fails(() => loadConfig({}, { env: { GEUL_THREADS: 'many' }, skipFile: true }), 'INVALID_CONFIG', /threads/);
  fails(() => loadConfig({}, { env: { GEUL_LOG_LEVEL: 'loud' }, skipFile: true }), 'INVALID_CONFIG', /logLevel/);
  fails(() => loadConfig({}, { env: {}, file: file('bad-type.json', { offline: 'sometimes' }) }), 'INVALID_CONFIG', /offline/);
  fails(() => loadConfig({}, { env: {}, file: file('broken.json', '{ not json') }), 'INVALID_CONFIG', /broken\.json/);
  fails(() => loadConfig({}, { env: {}, file: file('array.json', [1, 2]) }), 'INVALID_CONFIG', /not a JSON object/);
  fails(() => loadConfig({}, { env: {}, file: join(dir, 'missing.json') }), 'FILE_NOT_FOUND', /missing\.json/);
});

test('jobs.artifacts: local by default; GEUL_ARTIFACTS picks a folder or s3://bucket/prefix, merged field by field with the file', () => {
  const env = { XDG_CACHE_HOME: '/x/cache', XDG_DATA_HOME: '/x/data' };
  assert.deepEqual({ ...loadConfig({}, { env, skipFile: true }).jobs.artifacts }, { store: 'local', prefix: '', region: 'us-east-1' });
  assert.deepEqual({ ...loadConfig({}, { env: { ...env, GEUL_ARTIFACTS: '/srv/artifacts', GEUL_JOBS_DIR: '/srv/jobs' }, skipFile: true }).jobs },
    { ...loadConfig({}, { env, skipFile: true }).jobs, dir: '/srv/jobs', artifacts: { store: 'local', dir: '/srv/artifacts', prefix: '', region: 'us-east-1' } });
  const path = file('s3.json', { jobs: { concurrency: 2, artifacts: { store: 's3', bucket: 'from-file', prefix: 'a/', endpoint: 'http://file:9000' } } });
  const fromFile = loadConfig({}, { env: { ...env, GEUL_S3_ENDPOINT: 'http://minio:9000', AWS_REGION: 'eu-west-1' }, file: path });
  assert.equal(fromFile.jobs.concurrency, 2);
  assert.deepEqual({ ...fromFile.jobs.artifacts }, { store: 's3', bucket: 'from-file', prefix: 'a/', endpoint: 'http://minio:9000', region: 'eu-west-1' }, 'the env endpoint keeps the file\'s bucket');
  const url = loadConfig({}, { env: { ...env, GEUL_ARTIFACTS: 's3://bucket/deep/prefix/', GEUL_S3_REGION: 'auto' }, file: path });
  assert.deepEqual([url.jobs.artifacts.bucket, url.jobs.artifacts.prefix, url.jobs.artifacts.region], ['bucket', 'deep/prefix/', 'auto']);
  assert.equal(loadConfig({}, { env: { ...env, GEUL_ARTIFACTS: 's3://bucket' }, skipFile: true }).jobs.artifacts.prefix, '');
  fails(() => loadConfig({ jobs: { artifacts: { store: 's3' } } }, { env, skipFile: true }), 'INVALID_CONFIG', /jobs\.artifacts\.bucket/);
  fails(() => loadConfig({ jobs: { artifacts: { store: 'ftp' } } }, { env, skipFile: true }), 'INVALID_CONFIG', /jobs\.artifacts\.store/);
});
