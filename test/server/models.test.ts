// Every route against the tiny fixture models: geul, OpenAI and LibreTranslate shapes field by field, micro-batching,
// SSE streaming over a real port, and cancellation when the client disconnects.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { post, serverConfig } from '../helpers/server.js';

let T: string;
let app: FastifyInstance;
let url: string;

before(async () => {
  T = await fixturesDir();
  app = await buildServer(serverConfig({
    modelsDir: T,
    defaults: {
      embeddings: 'tiny-bert-embed', similarity: 'tiny-bert-embed', search: 'tiny-bert-embed', classify: 'tiny-bert-sentiment',
      'fill-mask': 'tiny-bert-mlm', generate: 'tiny-gpt2', translate: 'tiny-m2m100',
    },
  }));
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});
after(() => app.close());

const isVector = (v: unknown): boolean => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && Number.isFinite(x));

describe('geul routes', () => {
  test('/ready loads the default models; /v1/models lists the folders', async () => {
    const ready = await app.inject({ url: '/ready' });
    assert.equal(ready.statusCode, 200, ready.body);
    const models = (await app.inject({ url: '/v1/models' })).json() as { data: { id: string; object: string; tasks: string[] }[] };
    const embed = models.data.find((m) => m.id === 'tiny-bert-embed');
    assert.ok(embed);
    assert.equal(embed.object, 'model');
    assert.ok(embed.tasks.includes('embeddings'));
  });

  test('embeddings mirror the input shape (one text → one vector, a batch → vectors)', async () => {
    const one = await post(app, '/v1/embeddings', { inputs: 'hello' });
    assert.equal(one.status, 200, one.body);
    assert.ok(isVector(one.json()));
    const batch = JSON.parse((await post(app, '/v1/embeddings', { inputs: ['a', 'b'], model: 'tiny-bert-embed' })).body) as number[][];
    assert.equal(batch.length, 2);
    assert.ok(batch.every(isVector));
  });

  test('classify, similarity, search, fill-mask, generate, translate answer in their documented shapes', async () => {
    const labels = JSON.parse((await post(app, '/v1/classify', { inputs: ['great'] })).body) as { label: string; score: number }[][];
    assert.equal(labels.length, 1);
    assert.ok(labels[0].every((l) => typeof l.label === 'string' && l.score >= 0 && l.score <= 1));
    const sim = (await post(app, '/v1/similarity', { inputs: ['a cat', 'a dog'] })).json();
    assert.equal(typeof sim.score, 'number');
    const hits = JSON.parse((await post(app, '/v1/search', { inputs: 'cat', documents: ['dog', 'cat', 'car'], top_k: 2 })).body) as { index: number; score: number; text: string }[];
    assert.equal(hits.length, 2);
    assert.deepEqual(Object.keys(hits[0]).sort(), ['index', 'score', 'text']);
    const mask = await post(app, '/v1/fill-mask', { inputs: 'paris is the [MASK] of france', top_k: 3 });
    assert.equal(mask.status, 200, mask.body);
    assert.equal((JSON.parse(mask.body) as unknown[]).length, 3);
    const gen = (await post(app, '/v1/generate', { inputs: 'once upon', max_new_tokens: 5 })).json();
    assert.equal(typeof gen.text, 'string');
    assert.ok(Number(gen.tokens) <= 5);
    assert.ok(['stop', 'length'].includes(String(gen.finish_reason)));
    const tr = await post(app, '/v1/translate', { inputs: 'hello', from: 'en', to: 'ko', max_new_tokens: 5 });
    assert.equal(tr.status, 200, tr.body);
    assert.equal(typeof tr.json().text, 'string');
    const langs = (await app.inject({ url: '/v1/languages' })).json() as { languages: { code: string; name: string }[] };
    assert.ok(langs.languages.some((l) => l.code === 'ko' && l.name === 'Korean'));
  });

  test('an unknown language → 400 UNKNOWN_LANGUAGE, and the server keeps serving', async () => {
    const res = await post(app, '/v1/translate', { inputs: 'hello', from: 'en', to: 'xx' });
    assert.equal(res.status, 400);
    assert.equal(res.json().error?.code, 'UNKNOWN_LANGUAGE');
    assert.equal((await post(app, '/v1/embeddings', { inputs: 'still here' })).status, 200);
  });

  test('concurrent embeddings are micro-batched and each caller gets its own vectors', async () => {
    const texts = Array.from({ length: 12 }, (_, i) => `text number ${i}`);
    const alone = await Promise.all(texts.slice(0, 3).map(async (t) => JSON.parse((await post(app, '/v1/embeddings', { inputs: t })).body) as number[]));
    const together = await Promise.all(texts.map(async (t) => JSON.parse((await post(app, '/v1/embeddings', { inputs: t })).body) as number[]));
    for (let i = 0; i < 3; i++) together[i].forEach((v, d) => assert.ok(Math.abs(v - alone[i][d]) < 1e-4));
    const metrics = (await app.inject({ url: '/metrics' })).body;
    const merged = /geul_batch_size_bucket\{le="1"\} (\d+)[\s\S]*geul_batch_size_count (\d+)/.exec(metrics);
    assert.ok(merged && Number(merged[2]) > Number(merged[1]), 'some model calls carried more than one input');
  });
});

