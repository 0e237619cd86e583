// Artifact stores through the server: an embed job publishes to a real S3-compatible server (s3rver, in-process on
// loopback) or to a folder of its own (a shared volume), and its artifacts list and download from there (Content-Length,
// ranges) with the local work folder gone; a broken store stops the start or fails the job, never silently.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import { jobWorkDir } from '../../src/jobs/runner.js';
import { S3ArtifactStore } from '../../src/jobs/s3-artifacts.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { startS3, S3RVER_CREDENTIALS, type TestS3 } from '../helpers/s3.js';
import { post, serverConfig } from '../helpers/server.js';
import { waitFor, writeTextsJsonl, type JobBody } from '../jobs/helpers.js';

const work = mkdtempSync(join(tmpdir(), 'geul-jobs-artifacts-'));
let s3: TestS3;
let embedModel: string;
const apps: FastifyInstance[] = [];

before(async () => {
  s3 = await startS3('geul-test', ['geul-doomed']);
  embedModel = join(await fixturesDir(), 'tiny-bert-embed');
  writeTextsJsonl(join(work, 'texts.jsonl'), 40);
  // The credentials come from the environment, as in production; job children inherit it.
  process.env.AWS_ACCESS_KEY_ID = S3RVER_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = S3RVER_CREDENTIALS.secretAccessKey;
});
after(async () => {
  for (const app of apps) await app.close();
  await s3.close();
  rmSync(work, { recursive: true, force: true });
});

async function server(bucket: string | { dir: string }) {
  const artifacts = typeof bucket === 'string' ? { store: 's3', bucket, prefix: 'server/', endpoint: s3.endpoint } : { store: 'local', dir: bucket.dir };
  const config = serverConfig({ defaults: { embeddings: embedModel } }, { jobs: { artifacts } });
  const app = await buildServer(config);
  apps.push(app);
  const get = async (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });
  const finished = async (id: string) => waitFor(async () => {
    const job = JSON.parse((await get(`/v1/jobs/${id}`)).body) as JobBody;
    return ['succeeded', 'failed', 'cancelled'].includes(job.state) ? job : undefined;
  }, `job ${id} to finish`);
  return { app, config, get, finished };
}

test('an embed job publishes to S3; its artifacts list and download from there, whole and by range', { timeout: 120_000 }, async () => {
  const { app, config, get, finished } = await server(s3.bucket);
  const res = await post(app, '/v1/jobs', { type: 'embed', params: { input: join(work, 'texts.jsonl'), id: 'id', chunkSize: 10 } });
  assert.equal(res.status, 201, res.body);
  const job = await finished(res.json().id as string);
  assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
  assert.deepEqual(job.artifacts.map((a) => a.name), ['embeddings.jsonl'], 'only the published files; the job state files are not');
  const { bytes, url } = job.artifacts[0];

  // The objects are in the bucket under the prefix, and the local copy is not needed any more.
  const direct = new S3ArtifactStore(s3.options('server/'));
  assert.deepEqual(await direct.list(job.id), [{ name: 'embeddings.jsonl', bytes }]);
  await direct.close();
  rmSync(jobWorkDir(config, job.id), { recursive: true, force: true });
  assert.ok(!existsSync(jobWorkDir(config, job.id)));

  const listed = JSON.parse((await get(`/v1/jobs/${job.id}/artifacts`)).body) as { data: JobBody['artifacts'] };
  assert.deepEqual(listed.data, job.artifacts);

  const whole = await get(url);
  assert.equal(whole.statusCode, 200, whole.body);
  assert.equal(whole.headers['content-length'], String(bytes));
  assert.equal(whole.headers['accept-ranges'], 'bytes');
  const lines = whole.body.trimEnd().split('\n').map((l) => JSON.parse(l) as { index: number; id: string; embedding: number[] });
  assert.deepEqual(lines.map((l) => l.index), Array.from({ length: 40 }, (_, i) => i), 'every row once, in input order');
  assert.deepEqual(lines.map((l) => l.id), Array.from({ length: 40 }, (_, i) => `r${i}`));

  const part = await get(url, { range: 'bytes=10-99' });
  assert.equal(part.statusCode, 206);
  assert.equal(part.headers['content-range'], `bytes 10-99/${bytes}`);
  assert.equal(part.headers['content-length'], '90');
  assert.equal(part.body, whole.body.slice(10, 100));
  const tail = await get(url, { range: 'bytes=-25' });
  assert.equal(tail.statusCode, 206);
  assert.equal(tail.body, whole.body.slice(-25));
  const outside = await get(url, { range: `bytes=${bytes}-` });
  assert.equal(outside.statusCode, 416);
  assert.equal(outside.headers['content-range'], `bytes */${bytes}`);
  assert.equal((await get(`/v1/jobs/${job.id}/artifacts/.embed-state.json`)).statusCode, 404);
  assert.equal((await get(`/v1/jobs/${job.id}/artifacts/nope.jsonl`)).statusCode, 404);
});

