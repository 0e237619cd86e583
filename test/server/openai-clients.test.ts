// The real clients against a server on 127.0.0.1: the official `openai` SDK (embeddings, chat and completions, plain and
// streamed, models, error classes) and LangChain's OpenAIEmbeddings. If a client stops working with geul, this fails.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { OpenAIEmbeddings } from '@langchain/openai';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import { KeyStore } from '../../src/store/keys.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { serverConfig } from '../helpers/server.js';

let T: string;
let app: FastifyInstance;
let baseURL: string;

const defaults = { embeddings: 'tiny-bert-embed', generate: 'tiny-chat' };
// No retries: a 429 must surface as the SDK's error class, not be waited out.
const client = (options: { apiKey?: string; base?: string } = {}) => new OpenAI({ baseURL: options.base ?? baseURL, apiKey: options.apiKey ?? 'unused-on-loopback', maxRetries: 0, timeout: 30_000 });

before(async () => {
  T = await fixturesDir();
  app = await buildServer(serverConfig({ modelsDir: T, defaults }));
  baseURL = `${await app.listen({ host: '127.0.0.1', port: 0 })}/v1`;
});
after(() => app.close());

describe('openai SDK', () => {
  test('embeddings.create: the default (base64, decoded by the SDK) equals encoding_format "float"', async () => {
    const openai = client();
    const input = ['a cat sat on the mat', 'stocks fell today'];
    const byDefault = await openai.embeddings.create({ model: 'tiny-bert-embed', input });
    const float = await openai.embeddings.create({ model: 'tiny-bert-embed', input, encoding_format: 'float' });
    assert.equal(byDefault.data.length, 2);
    assert.ok(byDefault.data[0].embedding.length > 0);
    assert.deepEqual(byDefault.data.map((d) => d.embedding), float.data.map((d) => d.embedding));
    assert.ok(byDefault.usage.prompt_tokens > 0);
    const short = await openai.embeddings.create({ model: 'tiny-bert-embed', input: 'hello', dimensions: 4 });
    assert.equal(short.data[0].embedding.length, 4);
  });

  test('chat.completions.create with tiny-chat: plain, then streamed with usage (same text for the same seed)', async () => {
    const openai = client();
    const messages = [{ role: 'system' as const, content: 'Be brief.' }, { role: 'user' as const, content: 'Say hello' }];
    const plain = await openai.chat.completions.create({ model: 'tiny-chat', messages, max_tokens: 6, temperature: 0.8, seed: 5 });
    assert.equal(plain.object, 'chat.completion');
    assert.equal(plain.choices[0].message.role, 'assistant');
    assert.equal(typeof plain.choices[0].message.content, 'string');
    assert.ok(['stop', 'length'].includes(plain.choices[0].finish_reason));
    assert.equal(plain.usage?.total_tokens, (plain.usage?.prompt_tokens ?? 0) + (plain.usage?.completion_tokens ?? 0));

    const stream = await openai.chat.completions.create({ model: 'tiny-chat', messages, max_tokens: 6, temperature: 0.8, seed: 5, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, plain.choices[0].message.content);
    assert.equal(finish, plain.choices[0].finish_reason);
    assert.deepEqual(usage, plain.usage);
  });

  test('completions.create, plain and streamed', async () => {
    const openai = client();
    const plain = await openai.completions.create({ model: 'tiny-chat', prompt: 'Once upon', max_tokens: 5, temperature: 0 });
    assert.equal(plain.object, 'text_completion');
    assert.equal(typeof plain.choices[0].text, 'string');
    const stream = await openai.completions.create({ model: 'tiny-chat', prompt: 'Once upon', max_tokens: 5, temperature: 0, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    assert.equal(text, plain.choices[0].text);
  });

  test('models.list lists the fixture folders', async () => {
    const ids: string[] = [];
    for await (const model of client().models.list()) ids.push(model.id);
    assert.ok(ids.includes('tiny-chat') && ids.includes('tiny-bert-embed'), ids.join(', '));
  });

  test('a 400 is BadRequestError carrying the message: chat with GPT-2 (no chat template), n > 1', async () => {
    const openai = client();
    const noTemplate = await openai.chat.completions.create({ model: 'tiny-gpt2', messages: [{ role: 'user', content: 'hi' }] }).then(() => undefined, (err: unknown) => err);
    assert.ok(noTemplate instanceof OpenAI.BadRequestError, String(noTemplate));
    assert.match(noTemplate.message, /no chat template/);
    assert.equal(noTemplate.type, 'invalid_request_error');
    const many = await openai.chat.completions.create({ messages: [{ role: 'user', content: 'hi' }], model: 'tiny-chat', n: 2 }).then(() => undefined, (err: unknown) => err);
    assert.ok(many instanceof OpenAI.BadRequestError);
    assert.equal(many.param, 'n');
    const missing = await openai.embeddings.create({ model: 'acme/unknown', input: 'x' }).then(() => undefined, (err: unknown) => err);
    assert.ok(missing instanceof OpenAI.NotFoundError, String(missing));
  });
});

describe('openai SDK with API keys', () => {
  let keys: KeyStore;
  let secured: FastifyInstance;
  let securedURL: string;
  before(async () => {
    keys = new KeyStore(':memory:');
    secured = await buildServer(serverConfig({ modelsDir: T, defaults, auth: 'required' }), { keys });
    securedURL = `${await secured.listen({ host: '127.0.0.1', port: 0 })}/v1`;
  });
  after(async () => {
    await secured.close();
    keys.close();
  });

  test('a bad key is AuthenticationError; a key over its rate is RateLimitError with retry-after', async () => {
    const wrong = await client({ base: securedURL, apiKey: 'geul_wrong' }).models.list().then(() => undefined, (err: unknown) => err);
    assert.ok(wrong instanceof OpenAI.AuthenticationError, String(wrong));
    assert.match(wrong.message, /API key/);
    const { key } = keys.create({ name: 'once', scopes: ['tasks'], rate: { count: 1, periodMs: 60_000 } });
    const openai = client({ base: securedURL, apiKey: key });
    await openai.chat.completions.create({ model: 'tiny-chat', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 });
    const limited = await openai.chat.completions.create({ model: 'tiny-chat', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }).then(() => undefined, (err: unknown) => err);
    assert.ok(limited instanceof OpenAI.RateLimitError, String(limited));
    assert.equal(limited.type, 'rate_limit_error');
    assert.ok(Number(limited.headers?.get('retry-after')) > 0);
  });
});

describe('LangChain OpenAIEmbeddings', () => {
  test('embedDocuments and embedQuery answer what the server computes', async () => {
    const embeddings = new OpenAIEmbeddings({ model: 'tiny-bert-embed', apiKey: 'unused-on-loopback', maxRetries: 0, configuration: { baseURL } });
    const docs = await embeddings.embedDocuments(['a cat sat on the mat', 'stocks fell today']);
    const query = await embeddings.embedQuery('a cat sat on the mat');
    assert.equal(docs.length, 2);
    assert.ok(docs.every((v) => v.length === query.length && v.every(Number.isFinite)));
    assert.deepEqual(query, docs[0]);
    const direct = await client().embeddings.create({ model: 'tiny-bert-embed', input: 'stocks fell today', encoding_format: 'float' });
    assert.deepEqual(docs[1], direct.data[0].embedding);
  });
});
