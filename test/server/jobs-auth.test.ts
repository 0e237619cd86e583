// Jobs and files per API key: the jobs scope, owners see only their jobs and files, admins see all, server paths
// need an admin key, per-key pending limits, and uploads streamed to disk with a 413 over server.uploadLimit.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { GeulConfig } from '../../src/core/config.js';
import { jobsDir } from '../../src/jobs/runner.js';
import { buildServer } from '../../src/server/app.js';
import { KeyStore } from '../../src/store/keys.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { post, serverConfig } from '../helpers/server.js';
import { multipartBody, waitFor } from '../jobs/helpers.js';
import type { ApiBody } from '../jobs/helpers.js';

let app: FastifyInstance;
let config: GeulConfig;
const keys = new KeyStore(':memory:');
const alice = keys.create({ name: 'alice', scopes: ['jobs'] }).key;
const bob = keys.create({ name: 'bob', scopes: ['jobs', 'tasks'] }).key;
const tasksOnly = keys.create({ name: 'tasks-only', scopes: ['tasks'] }).key;
const admin = keys.create({ name: 'root', scopes: ['admin'] }).key;
const texts = Array.from({ length: 30 }, (_, i) => JSON.stringify({ text: `text number ${i}` })).join('\n');

before(async () => {
  const fixtures = await fixturesDir();
  config = serverConfig({ auth: 'required', uploadLimit: 4096, defaults: { embeddings: join(fixtures, 'tiny-bert-embed') } }, { jobs: { maxPendingPerKey: 2, concurrency: 0 } });
  app = await buildServer(config, { keys });
});
after(async () => {
  await app.close();
  keys.close();
});

const auth = (key: string) => ({ authorization: `Bearer ${key}` });
const get = async (url: string, key: string) => {
  const res = await app.inject({ method: 'GET', url, headers: auth(key) });
  return { status: res.statusCode, json: () => JSON.parse(res.body) as ApiBody };
};
async function upload(key: string, content: string | Buffer, purpose = 'batch', name = 'texts.jsonl') {
  const { payload, contentType } = multipartBody({ purpose }, { name, content });
  const res = await app.inject({ method: 'POST', url: '/v1/files', payload, headers: { ...auth(key), 'content-type': contentType } });
  return { status: res.statusCode, json: () => JSON.parse(res.body) as ApiBody };
}

test('scopes: jobs needs the jobs scope (or admin); no key is 401', async () => {
  const body = { type: 'embed', params: { input: 'file-x' } };
  assert.equal((await post(app, '/v1/jobs', body)).status, 401);
  const forbidden = await post(app, '/v1/jobs', body, auth(tasksOnly));
  assert.equal(forbidden.status, 403);
  assert.match(forbidden.json().error!.message, /"jobs" scope/);
  assert.equal((await get('/v1/jobs', tasksOnly)).status, 403);
  assert.equal((await upload(tasksOnly, texts)).status, 403);
});