test('an embed job publishes to a folder of its own (a shared volume): copied there whole, served from there', { timeout: 120_000 }, async () => {
  const dir = join(work, 'shared-artifacts');
  const { app, config, get, finished } = await server({ dir });
  const res = await post(app, '/v1/jobs', { type: 'embed', params: { input: join(work, 'texts.jsonl'), chunkSize: 15 } });
  const job = await finished(res.json().id as string);
  assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
  assert.deepEqual(readdirSync(join(dir, job.id)), ['embeddings.jsonl'], 'only the artifacts are copied, not the job state');
  const original = readFileSync(join(jobWorkDir(config, job.id), 'embeddings.jsonl'), 'utf8');
  rmSync(jobWorkDir(config, job.id), { recursive: true, force: true });
  assert.deepEqual(job.artifacts.map((a) => [a.name, a.bytes]), [['embeddings.jsonl', Buffer.byteLength(original)]]);
  const part = await get(job.artifacts[0].url, { range: 'bytes=5-' });
  assert.equal(part.statusCode, 206);
  assert.equal(part.body, original.slice(5));
  assert.equal(original.trimEnd().split('\n').length, 40);
});

test('a server whose artifact store cannot work refuses to start with ARTIFACT_STORE_FAILED', async () => {
  await assert.rejects(server('no-such-bucket'), (err: { code?: string; message?: string }) => {
    assert.equal(err.code, 'ARTIFACT_STORE_FAILED', err.message);
    assert.match(err.message!, /s3:\/\/no-such-bucket\/server\/ at http:\/\/127\.0\.0\.1:\d+\) could not open its bucket: no such bucket/);
    return true;
  });
});

test('a job whose artifact store fails ends failed with ARTIFACT_STORE_FAILED, not succeeded without its output', { timeout: 120_000 }, async () => {
  const { app, get, finished } = await server('geul-doomed');
  // The bucket goes away after the start (deleted, or its permissions changed): publishing fails.
  const client = new S3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: S3RVER_CREDENTIALS });
  await client.send(new DeleteBucketCommand({ Bucket: 'geul-doomed' }));
  client.destroy();
  const res = await post(app, '/v1/jobs', { type: 'embed', params: { input: join(work, 'texts.jsonl'), chunkSize: 20 } });
  assert.equal(res.status, 201, res.body);
  const job = await finished(res.json().id as string);
  assert.equal(job.state, 'failed');
  assert.equal(job.error?.code, 'ARTIFACT_STORE_FAILED');
  assert.match(job.error!.message, /s3:\/\/geul-doomed\/server\//);
  assert.deepEqual(job.artifacts, [], 'a failed job published nothing');
  const download = await get(`/v1/jobs/${job.id}/artifacts/embeddings.jsonl`);
  assert.equal(download.statusCode, 502, 'reading through a broken store is the catalog error, not a silent 404');
  assert.equal((JSON.parse(download.body) as { error: { code: string } }).error.code, 'ARTIFACT_STORE_FAILED');
});
