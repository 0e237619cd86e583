// The OpenAI face field by field (in-process): base64 and float embeddings, dimensions, token usage, chat completions
// with a chat template, and OpenAI-shaped errors on its routes while the native routes keep theirs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import { hf } from '../../src/runtime/transformers.js';
import { TINY_CHAT_TEMPLATE } from '../../src/fixtures/chat.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { post, serverConfig } from '../helpers/server.js';

let T: string;
let app: FastifyInstance;

before(async () => {
  T = await fixturesDir();
  app = await buildServer(serverConfig({ modelsDir: T, defaults: { embeddings: 'tiny-bert-embed', generate: 'tiny-chat' } }));
});
after(() => app.close());

type Embeddings = { data: { embedding: number[] | string }[]; usage: { prompt_tokens: number; total_tokens: number } };
const decode = (text: string): number[] => {
  const bytes = Buffer.from(text, 'base64');
  return Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
};
const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

describe('/v1/embeddings (OpenAI body)', () => {
  test('base64 is little-endian float32 of exactly the float answer; user is accepted', async () => {
    const float = (await post(app, '/v1/embeddings', { model: 'tiny-bert-embed', input: ['a cat', 'a dog'], encoding_format: 'float', user: 'u1' })).json() as unknown as Embeddings;
    const b64 = await post(app, '/v1/embeddings', { model: 'tiny-bert-embed', input: ['a cat', 'a dog'], encoding_format: 'base64' });
    assert.equal(b64.status, 200, b64.body);
    const data = (b64.json() as unknown as Embeddings).data;
    assert.ok(data.every((d) => typeof d.embedding === 'string'));
    assert.deepEqual(data.map((d) => decode(d.embedding as string)), float.data.map((d) => d.embedding));
  });

  test('dimensions keeps the first N components re-normalised; more than the width is a 400 naming the field', async () => {
    const full = ((await post(app, '/v1/embeddings', { input: 'hello' })).json() as unknown as Embeddings).data[0].embedding as number[];
    const short = await post(app, '/v1/embeddings', { input: 'hello', dimensions: 8 });
    assert.equal(short.status, 200, short.body);
    const v = (short.json() as unknown as Embeddings).data[0].embedding as number[];
    assert.equal(v.length, 8);
    assert.ok(Math.abs(norm(v) - 1) < 1e-5);
    const scale = norm(full.slice(0, 8));
    v.forEach((x, i) => assert.ok(Math.abs(x - full[i] / scale) < 1e-5));
    const wide = await post(app, '/v1/embeddings', { input: 'hello', dimensions: full.length + 1 });
    assert.equal(wide.status, 400);
    const error = wide.json().error as unknown as Record<string, unknown>;
    assert.equal(error.type, 'invalid_request_error');
    assert.equal(error.param, 'dimensions');
    assert.match(String(error.message), new RegExp(`more than the model's ${full.length}`));
  });

  test('usage counts the model tokenizer\'s tokens', async () => {
    const texts = ['a cat sat on the mat', 'hello'];
    const res = (await post(app, '/v1/embeddings', { input: texts })).json() as unknown as Embeddings;
    const tokenizer = await hf.AutoTokenizer.from_pretrained(join(T, 'tiny-bert-embed'), { local_files_only: true });
    const expected = texts.reduce((n, t) => n + tokenizer.encode(t).length, 0);
    assert.equal(res.usage.prompt_tokens, expected);
    assert.equal(res.usage.total_tokens, expected);
  });

  test('usage stays per request when concurrent requests share one batched worker call', async () => {
    const tokenizer = await hf.AutoTokenizer.from_pretrained(join(T, 'tiny-bert-embed'), { local_files_only: true });
    const requests = [['a cat sat on the mat'], ['hello', 'a much longer sentence about nothing in particular at all'], ['x']];
    const answers = await Promise.all(requests.map((input) => post(app, '/v1/embeddings', { input })));
    answers.forEach((res, i) => {
      assert.equal(res.status, 200, res.body);
      const body = res.json() as unknown as Embeddings;
      assert.equal(body.data.length, requests[i].length);
      assert.equal(body.usage.prompt_tokens, requests[i].reduce((n, t) => n + tokenizer.encode(t).length, 0), `request ${i}`);
    });
  });

  test('errors take OpenAI\'s shape on the OpenAI body, the native body keeps the catalog shape', async () => {
    const openai = await post(app, '/v1/embeddings', { input: 'x', encoding_format: 'int8' });
    assert.equal(openai.status, 400);
    assert.deepEqual(Object.keys(openai.json().error as object).sort(), ['code', 'message', 'param', 'type']);
    assert.equal((openai.json().error as unknown as Record<string, unknown>).param, 'encoding_format');
    const wrongKind = await post(app, '/v1/embeddings', { input: 'x', model: 'tiny-gpt2' });
    assert.equal(wrongKind.status, 400, 'a model that cannot do the endpoint is OpenAI\'s 400');
    assert.equal((wrongKind.json().error as unknown as Record<string, unknown>).type, 'invalid_request_error');
    const unknown = await post(app, '/v1/embeddings', { input: 'x', model: 'acme/unknown' });
    assert.equal(unknown.status, 404);
    assert.equal((unknown.json().error as unknown as Record<string, unknown>).param, 'model');
    const native = await post(app, '/v1/embeddings', { inputs: 'x', model: 'tiny-gpt2' });
    assert.equal(native.status, 422);
    assert.deepEqual(Object.keys(native.json().error as object).sort(), ['code', 'message']);
  });
});

