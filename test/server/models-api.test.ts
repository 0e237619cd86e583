// The models API (inject + a fake hub on 127.0.0.1): the listing's size, dtypes and cached state; a pull streamed as
// Server-Sent Events to the end, an error event, the offline refusal; delete of cached hub models only; admin scope.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import { KeyStore } from '../../src/store/keys.js';
import { startFakeHub, type FakeHub } from '../helpers/fake-hub.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { post, serverConfig } from '../helpers/server.js';

type Model = { id: string; source: string; cached: boolean; size: number; dtypes: string[]; tasks: string[]; default_for: string[] };

const TINY = {
  'config.json': JSON.stringify({ model_type: 'bert', architectures: ['BertModel'] }),
  'tokenizer.json': '{}',
  'onnx/model.onnx': new Uint8Array(300_000).fill(1),
  'onnx/model_quantized.onnx': new Uint8Array(120_000).fill(2),
};

/** Every `data:` event of an SSE body, parsed (the `[DONE]` marker as the string). */
function events(body: string): unknown[] {
  return body.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => e.slice(6)).map((d) => (d === '[DONE]' ? d : JSON.parse(d) as unknown));
}

describe('models API', () => {
  let hub: FakeHub;
  let app: FastifyInstance;
  let cacheDir: string;
  const store = new KeyStore(':memory:');
  let admin: Record<string, string>;
  let user: Record<string, string>;

  before(async () => {
    hub = await startFakeHub({ repos: { 'acme/tiny': { main: TINY }, 'acme/broken': { main: { 'config.json': '{}' } } } });
    admin = { authorization: `Bearer ${(await store.create({ name: 'root', scopes: ['admin', 'tasks'] })).key}` };
    user = { authorization: `Bearer ${(await store.create({ name: 'user', scopes: ['tasks'] })).key}` };
    const config = serverConfig({ auth: 'required', modelsDir: await fixturesDir(), allowHubModels: true }, { offline: false, hubUrl: hub.url });
    cacheDir = config.cacheDir;
    app = await buildServer(config, { keys: store });
  });
  after(async () => {
    await app?.close();
    await hub?.close();
    store.close();
  });

  const list = async (): Promise<Model[]> => {
    const res = await app.inject({ url: '/v1/models', headers: user });
    assert.equal(res.statusCode, 200, res.body);
    return (res.json() as { data: Model[] }).data;
  };

  test('the listing keeps its fields and adds source, cached state, size and dtypes', async () => {
    const models = await list();
    const embed = models.find((m) => m.id === 'tiny-bert-embed');
    assert.ok(embed, JSON.stringify(models.map((m) => m.id)));
    assert.equal(embed.source, 'folder');
    assert.equal(embed.cached, true);
    assert.ok(embed.size > 0);
    assert.ok(embed.dtypes.length > 0 && embed.dtypes.every((d) => ['fp32', 'q8', 'fp16', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4'].includes(d)));
    assert.ok(embed.tasks.includes('embeddings'));
    // Registry defaults that are hub ids are listed but not cached in a fresh cache.
    const hubDefault = models.find((m) => m.source === 'hub');
    assert.ok(hubDefault);
    assert.deepEqual([hubDefault.cached, hubDefault.size, hubDefault.dtypes], [false, 0, []]);
  });

  test('a pull streams per-file progress to the end, then done; the model is listed with its size and dtype', async () => {
    const denied = await post(app, '/v1/models/pull', { id: 'acme/tiny' }, user);
    assert.equal(denied.status, 403);
    const res = await post(app, '/v1/models/pull', { id: 'acme/tiny', dtype: 'q8' }, admin);
    assert.equal(res.status, 200, res.body);
    assert.match(String(res.headers['content-type']), /text\/event-stream/);
    const all = events(res.body);
    assert.equal(all.at(-1), '[DONE]');
    const progress = all.filter((e): e is { type: string; file: string; received: number; total: number } => (e as { type?: string }).type === 'progress');
    const onnx = progress.filter((p) => p.file === 'onnx/model_quantized.onnx');
    assert.ok(onnx.length >= 2, JSON.stringify(onnx));
    assert.deepEqual(onnx.at(-1), { type: 'progress', file: 'onnx/model_quantized.onnx', received: 120_000, total: 120_000 });
    assert.ok(onnx.every((p, i) => i === 0 || p.received >= onnx[i - 1].received));
    assert.ok(!progress.some((p) => p.file === 'onnx/model.onnx'), 'only the asked dtype is fetched');
    const done = all.at(-2) as { type: string; id: string; dtype: string; files: { path: string }[]; total_size: number };
    assert.equal(done.type, 'done');
    assert.deepEqual([done.id, done.dtype], ['acme/tiny', 'q8']);
    assert.deepEqual(done.files.map((f) => f.path).sort(), ['config.json', 'onnx/model_quantized.onnx', 'tokenizer.json']);
    assert.ok(!JSON.stringify(done).includes(cacheDir), 'no server path reaches the client');

    const tiny = (await list()).find((m) => m.id === 'acme/tiny');
    assert.ok(tiny);
    assert.deepEqual([tiny.source, tiny.cached, tiny.dtypes, tiny.size], ['hub', true, ['q8'], done.total_size]);
    assert.ok(tiny.tasks.includes('embeddings'));
  });

  test('a failed pull ends with an error event; a bad id or body is a plain 400', async () => {
    const res = await post(app, '/v1/models/pull', { id: 'acme/broken' }, admin);
    assert.equal(res.status, 200);
    const all = events(res.body) as { error?: { code: string } }[];
    assert.equal(all.at(-2)?.error?.code, 'MODEL_FILE_MISSING');
    const missing = events((await post(app, '/v1/models/pull', { id: 'acme/nothing' }, admin)).body) as { error?: { code: string } }[];
    assert.equal(missing.at(-2)?.error?.code, 'MODEL_NOT_FOUND');
    assert.equal((await post(app, '/v1/models/pull', { id: '../etc' }, admin)).json().error?.code, 'INVALID_MODEL_ID');
    assert.equal((await post(app, '/v1/models/pull', { id: 'acme/tiny', dtype: 'fp64' }, admin)).status, 400);
    assert.equal((await post(app, '/v1/models/pull', { id: 'tiny-bert-embed' }, admin)).json().error?.code, 'INVALID_MODEL_ID');
  });

  test('delete removes a cached hub model, never a --models folder; admin scope only', async () => {
    const del = (id: string, headers = admin) => app.inject({ method: 'DELETE', url: `/v1/models/${id}`, headers });
    assert.equal((await del('acme/tiny', user)).statusCode, 403);
    const folder = await del('tiny-bert-embed');
    assert.equal(folder.statusCode, 400);
    assert.equal(folder.json().error.code, 'INVALID_INPUT');
    assert.ok((await list()).some((m) => m.id === 'tiny-bert-embed' && m.cached));
    const res = await del('acme/tiny');
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual({ ...(res.json() as Record<string, unknown>), freed_bytes: undefined }, { id: 'acme/tiny', object: 'model', deleted: true, revisions: ['main'], freed_bytes: undefined });
    assert.ok(res.json().freed_bytes > 120_000);
    assert.ok(!existsSync(join(cacheDir, 'acme', 'tiny')));
    assert.ok(!(await list()).some((m) => m.id === 'acme/tiny'));
    assert.equal((await del('acme/tiny')).json().error.code, 'MODEL_NOT_FOUND');
  });
});

test('offline, a pull of an uncached model is refused with OFFLINE_NOT_CACHED before any stream', async () => {
  const hub = await startFakeHub({ repos: { 'acme/tiny': { main: TINY } } });
  const app = await buildServer(serverConfig({ auth: 'off' }, { offline: true, hubUrl: hub.url }));
  try {
    const res = await post(app, '/v1/models/pull', { id: 'acme/tiny' });
    assert.equal(res.status, 503, res.body);
    assert.equal(res.json().error?.code, 'OFFLINE_NOT_CACHED');
    assert.equal(hub.count(), 0);
  } finally {
    await app.close();
    await hub.close();
  }
});
