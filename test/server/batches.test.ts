// OpenAI's Batch and Files APIs over inject(): upload, create, poll to completed, the output and error files (each
// custom_id once, answers equal to the routes' own), bad lines that do not fail the batch, 400s naming the field,
// cancel, the batch as a job, per-key visibility, the quota charged per valid line (and given back for lines that
// fail while running), and file list/get/delete.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import { KeyStore } from '../../src/store/keys.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { serverConfig } from '../helpers/server.js';
import { multipartBody, waitFor } from '../jobs/helpers.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const defaults = { embeddings: 'tiny-bert-embed', classify: 'tiny-bert-sentiment', generate: 'tiny-chat' };
let models: string;

before(async () => {
  models = await fixturesDir();
});

function client(app: FastifyInstance, key?: string) {
  const headers = key ? { authorization: `Bearer ${key}` } : {};
  const call = async (method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown) => {
    const res = body === undefined
      ? await app.inject({ method, url, headers })
      : await app.inject({ method, url, payload: JSON.stringify(body), headers: { ...headers, 'content-type': 'application/json' } });
    return { status: res.statusCode, body: res.body, json: () => JSON.parse(res.body) as Json };
  };
  return {
    get: (url: string) => call('GET', url),
    post: (url: string, body: unknown = {}) => call('POST', url, body),
    delete: (url: string) => call('DELETE', url),
    upload: async (lines: unknown[], purpose = 'batch') => {
      const content = lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n');
      const { payload, contentType } = multipartBody({ purpose }, { name: 'requests.jsonl', content });
      const res = await app.inject({ method: 'POST', url: '/v1/files', payload, headers: { ...headers, 'content-type': contentType } });
      return { status: res.statusCode, json: () => JSON.parse(res.body) as Json };
    },
    done: (id: string) => waitFor(async () => {
      const batch = (await call('GET', `/v1/batches/${id}`)).json();
      return ['completed', 'failed', 'cancelled'].includes(batch.status as string) ? batch : undefined;
    }, `batch ${id} to finish`),
  };
}
const jsonl = (text: string) => text.trim().split('\n').map((l) => JSON.parse(l) as Json);
const line = (custom_id: string, url: string, body: unknown) => ({ custom_id, method: 'POST', url, body });

