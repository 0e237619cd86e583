// One artifact-store suite run against both stores: the local folder and S3 (a real S3-compatible server, s3rver,
// in-process on loopback): publish, list, stat, whole and ranged reads, re-publishing, names outside, failures.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/core/config.js';
import { LocalArtifactStore, openArtifactStore, type ArtifactStore } from '../../src/jobs/artifact-store.js';
import { jobWorkDir } from '../../src/jobs/runner.js';
import { S3ArtifactStore } from '../../src/jobs/s3-artifacts.js';
import { startS3, type TestS3 } from '../helpers/s3.js';

const tmp = mkdtempSync(join(tmpdir(), 'geul-artifact-store-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let folders = 0;
const folder = (name: string) => {
  const dir = join(tmp, `${name}-${folders++}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};

/** A finished job's work folder: artifacts, nested ones, an empty one, and state and temporary files that are not. */
function workFolder(): { dir: string; files: Record<string, Buffer> } {
  const dir = folder('work');
  const files: Record<string, Buffer> = {
    'embeddings.jsonl': Buffer.from(Array.from({ length: 50 }, (_, i) => JSON.stringify({ index: i, embedding: [i, i / 2] })).join('\n') + '\n'),
    'run/onnx/model.onnx': Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 37) % 256)),
    'run/config.json': Buffer.from('{"labels":["a","b"]}'),
    'empty.txt': Buffer.alloc(0),
  };
  for (const [name, bytes] of Object.entries({ ...files, '.state.json': Buffer.from('{}'), 'out.jsonl.tmp-1': Buffer.from('half'), 'run/.checkpoint.partial': Buffer.from('x') })) {
    mkdirSync(join(dir, ...name.split('/').slice(0, -1)), { recursive: true });
    writeFileSync(join(dir, ...name.split('/')), bytes);
  }
  return { dir, files };
}

const readBytes = async (store: ArtifactStore, job: string, name: string, range?: { start: number; end: number }) => {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.read(job, name, range)) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
};

interface Backend { store: ArtifactStore; failing: ArtifactStore; close(): Promise<void> }

function artifactStoreSuite(name: string, open: () => Promise<Backend>): void {
  describe(`artifact store: ${name}`, () => {
    let backend: Backend;
    let jobs = 0;
    const jobId = () => `job_${name}${jobs++}`;
    before(async () => { backend = await open(); });
    after(() => backend.close());

    test('a job that published nothing has no artifacts', async () => {
      const { store } = backend;
      assert.deepEqual(await store.list(jobId()), []);
      assert.equal(await store.stat(jobId(), 'embeddings.jsonl'), undefined);
    });

    test('publish makes the visible files the artifacts, with their sizes; reads give their bytes, whole and by range', async () => {
      const { store } = backend;
      const { dir, files } = workFolder();
      const id = jobId();
      const published = await store.publish(id, dir);
      const expected = Object.keys(files).sort((a, b) => a.localeCompare(b)).map((n) => ({ name: n, bytes: files[n].length }));
      assert.deepEqual(published.map((a) => a.name).sort(), expected.map((a) => a.name).sort());
      assert.deepEqual(await store.list(id), published);
      assert.deepEqual(new Set((await store.list(id)).map((a) => `${a.name}:${a.bytes}`)), new Set(expected.map((a) => `${a.name}:${a.bytes}`)));
      for (const [n, bytes] of Object.entries(files)) {
        assert.deepEqual(await store.stat(id, n), { bytes: bytes.length }, n);
        if (bytes.length > 0) assert.ok((await readBytes(store, id, n)).equals(bytes), n);
      }
      const model = files['run/onnx/model.onnx'];
      assert.ok((await readBytes(store, id, 'run/onnx/model.onnx', { start: 100, end: 1099 })).equals(model.subarray(100, 1100)));
      assert.ok((await readBytes(store, id, 'run/onnx/model.onnx', { start: model.length - 1, end: model.length - 1 })).equals(model.subarray(-1)));
    });

    test('publishing twice gives the same set; a republish replaces changed bytes and drops removed files', async () => {
      const { store } = backend;
      const { dir, files } = workFolder();
      const id = jobId();
      const first = await store.publish(id, dir);
      assert.deepEqual(await store.publish(id, dir), first, 'at-least-once delivery: a second publish changes nothing');
      assert.deepEqual(await store.list(id), first);
      writeFileSync(join(dir, 'embeddings.jsonl'), 'replaced\n');
      rmSync(join(dir, 'run', 'config.json'));
      await store.publish(id, dir);
      const names = (await store.list(id)).map((a) => a.name);
      assert.ok(!names.includes('run/config.json'), names.join());
      assert.equal(await store.stat(id, 'run/config.json'), undefined);
      assert.deepEqual(await store.stat(id, 'embeddings.jsonl'), { bytes: 9 });
      assert.equal((await readBytes(store, id, 'embeddings.jsonl')).toString(), 'replaced\n');
      assert.ok((await readBytes(store, id, 'run/onnx/model.onnx')).equals(files['run/onnx/model.onnx']));
    });

    test('names outside the published artifacts are never found', async () => {
      const { store } = backend;
      const { dir } = workFolder();
      const id = jobId();
      const other = jobId();
      await store.publish(id, dir);
      await store.publish(other, dir);
      for (const n of ['', '.state.json', 'out.jsonl.tmp-1', 'run/.checkpoint.partial', '../' + other + '/embeddings.jsonl', 'run/../embeddings.jsonl', 'run//config.json', '/embeddings.jsonl', 'run', 'nope.txt', 'run\\config.json']) {
        assert.equal(await store.stat(id, n), undefined, JSON.stringify(n));
      }
      await assert.rejects(store.read(id, 'nope.txt'), (err: { code?: string }) => err.code === 'NOT_FOUND');
      await assert.rejects(store.list('../etc'), (err: { code?: string }) => err.code === 'INVALID_INPUT');
    });

    test('a file larger than one upload part arrives whole (parts for S3)', async () => {
      const { store } = backend;
      const dir = folder('big');
      const big = Buffer.alloc(5 * 1024 * 1024 + 123_457);
      for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE(i, i);
      writeFileSync(join(dir, 'vectors.bin'), big);
      const id = jobId();
      assert.deepEqual(await store.publish(id, dir), [{ name: 'vectors.bin', bytes: big.length }]);
      const boundary = 5 * 1024 * 1024;
      assert.ok((await readBytes(store, id, 'vectors.bin', { start: boundary - 10, end: boundary + 9 })).equals(big.subarray(boundary - 10, boundary + 10)), 'a range across the part boundary');
      assert.ok((await readBytes(store, id, 'vectors.bin')).equals(big));
    });

    test('a store that cannot work fails with ARTIFACT_STORE_FAILED, naming the store', async () => {
      const { failing } = backend;
      const { dir } = workFolder();
      const isStoreError = (err: { code?: string; message?: string }) => err.code === 'ARTIFACT_STORE_FAILED' && err.message!.includes(failing.description);
      await backend.store.check();
      await assert.rejects(failing.check(), isStoreError, 'found at start');
      await assert.rejects(failing.publish(jobId(), dir), isStoreError);
    });
  });
}

artifactStoreSuite('local', async () => {
  const blocked = join(folder('blocked'), 'a-file');
  writeFileSync(blocked, 'not a folder');
  return { store: new LocalArtifactStore(folder('artifacts')), failing: new LocalArtifactStore(blocked), close: async () => {} };
});

let s3: TestS3 | undefined;
artifactStoreSuite('s3', async () => {
  s3 = await startS3();
  // A small part size so the big-file case goes through the multipart upload.
  const store = new S3ArtifactStore(s3.options('suite/', { partSize: 5 * 1024 * 1024 }));
  const failing = new S3ArtifactStore({ ...s3.options('suite/'), bucket: 'no-such-bucket' });
  return { store, failing, close: async () => { await store.close(); await failing.close(); await s3!.close(); } };
});

test('by default the local store is the jobs folder itself: a work folder is its artifact folder and publishing copies nothing', async () => {
  const dataDir = folder('data');
  const config = loadConfig({ dataDir, cacheDir: join(dataDir, 'cache') }, { skipFile: true, env: {} });
  const store = await openArtifactStore(config, {});
  assert.ok(store instanceof LocalArtifactStore);
  const workDir = jobWorkDir(config, 'job_default');
  mkdirSync(workDir, { recursive: true });
  writeFileSync(join(workDir, 'embeddings.jsonl'), '{"index":0}\n');
  assert.deepEqual(await store.list('job_default'), [{ name: 'embeddings.jsonl', bytes: 12 }], 'visible before publishing');
  assert.deepEqual(await store.publish('job_default', workDir), [{ name: 'embeddings.jsonl', bytes: 12 }]);
});

test('openArtifactStore builds the S3 store from GEUL_ARTIFACTS=s3://…, GEUL_S3_ENDPOINT and the AWS keys in the environment', async () => {
  const server = await startS3();
  try {
    const env = server.env('from-env');
    const dataDir = folder('data');
    const config = loadConfig({ dataDir, cacheDir: join(dataDir, 'cache') }, { skipFile: true, env });
    assert.deepEqual({ ...config.jobs.artifacts }, { store: 's3', bucket: server.bucket, prefix: 'from-env/', endpoint: server.endpoint, region: 'us-east-1' });
    const store = await openArtifactStore(config, env);
    try {
      assert.equal(store.description, `s3://${server.bucket}/from-env/ at ${server.endpoint}`);
      const { dir } = workFolder();
      await store.publish('job_env', dir);
      // Read back with a store of its own: the objects are really in the bucket, under the prefix.
      const direct = new S3ArtifactStore(server.options('from-env/'));
      assert.deepEqual(await direct.list('job_env'), await store.list('job_env'));
      await direct.close();
    } finally {
      await store.close();
    }
  } finally {
    await server.close();
  }
});
