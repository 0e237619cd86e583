// What the server derives from the task registry: GET /v1/tasks, OpenAPI bodies, family defaults, readiness of every
// task's default model, TASK_NOT_SUPPORTED for wrong models, client-facing model names in errors, and empty texts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { post, serverConfig } from '../helpers/server.js';

let T: string;
let app: FastifyInstance;

before(async () => {
  T = await fixturesDir();
  // Only the embeddings family is set: similarity and search must follow it.
  app = await buildServer(serverConfig({
    modelsDir: T,
    defaults: { embeddings: 'tiny-bert-embed', classify: 'tiny-bert-sentiment', 'fill-mask': 'tiny-bert-mlm', generate: 'tiny-gpt2', translate: 'tiny-m2m100' },
  }));
});
after(() => app.close());

interface TaskInfo {
  id: string; description: string; default_model: string; batches: boolean; streams: boolean;
  request_schema: { type: string; required?: string[]; properties: Record<string, { default?: unknown }> };
  response_schema: Record<string, unknown>;
  examples: { cli: string[]; http: Record<string, unknown>[] };
  cli: { command: string; files: { field: string; flag: string }[] };
}

describe('GET /v1/tasks', () => {
  test('lists every task with its effective default, flags, schemas and examples', async () => {
    const res = await app.inject({ url: '/v1/tasks' });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as { object: string; data: TaskInfo[] };
    assert.equal(body.object, 'list');
    assert.deepEqual(body.data.map((t) => t.id), ['generate', 'classify', 'embeddings', 'similarity', 'search', 'translate', 'fill-mask', 'detect']);
    const byId = Object.fromEntries(body.data.map((t) => [t.id, t]));
    for (const t of body.data) {
      assert.deepEqual(Object.keys(t).sort(), ['batches', 'cli', 'default_model', 'description', 'examples', 'id', 'request_schema', 'response_schema', 'streams']);
      assert.equal(t.request_schema.type, 'object');
      assert.ok('inputs' in t.request_schema.properties, t.id);
      assert.ok(t.examples.cli.length > 0 && t.examples.http.length > 0, t.id);
    }
    assert.equal(byId.similarity.default_model, 'tiny-bert-embed', 'the embeddings default serves its family');
    assert.equal(byId.search.default_model, 'tiny-bert-embed');
    assert.equal(byId.generate.default_model, 'tiny-gpt2');
    // The web UI shows the same request as a command: the command name and the fields read from files.
    assert.deepEqual([byId.classify.cli.command, byId.embeddings.cli.command], ['sentiment', 'embed']);
    assert.deepEqual(byId.search.cli.files, [{ field: 'documents', flag: '--docs' }]);
    assert.deepEqual([byId.generate.streams, byId.classify.streams], [true, false]);
    assert.deepEqual([byId.embeddings.batches, byId.classify.batches, byId.generate.batches], [true, true, false]);
    assert.ok('stream' in byId.generate.request_schema.properties);
    assert.ok(!('stream' in byId.classify.request_schema.properties));
    // Fields with a default are not required: a form may leave them out.
    assert.deepEqual(byId.classify.request_schema.required, ['inputs']);
    assert.deepEqual(byId.search.request_schema.required, ['inputs', 'documents']);
    assert.equal(byId.generate.request_schema.properties.max_new_tokens.default, 50);
  });

  test('each HTTP example is answered by its route', async () => {
    const { data } = (await app.inject({ url: '/v1/tasks' })).json() as { data: TaskInfo[] };
    for (const task of data) {
      const example = { ...task.examples.http[0], ...('max_new_tokens' in task.request_schema.properties ? { max_new_tokens: 2 } : {}) };
      const res = await post(app, `/v1/${task.id}`, example);
      assert.equal(res.status, 200, `${task.id}: ${res.body}`);
    }
  });
});

test('OpenAPI marks only the fields without a default as required', async () => {
  type Body = { required?: string[]; anyOf?: Body[]; properties?: Record<string, unknown> };
  const doc = (await app.inject({ url: '/openapi.json' })).json() as { paths: Record<string, { post: { requestBody: { content: Record<string, { schema: Body }> } } }> };
  const body = (path: string): Body => {
    const schema = doc.paths[path].post.requestBody.content['application/json'].schema;
    return schema.anyOf ? schema.anyOf.find((s) => s.properties && 'inputs' in s.properties)! : schema;
  };
  for (const id of ['generate', 'classify', 'embeddings', 'similarity', 'translate', 'fill-mask']) assert.deepEqual(body(`/v1/${id}`).required, ['inputs'], id);
  assert.deepEqual(body('/v1/search').required, ['inputs', 'documents']);
  // The registry's HTTP examples become the media type's examples (shown in /docs).
  const examples = (doc.paths['/v1/translate'].post.requestBody.content['application/json'] as { examples?: Record<string, { value: unknown }> }).examples ?? {};
  assert.deepEqual(Object.values(examples)[0]?.value, { inputs: 'Where is the station?', from: 'en', to: 'ko' });
});