describe('batches with auth off', () => {
  let app: FastifyInstance;
  let api: ReturnType<typeof client>;
  before(async () => {
    app = await buildServer(serverConfig({ modelsDir: models, defaults }));
    api = client(app);
  });
  after(() => app.close());

  test('embeddings: 40 lines over two chunks, bad lines in the error file, each custom_id once, answers as the route gives them', { timeout: 120_000 }, async () => {
    const good = Array.from({ length: 40 }, (_, i) => line(`e${i}`, '/v1/embeddings', { model: 'tiny-bert-embed', input: [`text ${i}`, `more ${i}`] }));
    const lines = [
      ...good.slice(0, 20),
      '{"custom_id": "broken", ',
      line('wrong-url', '/v1/classify', { inputs: 'x' }),
      line('empty', '/v1/embeddings', { input: '' }),
      line('e3', '/v1/embeddings', { input: 'again' }),
      line('wide', '/v1/embeddings', { input: 'hi', dimensions: 100000 }),
      line('native', '/v1/embeddings', { inputs: ['geul shape'] }),
      ...good.slice(20),
    ];
    const file = await api.upload(lines);
    assert.equal(file.status, 200);
    const created = await api.post('/v1/batches', { input_file_id: file.json().id, endpoint: '/v1/embeddings', completion_window: '24h', metadata: { run: 'one' } });
    assert.equal(created.status, 200, created.body);
    const batch = created.json();
    assert.equal(batch.object, 'batch');
    assert.match(batch.id, /^batch_/);
    assert.ok(['validating', 'in_progress'].includes(batch.status));
    assert.deepEqual(batch.metadata, { run: 'one' });
    assert.equal(batch.request_counts.total, 46);

    const done = await api.done(batch.id);
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.request_counts, { total: 46, completed: 41, failed: 5 });
    assert.ok(done.completed_at >= done.created_at && done.in_progress_at !== null && done.finalizing_at !== null);

    const output = jsonl((await api.get(`/v1/files/${done.output_file_id}/content`)).body);
    assert.deepEqual(output.map((o) => o.custom_id).sort(), [...good.map((g) => g.custom_id), 'native'].sort(), 'every good line once');
    const direct = (await api.post('/v1/embeddings', good[7].body)).json();
    const e7 = output.find((o) => o.custom_id === 'e7')!;
    assert.equal(e7.response.status_code, 200);
    assert.match(e7.response.request_id, /^req_/);
    assert.equal(e7.error, null);
    assert.deepEqual(e7.response.body, direct, 'the same answer as POST /v1/embeddings');
    assert.deepEqual(output.find((o) => o.custom_id === 'native')!.response.body, (await api.post('/v1/embeddings', { inputs: ['geul shape'] })).json());

    const errors = new Map(jsonl((await api.get(`/v1/files/${done.error_file_id}/content`)).body).map((e) => [e.custom_id, e]));
    assert.equal(errors.get(null)!.response, null, 'bad JSON: no request, no response');
    assert.match(errors.get(null)!.error.message, /line 21: not valid JSON/);
    assert.match(errors.get('wrong-url')!.error.message, /url: .*not the batch's endpoint/);
    assert.equal(errors.get('empty')!.response.status_code, 400);
    assert.match(errors.get('empty')!.error.message, /body\.input/, 'the invalid field is named');
    assert.equal(errors.get('empty')!.response.body.error.type, 'invalid_request_error', 'OpenAI\'s error body, as the route answers');
    assert.match(errors.get('e3')!.error.message, /custom_id: "e3" appears on an earlier line/);
    assert.equal(errors.get('wide')!.response.status_code, 400, 'a failure while running is that line\'s answer');
    assert.match(errors.get('wide')!.error.message, /dimensions/);

    const meta = (await api.get(`/v1/files/${done.output_file_id}`)).json();
    assert.equal(meta.purpose, 'batch_output');
    assert.equal(meta.filename, `${batch.id}_output.jsonl`);
    const jobs = (await api.get('/v1/jobs?type=batch')).json();
    const job = jobs.data.find((j: Json) => j.id === `job_${batch.id.slice('batch_'.length)}`);
    assert.ok(job, 'the batch is a job of type batch');
    assert.equal(job.state, 'succeeded');
    assert.deepEqual(job.artifacts.map((a: Json) => a.name).sort(), ['errors.jsonl', 'output.jsonl']);
  });

  test('classify, translate and completions lines run as their routes do', { timeout: 120_000 }, async () => {
    const runs: [string, Json][] = [
      ['/v1/classify', { inputs: ['great film', 'dull film'] }],
      ['/v1/translate', { model: 'tiny-m2m100', inputs: 'hello', to: 'fr', max_new_tokens: 4 }],
      ['/v1/completions', { model: 'tiny-chat', prompt: 'Once upon', max_tokens: 4, temperature: 0 }],
    ];
    for (const [url, body] of runs) {
      const file = (await api.upload([line('only', url, body), line('bad', url, { ...body, [url === '/v1/completions' ? 'prompt' : 'inputs']: 7 })])).json();
      const done = await api.done((await api.post('/v1/batches', { input_file_id: file.id, endpoint: url, completion_window: '24h' })).json().id);
      assert.deepEqual(done.request_counts, { total: 2, completed: 1, failed: 1 }, url);
      const [out] = jsonl((await api.get(`/v1/files/${done.output_file_id}/content`)).body);
      const direct = (await api.post(url, body)).json();
      if (url === '/v1/completions') {
        assert.equal(out.response.body.object, 'text_completion');
        assert.deepEqual(out.response.body.choices, direct.choices, 'greedy: the same text as the route');
        assert.deepEqual(out.response.body.usage, direct.usage);
      } else assert.deepEqual(out.response.body, direct, url);
      const [bad] = jsonl((await api.get(`/v1/files/${done.error_file_id}/content`)).body);
      assert.equal(bad.response.status_code, 400, url);
    }
  });

  test('cancel a running batch: it stops after its chunk and keeps the lines it answered, each once', { timeout: 120_000 }, async () => {
    const lines = Array.from({ length: 2000 }, (_, i) => line(`k${i}`, '/v1/embeddings', { input: `sentence ${i}` }));
    const batch = (await api.post('/v1/batches', { input_file_id: (await api.upload(lines)).json().id, endpoint: '/v1/embeddings', completion_window: '24h' })).json();
    await waitFor(async () => {
      const b = (await api.get(`/v1/batches/${batch.id}`)).json();
      assert.ok(b.status === 'validating' || b.status === 'in_progress', `the batch ended before the cancel: ${b.status}`);
      return b.request_counts.completed >= 64 ? b : undefined;
    }, 'the batch to get going', 6000, 10);
    const cancelling = (await api.post(`/v1/batches/${batch.id}/cancel`)).json();
    assert.ok(['cancelling', 'cancelled'].includes(cancelling.status), cancelling.status);
    assert.equal(typeof cancelling.cancelling_at, 'number', 'when the cancel was asked for');
    const done = await api.done(batch.id);
    assert.equal(done.status, 'cancelled');
    assert.equal(done.cancelling_at, cancelling.cancelling_at);
    assert.ok(done.cancelled_at >= done.cancelling_at);
    const output = jsonl((await api.get(`/v1/files/${done.output_file_id}/content`)).body);
    assert.equal(output.length, done.request_counts.completed);
    assert.ok(output.length < lines.length, 'it stopped early');
    assert.deepEqual(output.map((o) => o.custom_id), lines.slice(0, output.length).map((l) => l.custom_id), 'whole chunks, in order, each once');
  });

  test('400s name the field; a batch is not a POST /v1/jobs type', async () => {
    const file = (await api.upload([line('a', '/v1/embeddings', { input: 'x' })])).json();
    const cases: [Json, RegExp][] = [
      [{ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }, /request\.endpoint/],
      [{ input_file_id: file.id, endpoint: '/v1/embeddings', completion_window: '1h' }, /request\.completion_window/],
      [{ endpoint: '/v1/embeddings', completion_window: '24h' }, /input_file_id/],
      [{ input_file_id: 'file-nope', endpoint: '/v1/embeddings', completion_window: '24h' }, /input_file_id: no file/],
    ];
    for (const [body, field] of cases) {
      const res = await api.post('/v1/batches', body);
      assert.equal(res.status, 400, res.body);
      assert.match(res.json().error.message, field);
      assert.equal(res.json().error.type, 'invalid_request_error', 'OpenAI\'s error shape');
    }
    const data = (await api.upload([line('a', '/v1/embeddings', { input: 'x' })], 'data')).json();
    assert.match((await api.post('/v1/batches', { input_file_id: data.id, endpoint: '/v1/embeddings', completion_window: '24h' })).json().error.message, /purpose is "data"/);
    const asJob = await api.post('/v1/jobs', { type: 'batch', params: { input_file_id: file.id, endpoint: '/v1/embeddings', completion_window: '24h' } });
    assert.equal(asJob.status, 400);
    assert.match(asJob.json().error.message, /POST \/v1\/batches/);
    assert.equal((await api.get('/v1/batches/batch_nope')).status, 404);
  });

  test('files: list newest first with a cursor, get, delete (then 404)', async () => {
    const a = (await api.upload([line('a', '/v1/embeddings', { input: 'x' })])).json();
    const b = (await api.upload([line('b', '/v1/embeddings', { input: 'y' })], 'data')).json();
    const page = (await api.get('/v1/files?limit=1')).json();
    assert.equal(page.object, 'list');
    assert.deepEqual(page.data.map((f: Json) => f.id), [b.id]);
    assert.equal(page.has_more, true);
    assert.deepEqual(Object.keys(page.data[0]).sort(), ['bytes', 'created_at', 'filename', 'id', 'object', 'purpose']);
    assert.equal((await api.get(`/v1/files?limit=1&after=${b.id}`)).json().data[0].id, a.id);
    assert.ok((await api.get('/v1/files?purpose=data')).json().data.every((f: Json) => f.purpose === 'data'));
    assert.deepEqual((await api.get(`/v1/files/${a.id}`)).json(), a);
    assert.equal(JSON.parse((await api.get(`/v1/files/${a.id}/content`)).body).custom_id, 'a');
    assert.deepEqual((await api.delete(`/v1/files/${a.id}`)).json(), { id: a.id, object: 'file', deleted: true });
    assert.equal((await api.get(`/v1/files/${a.id}`)).status, 404);
    assert.equal((await api.get(`/v1/files/${a.id}/content`)).status, 404);
    assert.equal((await api.delete(`/v1/files/${a.id}`)).status, 404);
  });
});

