// Hub models an admin pulled into the cache are listed and served without --allow-hub-models (inject + a fake hub on
// 127.0.0.1 serving a real fixture model); a request never makes the server download one it lacks; a half-pulled
// model is not offered; `cachedHubModels: false` serves only the configured models.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import { KeyStore } from '../../src/store/keys.js';
import { startFakeHub, type FakeHub, type FakeRepoFiles } from '../helpers/fake-hub.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { post, serverConfig } from '../helpers/server.js';

type Model = { id: string; source: string; cached: boolean; tasks: string[] };

/** Every file of a folder, by its path inside it (a fixture model as a hub repo). */
function repoFiles(dir: string, root = dir, out: FakeRepoFiles = {}): FakeRepoFiles {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) repoFiles(path, root, out);
    else out[relative(root, path)] = readFileSync(path);
  }
  return out;
}

describe('hub models in the cache', () => {
  let hub: FakeHub;
  let app: FastifyInstance;
  let strict: FastifyInstance;
  let quantized: FastifyInstance;
  const store = new KeyStore(':memory:');
  let admin: Record<string, string>;
  let user: Record<string, string>;

  before(async () => {
    const sentiment = repoFiles(join(await fixturesDir(), 'tiny-bert-sentiment'));
    // Weights only in fp32: a pull of another precision leaves config and tokenizer but no ONNX file in the cache.
    hub = await startFakeHub({ repos: { 'acme/sentiment': { main: sentiment } } });
    admin = { authorization: `Bearer ${(await store.create({ name: 'root', scopes: ['admin', 'tasks'] })).key}` };
    user = { authorization: `Bearer ${(await store.create({ name: 'user', scopes: ['tasks'] })).key}` };
    // Neither server lets requests name any hub id; the second also refuses the cached ones. They share one cache.
    const config = serverConfig({ auth: 'required' }, { offline: false, hubUrl: hub.url });
    app = await buildServer(config, { keys: store });
    strict = await buildServer(serverConfig({ auth: 'required', cachedHubModels: false }, { offline: false, hubUrl: hub.url, cacheDir: config.cacheDir }), { keys: store });
    // A server that loads q8 weights: the cached fp32 ones are not what it would serve.
    quantized = await buildServer(serverConfig({ auth: 'required' }, { offline: false, hubUrl: hub.url, cacheDir: config.cacheDir, dtype: 'q8' }), { keys: store });
  });
  after(async () => {
    await app?.close();
    await strict?.close();
    await quantized?.close();
    await hub?.close();
    store.close();
  });

  const list = async (server: FastifyInstance): Promise<Model[]> => {
    const res = await server.inject({ url: '/v1/models', headers: user });
    assert.equal(res.statusCode, 200, res.body);
    return (res.json() as { data: Model[] }).data;
  };
  const classify = (server: FastifyInstance) => post(server, '/v1/classify', { inputs: ['a great film'], model: 'acme/sentiment' }, user);

  test('before a pull the model is neither listed nor usable, and asking for it downloads nothing', async () => {
    assert.ok(!(await list(app)).some((m) => m.id === 'acme/sentiment'));
    const res = await classify(app);
    assert.equal(res.status, 404, res.body);
    assert.equal(res.json().error?.code, 'MODEL_NOT_FOUND');
    assert.equal(hub.count(), 0, 'a request never reaches the hub');
  });

  test('a pull of a precision the repo lacks leaves no usable model: not offered, still refused', async () => {
    const res = await post(app, '/v1/models/pull', { id: 'acme/sentiment', dtype: 'q4' }, admin);
    assert.equal(res.status, 200);
    assert.match(res.body, /"code"/, 'the pull ends with an error event');
    assert.ok(!(await list(app)).some((m) => m.id === 'acme/sentiment'), 'a half-pulled model is not offered');
    const before = hub.count();
    assert.equal((await classify(app)).status, 404);
    assert.equal(hub.count(), before, 'nothing was downloaded on demand');
  });

  test('after an admin pull it is listed as a cached hub model and answers requests', async () => {
    const pulled = await post(app, '/v1/models/pull', { id: 'acme/sentiment', dtype: 'fp32' }, admin);
    assert.equal(pulled.status, 200);
    assert.match(pulled.body, /"type":"done"/, pulled.body.slice(-300));
    const model = (await list(app)).find((m) => m.id === 'acme/sentiment');
    assert.ok(model, 'listed after the pull');
    assert.deepEqual([model.source, model.cached], ['hub', true]);
    assert.ok(model.tasks.includes('classify'), model.tasks.join(', '));
    const before = hub.count();
    const res = await classify(app);
    assert.equal(res.status, 200, res.body);
    const labels = (JSON.parse(res.body) as { label: string }[][])[0]!.map((s) => s.label).sort();
    assert.deepEqual(labels, ['NEGATIVE', 'POSITIVE']);
    assert.equal(hub.count(), before, `served from the cache: ${JSON.stringify(hub.requests.slice(before))}`);
  });

  test('with cachedHubModels off, or another dtype configured, the same cached model is neither listed nor served', async () => {
    for (const server of [strict, quantized]) {
      assert.ok(!(await list(server)).some((m) => m.id === 'acme/sentiment'));
      const before = hub.count();
      const res = await classify(server);
      assert.equal(res.status, 404, res.body);
      assert.equal(res.json().error?.code, 'MODEL_NOT_FOUND');
      assert.equal(hub.count(), before, 'nothing was downloaded on demand');
    }
  });
});
