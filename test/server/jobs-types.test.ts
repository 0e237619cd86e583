// GET /v1/jobs/types (each type's params JSON Schema), the server.datasets allow-list (GET /v1/datasets, "dataset:NAME"
// in a file field, never a path), and a succeeded training job's model in /v1/models, the task routes and Batch API
// lines for its owner.
/* eslint-disable @typescript-eslint/no-explicit-any -- answers are read loosely, then checked field by field */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import { KeyStore } from '../../src/store/keys.js';
import { post, serverConfig } from '../helpers/server.js';
import { multipartBody, waitFor, writeToyTsv } from '../jobs/helpers.js';

const work = mkdtempSync(join(tmpdir(), 'geul-jobs-types-'));
const keys = new KeyStore(':memory:');
const alice = keys.create({ name: 'alice', scopes: ['jobs', 'tasks'] }).key;
const bob = keys.create({ name: 'bob', scopes: ['jobs', 'tasks'] }).key;
const auth = (key: string) => ({ authorization: `Bearer ${key}` });
let app: FastifyInstance;
let config: ReturnType<typeof serverConfig>;

before(async () => {
  writeToyTsv(join(work, 'toy.tsv'));
  config = serverConfig({ auth: 'required', datasets: { toy: join(work, 'toy.tsv'), gone: join(work, 'missing.tsv') } });
  app = await buildServer(config, { keys });
});
after(async () => {
  await app.close();
  keys.close();
});

const get = async (url: string, key: string) => {
  const res = await app.inject({ method: 'GET', url, headers: auth(key) });
  return { status: res.statusCode, body: res.body, json: () => JSON.parse(res.body) as Record<string, any> };
};

test('GET /v1/jobs/types lists every job type with its params schema, defaults and fields', async () => {
  const res = await get('/v1/jobs/types', alice);
  assert.equal(res.status, 200, res.body);
  const types = res.json().data as { id: string; params_schema: any; file_fields: string[]; model_fields: string[]; submit_via: string | null }[];
  assert.deepEqual(types.map((t) => t.id), ['train', 'finetune', 'pretrain', 'word2vec', 'embed', 'classify', 'translate', 'batch']);
  const train = types.find((t) => t.id === 'train')!;
  assert.ok(train.params_schema.properties.model.properties.name.enum.includes('lstm'), 'the train model table is in the schema');
  assert.deepEqual(train.params_schema.required, ['data', 'model']);
  assert.deepEqual(train.file_fields, ['data.source', 'data.valid']);
  const finetune = types.find((t) => t.id === 'finetune')!;
  assert.deepEqual(finetune.model_fields, ['model.base']);
  assert.ok(finetune.params_schema.properties.optim.properties.lr.default !== undefined, 'defaults are shown');
  assert.equal(types.find((t) => t.id === 'batch')!.submit_via, 'POST /v1/batches');
  assert.equal((await app.inject({ method: 'GET', url: '/v1/jobs/types' })).statusCode, 401);
});

test('GET /v1/datasets lists the allow-list by name and file name, never a folder; jobs name them as dataset:NAME', async () => {
  const res = await get('/v1/datasets', alice);
  assert.equal(res.status, 200, res.body);
  assert.deepEqual(res.json().data, [{ name: 'toy', filename: 'toy.tsv', bytes: res.json().data[0].bytes }, { name: 'gone', filename: 'missing.tsv', bytes: null }]);
  assert.ok(res.json().data[0].bytes > 0);
  assert.ok(!res.body.includes(work), 'no server path in the answer');
  const unknown = await post(app, '/v1/jobs', { type: 'train', params: { data: { source: 'dataset:nope' }, model: { name: 'lstm' } } }, auth(alice));
  assert.equal(unknown.status, 400);
  assert.match(unknown.json().error!.message, /params\.data\.source: no dataset "nope"/);
  const path = await post(app, '/v1/jobs', { type: 'train', params: { data: { source: join(work, 'toy.tsv') }, model: { name: 'lstm' } } }, auth(alice));
  assert.equal(path.status, 400, 'a path is still refused to a non-admin key');
});