describe('batches with API keys (jobs only queued)', () => {
  let app: FastifyInstance;
  const keys = new KeyStore(':memory:');
  const alice = keys.create({ name: 'alice', scopes: ['jobs'], quota: { amount: 100, unit: 'chars' } }).key;
  const bob = keys.create({ name: 'bob', scopes: ['jobs'] }).key;
  const admin = keys.create({ name: 'root', scopes: ['admin'] }).key;
  const carol = keys.create({ name: 'carol', scopes: ['jobs'], quota: { amount: 1000, unit: 'chars' } });
  const today = () => new Date().toISOString().slice(0, 10);
  before(async () => {
    app = await buildServer(serverConfig({ modelsDir: models, defaults, auth: 'required' }, { jobs: { concurrency: 0, maxPendingPerKey: 1 } }), { keys });
  });
  after(async () => {
    await app.close();
    keys.close();
  });

  test('owners see their batches and files, others get 404; cancel a waiting batch; the quota is charged per valid line', async () => {
    const [a, b, root] = [client(app, alice), client(app, bob), client(app, admin)];
    // 3 valid lines of 20 characters each: 60 of alice's 100; the invalid line costs nothing.
    const lines = [0, 1, 2].map((i) => line(`q${i}`, '/v1/embeddings', { input: `${'x'.repeat(19)}${i}` }));
    const file = (await a.upload([...lines, line('bad', '/v1/embeddings', { input: 'x'.repeat(500), dimensions: 0 })])).json();
    const created = await a.post('/v1/batches', { input_file_id: file.id, endpoint: '/v1/embeddings', completion_window: '24h' });
    assert.equal(created.status, 200, created.body);
    const batch = created.json();
    assert.equal(batch.status, 'validating', 'waiting for a runner');
    assert.equal(keys.usage(keys.list().find((k) => k.name === 'alice')!.id, today()), 60);

    assert.equal((await b.get(`/v1/batches/${batch.id}`)).status, 404);
    assert.equal((await b.post(`/v1/batches/${batch.id}/cancel`)).status, 404);
    assert.equal((await b.get(`/v1/files/${file.id}`)).status, 404);
    assert.equal((await b.get(`/v1/files/${file.id}/content`)).status, 404);
    assert.deepEqual((await b.get('/v1/batches')).json().data, []);
    assert.deepEqual((await b.get('/v1/files')).json().data, []);
    const bobs = await b.post('/v1/batches', { input_file_id: file.id, endpoint: '/v1/embeddings', completion_window: '24h' });
    assert.match(bobs.json().error.message, /input_file_id: no file/, 'another key\'s file is not there');
    assert.equal((await root.get(`/v1/batches/${batch.id}`)).status, 200, 'admins see every batch');
    assert.deepEqual((await a.get('/v1/batches')).json().data.map((x: Json) => x.id), [batch.id]);

    // The same batch again would need 60 of the 40 left: refused whole, nothing charged, nothing queued.
    const again = await a.post('/v1/batches', { input_file_id: file.id, endpoint: '/v1/embeddings', completion_window: '24h' });
    assert.equal(again.status, 429);
    assert.equal(again.json().error.code, 'QUOTA_EXCEEDED');
    assert.equal(again.json().error.type, 'rate_limit_error');
    assert.equal(keys.usage(keys.list().find((k) => k.name === 'alice')!.id, today()), 60);
    assert.equal((await a.get('/v1/batches')).json().data.length, 1);

    const cancelled = (await a.post(`/v1/batches/${batch.id}/cancel`)).json();
    assert.equal(cancelled.status, 'cancelled');
    assert.ok(cancelled.cancelled_at !== null);
    assert.equal(cancelled.output_file_id, null);
  });

  test('a batch refused by the per-key job limit costs nothing', async () => {
    const c = client(app, carol.key);
    const file = (await c.upload([line('a', '/v1/embeddings', { input: 'x'.repeat(50) })])).json();
    const create = () => c.post('/v1/batches', { input_file_id: file.id, endpoint: '/v1/embeddings', completion_window: '24h' });
    assert.equal((await create()).status, 200);
    const refused = await create();
    assert.equal(refused.status, 429);
    assert.equal(refused.json().error.code, 'JOB_LIMIT');
    assert.equal(keys.usage(carol.info.id, today()), 50, 'only the queued batch was charged');
  });
});