type Chat = { id: string; object: string; model: string; choices: { index: number; message: { role: string; content: string }; finish_reason: string }[]; usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } };
const conversation = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }, { role: 'user', content: 'Again' }];

describe('/v1/chat/completions', () => {
  test('renders the chat template: usage.prompt_tokens is the rendered conversation in the model\'s tokens', async () => {
    const res = await post(app, '/v1/chat/completions', { model: 'tiny-chat', messages: conversation, max_tokens: 4, temperature: 0 });
    assert.equal(res.status, 200, res.body);
    const body = res.json() as unknown as Chat;
    assert.match(body.id, /^chatcmpl-/);
    assert.equal(body.object, 'chat.completion');
    assert.equal(body.choices[0].message.role, 'assistant');
    assert.equal(typeof body.choices[0].message.content, 'string');
    assert.ok(['stop', 'length'].includes(body.choices[0].finish_reason));
    const tokenizer = await hf.AutoTokenizer.from_pretrained(join(T, 'tiny-chat'), { local_files_only: true });
    const rendered = tokenizer.apply_chat_template(conversation as never, { tokenize: false, add_generation_prompt: true, chat_template: TINY_CHAT_TEMPLATE }) as string;
    assert.ok(rendered.endsWith('<|assistant|>\n') && rendered.includes('<|system|>\nBe brief.'));
    assert.equal(body.usage.prompt_tokens, tokenizer.encode(rendered, { add_special_tokens: false }).length);
    assert.equal(body.usage.total_tokens, body.usage.prompt_tokens + body.usage.completion_tokens);
    assert.ok(body.usage.completion_tokens <= 4);
  });

  test('the same seed gives the same answer; max_completion_tokens wins over max_tokens', async () => {
    const ask = () => post(app, '/v1/chat/completions', { messages: conversation, seed: 3, temperature: 0.9, max_tokens: 20, max_completion_tokens: 3 });
    const [a, b] = [(await ask()).json() as unknown as Chat, (await ask()).json() as unknown as Chat];
    assert.equal(a.choices[0].message.content, b.choices[0].message.content);
    assert.ok(a.usage.completion_tokens <= 3);
  });

  test('a model without a chat template (GPT-2) is a 400 saying so; n > 1 and tool messages are clear 400s', async () => {
    const gpt2 = await post(app, '/v1/chat/completions', { model: 'tiny-gpt2', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(gpt2.status, 400, gpt2.body);
    const error = gpt2.json().error as unknown as Record<string, unknown>;
    assert.equal(error.type, 'invalid_request_error');
    assert.match(String(error.message), /no chat template/);
    assert.ok(!gpt2.body.includes(T), 'no server path');
    const n = await post(app, '/v1/chat/completions', { messages: [{ role: 'user', content: 'hi' }], n: 2 });
    assert.equal(n.status, 400);
    assert.equal((n.json().error as unknown as Record<string, unknown>).param, 'n');
    const tool = await post(app, '/v1/chat/completions', { messages: [{ role: 'tool', content: 'x' }] });
    assert.equal(tool.status, 400);
    assert.equal((tool.json().error as unknown as Record<string, unknown>).type, 'invalid_request_error');
  });

  test('stream: a role chunk, content deltas, a finish chunk, the usage chunk when asked, then [DONE]', async () => {
    const res = await app.inject({
      method: 'POST', url: '/v1/chat/completions', headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ messages: conversation, max_tokens: 5, temperature: 0, stream: true, stream_options: { include_usage: true } }),
    });
    assert.equal(res.statusCode, 200, res.body);
    const events = res.body.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => e.slice(6));
    assert.equal(events.at(-1), '[DONE]');
    type Chunk = { object: string; choices: { delta: { role?: string; content?: string }; finish_reason: string | null }[]; usage: Chat['usage'] | null };
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as Chunk);
    assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk'));
    assert.equal(chunks[0].choices[0].delta.role, 'assistant');
    const usage = chunks.at(-1)!;
    assert.deepEqual(usage.choices, []);
    assert.ok(usage.usage && usage.usage.completion_tokens <= 5);
    assert.ok(chunks.slice(0, -1).every((c) => c.usage === null));
    assert.ok(['stop', 'length'].includes(String(chunks.at(-2)!.choices[0].finish_reason)));
    const plain = await post(app, '/v1/chat/completions', { messages: conversation, max_tokens: 5, temperature: 0 });
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    assert.equal(text, (plain.json() as unknown as Chat).choices[0].message.content);
  });
});