test('owners: a key sees and uses only its own jobs and files; admins see all; server paths need admin', async () => {
  const file = await upload(alice, texts);
  assert.equal(file.status, 200);
  const uploaded = file.json();
  assert.equal(uploaded.object, 'file');
  assert.equal(uploaded.bytes, Buffer.byteLength(texts));
  assert.equal(uploaded.purpose, 'batch');
  assert.match(uploaded.id, /^file-/);
  const stored = readdirSync(join(jobsDir(config), 'files'));
  assert.deepEqual(stored.map((n) => readFileSync(join(jobsDir(config), 'files', n), 'utf8')), [texts], 'the bytes are on disk, whole');

  const submitted = await post(app, '/v1/jobs', { type: 'embed', params: { input: uploaded.id } }, auth(alice));
  assert.equal(submitted.status, 201, submitted.body);
  const job = submitted.json() as { id: string; params: { input: string } };
  assert.equal(job.params.input, uploaded.id, 'the client sees its file id, never the server path');

  assert.equal((await get(`/v1/jobs/${job.id}`, alice)).status, 200);
  assert.equal((await get(`/v1/jobs/${job.id}`, bob)).status, 404, "another key's job does not exist for bob");
  assert.equal((await post(app, `/v1/jobs/${job.id}/cancel`, {}, auth(bob))).status, 404);
  assert.equal((await get(`/v1/jobs/${job.id}/events`, bob)).status, 404);
  assert.equal((await get(`/v1/jobs/${job.id}/artifacts`, bob)).status, 404);
  assert.deepEqual((await get('/v1/jobs', bob)).json().data, []);
  assert.deepEqual((await get('/v1/jobs', alice)).json().data.map((j: { id: string }) => j.id), [job.id]);
  assert.deepEqual((await get('/v1/jobs', admin)).json().data.map((j: { id: string }) => j.id), [job.id], 'admins see every job');
  assert.equal((await get(`/v1/jobs/${job.id}`, admin)).status, 200);

  const theft = await post(app, '/v1/jobs', { type: 'embed', params: { input: uploaded.id } }, auth(bob));
  assert.equal(theft.status, 400);
  assert.match(theft.json().error!.message, /params\.input: no file/);
  const path = await post(app, '/v1/jobs', { type: 'embed', params: { input: '/etc/passwd' } }, auth(bob));
  assert.equal(path.status, 400);
  assert.match(path.json().error!.message, /params\.input: must be a file id/);
  const corpus = await post(app, '/v1/jobs', { type: 'word2vec', params: { corpus: [uploaded.id, '/etc/hosts'] } }, auth(alice));
  assert.match(corpus.json().error!.message, /params\.corpus\.1: must be a file id/);
  assert.equal((await post(app, '/v1/jobs', { type: 'embed', params: { input: uploaded.id } }, auth(admin))).status, 201, 'admins may use any file');

  // maxPendingPerKey is 2 (nothing runs: concurrency 0): alice's third pending job is refused, a cancel frees a place.
  const second = await post(app, '/v1/jobs', { type: 'embed', params: { input: uploaded.id } }, auth(alice));
  assert.equal(second.status, 201);
  const third = await post(app, '/v1/jobs', { type: 'embed', params: { input: uploaded.id } }, auth(alice));
  assert.equal(third.status, 429);
  assert.equal(third.json().error?.code, 'JOB_LIMIT');
  assert.equal((await post(app, `/v1/jobs/${job.id}/cancel`, {}, auth(alice))).json().state, 'cancelled');
  assert.equal((await post(app, '/v1/jobs', { type: 'embed', params: { input: uploaded.id } }, auth(alice))).status, 201);
  const cancelledEvents = await waitFor(async () => {
    const res = await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/events`, headers: auth(alice) });
    return res.body.includes('"cancelled"') ? res.body : undefined;
  }, 'the cancelled state event');
  assert.match(cancelledEvents, /event: state\ndata: \{"state":"cancelled"\}/);
});

test('uploads: over server.uploadLimit → 413 and nothing kept; a bad purpose or no file → 400 naming the field', async () => {
  const before = readdirSync(join(jobsDir(config), 'files')).length;
  const big = await upload(alice, Buffer.alloc(10_000, 'a'));
  assert.equal(big.status, 413);
  assert.equal(big.json().error.code, 'PAYLOAD_TOO_LARGE');
  const purpose = await upload(alice, texts, 'training');
  assert.equal(purpose.status, 400);
  assert.match(purpose.json().error.message, /purpose: must be one of batch, data/);
  const res = await app.inject({ method: 'POST', url: '/v1/files', payload: '{}', headers: { ...auth(alice), 'content-type': 'application/json' } });
  assert.equal(res.statusCode, 400);
  assert.equal(readdirSync(join(jobsDir(config), 'files')).length, before, 'refused uploads leave no file behind');
});