describe('batch charges: lines that fail while running are given back', () => {
  let app: FastifyInstance;
  const keys = new KeyStore(':memory:');
  const dana = keys.create({ name: 'dana', scopes: ['jobs'], quota: { amount: 1000, unit: 'chars' } });
  const today = () => new Date().toISOString().slice(0, 10);
  before(async () => {
    // A models folder with the embedder and a copy of it whose weights are damaged: it resolves (so its lines are
    // valid and charged when the batch is created) but fails to load when the line runs.
    const dir = mkdtempSync(join(tmpdir(), 'geul-batch-refund-'));
    cpSync(join(models, 'tiny-bert-embed'), join(dir, 'tiny-bert-embed'), { recursive: true });
    cpSync(join(models, 'tiny-bert-embed'), join(dir, 'broken-embed'), { recursive: true });
    writeFileSync(join(dir, 'broken-embed', 'onnx', 'model.onnx'), 'not a model');
    app = await buildServer(serverConfig({ modelsDir: dir, defaults: { embeddings: 'tiny-bert-embed' }, auth: 'required' }), { keys });
  });
  after(async () => {
    await app.close();
    keys.close();
  });

  test('usage after the batch = the answered lines only; the error file keeps the failures', { timeout: 120_000 }, async () => {
    const d = client(app, dana.key);
    const text = (i: number) => `${'y'.repeat(19)}${i}`; // 20 characters each
    const file = (await d.upload([
      line('ok1', '/v1/embeddings', { input: text(1) }),
      line('wide', '/v1/embeddings', { input: text(2), dimensions: 100000 }),
      line('broken', '/v1/embeddings', { input: text(3), model: 'broken-embed' }),
      line('ok2', '/v1/embeddings', { input: text(4) }),
      line('invalid', '/v1/embeddings', { input: '' }),
    ])).json();
    const created = await d.post('/v1/batches', { input_file_id: file.id, endpoint: '/v1/embeddings', completion_window: '24h' });
    assert.equal(created.status, 200, created.body);
    assert.equal(keys.usage(dana.info.id, today()), 80, 'four valid lines charged when the batch is created');
    const done = await d.done(created.json().id as string);
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.request_counts, { total: 5, completed: 2, failed: 3 });
    const errors = new Map(jsonl((await d.get(`/v1/files/${done.error_file_id}/content`)).body).map((e) => [e.custom_id, e]));
    assert.equal(errors.get('wide')!.response.status_code, 400);
    assert.equal(errors.get('broken')!.error.code, 'MODEL_INVALID');
    // The refund follows the job's final state; poll until it is in (bounded tries, no time threshold).
    await waitFor(async () => (keys.usage(dana.info.id, today()) === 40 ? true : undefined), 'the failed lines\' charges to come back', 500, 20);
    assert.equal(keys.usage(dana.info.id, today()), 40, 'only ok1 and ok2 cost anything');
  });
});