test('a succeeded train job on an allowed dataset: its model is in /v1/models and classifies, for its owner only', { timeout: 180_000 }, async () => {
  const res = await post(app, '/v1/jobs', {
    type: 'train', params: { data: { source: 'dataset:toy', maxLength: 10, vocabSize: 50 }, model: { name: 'lstm', dim: 8, hidden: 8 }, run: { epochs: 2, batchSize: 16, seed: 3, threads: 1 } },
  }, auth(alice));
  assert.equal(res.status, 201, res.body);
  const id = res.json().id as string;
  assert.equal((res.json().params as { data: { source: string } }).data.source, 'dataset:toy', 'the job shows the name, not the path');
  const job = await waitFor(async () => {
    const j = (await get(`/v1/jobs/${id}`, alice)).json();
    return ['succeeded', 'failed', 'cancelled'].includes(j.state) ? j : undefined;
  }, 'the training job to finish');
  assert.equal(job.state, 'succeeded', JSON.stringify(job.error));

  const mine = (await get('/v1/models', alice)).json().data as { id: string; tasks: string[]; owned_by: string }[];
  const model = mine.find((m) => m.id === id);
  assert.ok(model, JSON.stringify(mine));
  assert.ok(model.tasks.includes('classify'), JSON.stringify(model));
  const classified = await post(app, '/v1/classify', { inputs: 'a wonderful film', model: id }, auth(alice));
  assert.equal(classified.status, 200, classified.body);
  const labels = (classified.json() as unknown as { label: string }[]).map((l) => l.label).sort();
  assert.deepEqual(labels, ['negative', 'positive']);

  assert.ok(!((await get('/v1/models', bob)).json().data as { id: string }[]).some((m) => m.id === id), 'another key does not see it');
  const refused = await post(app, '/v1/classify', { inputs: 'a wonderful film', model: id }, auth(bob));
  assert.equal(refused.status, 404, refused.body);
  assert.equal(refused.json().error!.code, 'MODEL_NOT_FOUND');

  // A Batch API line may name it too, for its owner only (another key's line is an error line, as its request would be).
  const batchOf = async (key: string) => {
    const content = JSON.stringify({ custom_id: 'c1', method: 'POST', url: '/v1/classify', body: { inputs: 'a wonderful film', model: id } });
    const { payload, contentType } = multipartBody({ purpose: 'batch' }, { name: 'lines.jsonl', content });
    const file = await app.inject({ method: 'POST', url: '/v1/files', payload, headers: { ...auth(key), 'content-type': contentType } });
    assert.equal(file.statusCode, 200, file.body);
    const created = await post(app, '/v1/batches', { input_file_id: JSON.parse(file.body).id, endpoint: '/v1/classify', completion_window: '24h' }, auth(key));
    assert.equal(created.status, 200, created.body);
    return waitFor(async () => {
      const b = (await get(`/v1/batches/${created.json().id as string}`, key)).json();
      return ['completed', 'failed', 'cancelled'].includes(b.status) ? b : undefined;
    }, 'the batch to finish');
  };
  const lines = async (key: string, fileId: string) => (await get(`/v1/files/${fileId}/content`, key)).body.trim().split('\n').map((l) => JSON.parse(l));
  const own = await batchOf(alice);
  assert.equal(own.status, 'completed', JSON.stringify(own));
  assert.deepEqual(own.request_counts, { total: 1, completed: 1, failed: 0 });
  const [answer] = await lines(alice, own.output_file_id);
  assert.equal(answer.response.status_code, 200, JSON.stringify(answer));
  assert.deepEqual((answer.response.body as { label: string }[]).map((l) => l.label).sort(), ['negative', 'positive']);
  const foreign = await batchOf(bob);
  assert.deepEqual(foreign.request_counts, { total: 1, completed: 0, failed: 1 }, JSON.stringify(foreign));
  const [error] = await lines(bob, foreign.error_file_id);
  assert.equal(error.response.status_code, 404, JSON.stringify(error));
  assert.equal(error.error.code, 'MODEL_NOT_FOUND');

  // A server started later on the same data folder (another replica, a restart) lists it from the queue.
  const later = await buildServer({ ...config, jobs: { ...config.jobs, concurrency: 0 } }, { keys });
  try {
    const listed = await later.inject({ method: 'GET', url: '/v1/models', headers: auth(alice) });
    assert.ok((JSON.parse(listed.body).data as { id: string }[]).some((m) => m.id === id), listed.body);
  } finally {
    await later.close();
  }
});