test('no schema anywhere in /openapi.json requires a field that has a default', async () => {
  const found: string[] = [];
  const walk = (node: unknown, path: string): void => {
    if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${path}[${i}]`));
    if (typeof node !== 'object' || node === null) return;
    const { required, properties } = node as { required?: string[]; properties?: Record<string, object> };
    if (Array.isArray(required) && properties) for (const name of required) if (properties[name] && 'default' in properties[name]) found.push(`${path}: ${name}`);
    for (const [key, value] of Object.entries(node)) walk(value, `${path}.${key}`);
  };
  walk((await app.inject({ url: '/openapi.json' })).json(), '');
  assert.deepEqual(found, []);
});

describe('models', () => {
  test('similarity and search use the embeddings default when none of their own is set', async () => {
    const sim = await post(app, '/v1/similarity', { inputs: ['a cat', 'a dog'] });
    assert.equal(sim.status, 200, sim.body);
    const hits = await post(app, '/v1/search', { inputs: 'cat', documents: ['a cat', 'a car'] });
    assert.equal(hits.status, 200, hits.body);
  });

  test('a model that cannot do a task → 422 TASK_NOT_SUPPORTED on every task, naming the id the client sent', async () => {
    const wrong: [string, Record<string, unknown>][] = [
      ['generate', { inputs: 'x', model: 'tiny-bert-embed' }],
      ['classify', { inputs: 'x', model: 'tiny-gpt2' }],
      ['embeddings', { inputs: 'x', model: 'tiny-gpt2' }],
      ['embeddings', { inputs: 'x', model: 'tiny-bert-sentiment' }],
      ['similarity', { inputs: ['a', 'b'], model: 'tiny-m2m100' }],
      ['search', { inputs: 'x', documents: ['a', 'b'], model: 'tiny-gpt2' }],
      ['translate', { inputs: 'x', to: 'fr', model: 'tiny-bert-mlm' }],
      ['fill-mask', { inputs: 'x [MASK]', model: 'tiny-bert-sentiment' }],
    ];
    for (const [task, body] of wrong) {
      const res = await post(app, `/v1/${task}`, body);
      assert.equal(res.status, 422, `${task}: ${res.body}`);
      assert.equal(res.json().error?.code, 'TASK_NOT_SUPPORTED');
      assert.match(res.json().error?.message ?? '', new RegExp(`Model "${String(body.model)}" cannot do task "${task}"`));
      assert.ok(!res.body.includes(T), `${task}: no server path in ${res.body}`);
    }
    // The OpenAI face answers as OpenAI does: a model that cannot do the endpoint is a 400 invalid_request_error.
    const openai = await post(app, '/v1/embeddings', { input: 'x', model: 'tiny-gpt2' });
    assert.equal(openai.status, 400);
    assert.ok(!openai.body.includes(T), openai.body);
  });
});

describe('empty texts behave as each task documents, on every face', () => {
  test('generate: an empty prompt (alone, in a batch, or as an OpenAI prompt) starts from the beginning of text', async () => {
    const one = await post(app, '/v1/generate', { inputs: '', max_new_tokens: 3 });
    assert.equal(one.status, 200, one.body);
    assert.equal(typeof one.json().text, 'string');
    const batch = await post(app, '/v1/generate', { inputs: ['hello', ''], max_new_tokens: 3 });
    assert.equal(batch.status, 200, batch.body);
    assert.equal((JSON.parse(batch.body) as unknown[]).length, 2);
    const completion = await post(app, '/v1/completions', { prompt: '', max_tokens: 3, temperature: 0 });
    assert.equal(completion.status, 200, completion.body);
  });

  test('translate: an empty text translates to an empty text (native and LibreTranslate)', async () => {
    const native = await post(app, '/v1/translate', { inputs: '', from: 'en', to: 'fr' });
    assert.equal(native.status, 200, native.body);
    assert.deepEqual(native.json(), { text: '' });
    const libre = await post(app, '/translate', { q: '', source: 'en', target: 'fr' });
    assert.equal(libre.status, 200, libre.body);
    assert.deepEqual(libre.json(), { translatedText: '' });
  });

  test('classify accepts it; embeddings (native and OpenAI), similarity, search and fill-mask refuse it with 400', async () => {
    assert.equal((await post(app, '/v1/classify', { inputs: '' })).status, 200);
    const refused: [string, Record<string, unknown>][] = [
      ['/v1/embeddings', { inputs: '' }],
      ['/v1/embeddings', { inputs: ['a', ''] }],
      ['/v1/embeddings', { input: '' }],
      ['/v1/embeddings', { input: ['a', ''] }],
      ['/v1/similarity', { inputs: ['', 'a'] }],
      ['/v1/search', { inputs: '', documents: ['a'] }],
      ['/v1/search', { inputs: 'a', documents: [''] }],
      ['/v1/fill-mask', { inputs: '' }],
    ];
    for (const [url, body] of refused) {
      const res = await post(app, url, body);
      assert.equal(res.status, 400, `${url} ${JSON.stringify(body)}: ${res.body}`);
      assert.equal(res.json().error?.code, 'INVALID_INPUT');
    }
  });
});

test('/ready is false with a reason while a default model cannot load, and true once it does', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'geul-ready-'));
  const later = join(dir, 'mlm-arrives-later');
  const ready = await buildServer(serverConfig({
    defaults: {
      embeddings: join(T, 'tiny-bert-embed'), classify: join(T, 'tiny-bert-sentiment'), generate: join(T, 'tiny-gpt2'),
      translate: join(T, 'tiny-m2m100'), 'fill-mask': later,
    },
  }));
  try {
    const before = await ready.inject({ url: '/ready' });
    assert.equal(before.statusCode, 503, before.body);
    const state = before.json() as { ready: boolean; models: Record<string, string> };
    assert.equal(state.ready, false);
    assert.deepEqual(Object.keys(state.models), ['generate', 'classify', 'embeddings', 'similarity', 'search', 'translate', 'fill-mask', 'detect']);
    assert.equal(state.models.similarity, 'ok', 'similarity follows the embeddings default');
    assert.match(state.models['fill-mask'], /mlm-arrives-later/);
    assert.ok(!state.models['fill-mask'].includes(dir), `no server path: ${state.models['fill-mask']}`);
    cpSync(join(T, 'tiny-bert-mlm'), later, { recursive: true });
    const after = await ready.inject({ url: '/ready' });
    assert.equal(after.statusCode, 200, after.body);
    assert.ok(Object.values((after.json() as { models: Record<string, string> }).models).every((v) => v === 'ok'));
  } finally {
    await ready.close();
  }
});

test('a server with no usable default models is not ready', async () => {
  const bare = await buildServer(serverConfig({}));
  try {
    const res = await bare.inject({ url: '/ready' });
    assert.equal(res.statusCode, 503);
    const models = (res.json() as { models: Record<string, string> }).models;
    assert.match(models.generate, /Xenova\/gpt2/);
  } finally {
    await bare.close();
  }
});

test('a default given as a server path is listed, named in errors and asked for by its last segment only', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'geul-public-'));
  const embedder = join(dir, 'house-embedder');
  cpSync(join(T, 'tiny-bert-embed'), embedder, { recursive: true });
  const server = await buildServer(serverConfig({ defaults: { embeddings: embedder, generate: join(dir, 'missing-gpt') } }));
  try {
    const models = (await server.inject({ url: '/v1/models' })).json() as { data: { id: string }[] };
    assert.ok(models.data.some((m) => m.id === 'house-embedder'));
    assert.ok(!JSON.stringify(models).includes(dir));
    const named = await post(server, '/v1/embeddings', { inputs: 'x', model: 'house-embedder' });
    assert.equal(named.status, 200, named.body);
    const missing = await post(server, '/v1/generate', { inputs: 'x' });
    assert.equal(missing.json().error?.code, 'MODEL_NOT_FOUND');
    assert.match(missing.body, /missing-gpt/);
    assert.ok(!missing.body.includes(dir), missing.body);
  } finally {
    await server.close();
  }
});

test('streaming: an empty prompt streams over SSE; "stream" on a task that does not stream is a 400', async () => {
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const res = await fetch(`${url}/v1/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: '', max_new_tokens: 3, stream: true }) });
  assert.equal(res.status, 200);
  const events = (await res.text()).split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => JSON.parse(e.slice(6)) as Record<string, unknown>);
  assert.equal(events.at(-1)?.done, true, JSON.stringify(events));
  const refused = await post(app, '/v1/classify', { inputs: 'x', stream: true });
  assert.equal(refused.status, 400, refused.body);
  assert.match(refused.json().error?.message ?? '', /\/v1\/generate/);
});