describe('compatible faces', () => {
  test('OpenAI embeddings: {object, data[{object, index, embedding}], model, usage}', async () => {
    const res = await post(app, '/v1/embeddings', { model: 'tiny-bert-embed', input: ['a', 'b'] });
    assert.equal(res.status, 200, res.body);
    const body = res.json() as { object: string; data: { object: string; index: number; embedding: number[] }[]; model: string; usage: { prompt_tokens: number; total_tokens: number } };
    assert.deepEqual(Object.keys(body).sort(), ['data', 'model', 'object', 'usage']);
    assert.equal(body.object, 'list');
    assert.equal(body.model, 'tiny-bert-embed');
    assert.deepEqual(body.data.map((d) => [d.object, d.index]), [['embedding', 0], ['embedding', 1]]);
    assert.ok(body.data.every((d) => isVector(d.embedding)));
    assert.ok(Number.isInteger(body.usage.prompt_tokens) && body.usage.total_tokens === body.usage.prompt_tokens);
  });

  test('OpenAI completions: {id, object, created, model, choices[{text, index, logprobs, finish_reason}], usage}', async () => {
    const res = await post(app, '/v1/completions', { model: 'tiny-gpt2', prompt: 'hello', max_tokens: 4, temperature: 0 });
    assert.equal(res.status, 200, res.body);
    const body = res.json() as Record<string, unknown> & { choices: Record<string, unknown>[]; usage: Record<string, number> };
    assert.match(String(body.id), /^cmpl-/);
    assert.equal(body.object, 'text_completion');
    assert.ok(Number.isInteger(body.created));
    assert.equal(body.model, 'tiny-gpt2');
    assert.deepEqual(Object.keys(body.choices[0]).sort(), ['finish_reason', 'index', 'logprobs', 'text']);
    assert.equal(body.choices[0].logprobs, null);
    assert.equal(body.usage.total_tokens, body.usage.prompt_tokens + body.usage.completion_tokens);
  });

  test('LibreTranslate: q string → translatedText string, q array → array; /languages lists targets', async () => {
    const one = await post(app, '/translate', { q: 'hello', source: 'en', target: 'ko' });
    assert.equal(one.status, 200, one.body);
    assert.deepEqual(Object.keys(one.json()), ['translatedText']);
    assert.equal(typeof one.json().translatedText, 'string');
    const many = (await post(app, '/translate', { q: ['a', 'b'], source: 'auto', target: 'ko' })).json();
    assert.ok(Array.isArray(many.translatedText) && many.translatedText.length === 2);
    const form = await app.inject({ method: 'POST', url: '/translate', payload: 'q=hello&source=en&target=ko', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(form.statusCode, 200, form.body);
    const langs = (await app.inject({ url: '/languages' })).json() as { code: string; name: string; targets: string[] }[];
    const en = langs.find((l) => l.code === 'en');
    assert.ok(en && en.name === 'English' && en.targets.includes('ko'));
  });
});

/** Reads SSE `data:` payloads until the stream ends. */
async function readEvents(response: Response): Promise<string[]> {
  const text = await response.text();
  return text.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => e.slice(6));
}

describe('streaming over a real port', () => {
  test('/v1/generate with stream: text events, then the final result', async () => {
    const res = await fetch(`${url}/v1/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: 'once', max_new_tokens: 6, stream: true }) });
    assert.equal(res.status, 200);
    assert.match(String(res.headers.get('content-type')), /^text\/event-stream/);
    const events = (await readEvents(res)).map((e) => JSON.parse(e) as Record<string, unknown>);
    const last = events.at(-1)!;
    assert.equal(last.done, true);
    assert.equal(events.slice(0, -1).map((e) => e.text).join(''), last.text);
  });

  test('/v1/completions with stream: OpenAI chunks ending in data: [DONE]', async () => {
    const res = await fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'once', max_tokens: 4, stream: true, temperature: 0 }) });
    const events = await readEvents(res);
    assert.equal(events.at(-1), '[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as { object: string; choices: { finish_reason: string | null }[] });
    assert.ok(chunks.every((c) => c.object === 'text_completion'));
    assert.notEqual(chunks.at(-1)!.choices[0].finish_reason, null);
  });

  test('a client that disconnects mid-stream cancels the generation; the worker is free again', async () => {
    const config = JSON.parse(readFileSync(join(T, 'tiny-gpt2', 'config.json'), 'utf8')) as { n_positions?: number };
    const max = Math.max(8, Math.min(500, (config.n_positions ?? 64) - 4));
    const controller = new AbortController();
    const res = await fetch(`${url}/v1/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: 'a', max_new_tokens: max, stream: true }), signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    const pool = app.geul.inference.pool;
    while (pool.pending > 0) await new Promise((r) => setTimeout(r, 20));
    assert.equal((await post(app, '/v1/generate', { inputs: 'next', max_new_tokens: 2 })).status, 200);
  });
});
