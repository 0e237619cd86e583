// Hostile bodies: form bodies capped at 1,000 fields (413, refused while /health keeps answering over a real port),
// JSON nested deeper than 64 levels → 400, unknown fields ignored but prototype-poisoning keys still refused.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import { MAX_FORM_FIELDS, MAX_JSON_DEPTH, formFieldCount, jsonDepth, parseForm } from '../../src/server/body.js';
import { KeyStore } from '../../src/store/keys.js';
import { post, serverConfig } from '../helpers/server.js';

const form = (fields: number): string => Array.from({ length: fields }, () => 'q=a').join('&');
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

test('form parsing: repeated fields become arrays, fields are counted like URLSearchParams, poisoning keys refused', () => {
  assert.deepEqual(parseForm('q=a&q=b&source=en&target=de'), { q: ['a', 'b'], source: 'en', target: 'de' });
  assert.equal(formFieldCount('a=1&&b=2&'), 2);
  assert.equal(formFieldCount(form(5000), MAX_FORM_FIELDS), MAX_FORM_FIELDS + 1, 'counting stops past the limit');
  assert.equal(Object.keys(parseForm(form(MAX_FORM_FIELDS))).length, 1);
  assert.throws(() => parseForm(form(MAX_FORM_FIELDS + 1)), (err: Error & { code?: string }) => err.code === 'PAYLOAD_TOO_LARGE');
  assert.throws(() => parseForm('__proto__=x&q=a'), (err: Error & { code?: string }) => err.code === 'INVALID_INPUT');
  assert.equal(Object.getPrototypeOf(parseForm('constructorx=1')), Object.prototype);
});

test('JSON depth ignores brackets inside strings and stops early past the limit', () => {
  assert.equal(jsonDepth('{"a": "[[[{{{\\"]]]", "b": [[1]]}'), 3);
  assert.equal(jsonDepth('1'), 0);
  assert.equal(jsonDepth('['.repeat(10_000), 70), 71);
});

describe('open server', () => {
  let app: FastifyInstance;
  before(async () => {
    app = await buildServer(serverConfig({ defaults: { classify: '/nonexistent/model' } }));
  });
  after(() => app.close());

  test(`JSON nested deeper than ${MAX_JSON_DEPTH} levels → 400 INVALID_INPUT, not a stack overflow`, async () => {
    for (const levels of [MAX_JSON_DEPTH - 1, 5000]) { // the body object itself is one level
      const res = await post(app, '/v1/classify', `{"inputs":${'['.repeat(levels)}${']'.repeat(levels)}}`);
      assert.equal(res.status, 400, res.body);
      assert.equal(res.json().error?.code, 'INVALID_INPUT');
      assert.match(res.json().error!.message, new RegExp(levels > MAX_JSON_DEPTH ? 'nest at most' : 'classify'), res.body);
    }
  });

  test('unknown fields are ignored; prototype-poisoning keys are refused with 400', async () => {
    const extra = await post(app, '/v1/classify', { inputs: 'hello', client_version: '1.2', extra: [{}, {}, { deep: [1, 2] }] });
    assert.equal(extra.status, 404, `got past validation to model resolution: ${extra.body}`);
    assert.equal(extra.json().error?.code, 'MODEL_NOT_FOUND');
    const poisoned = await post(app, '/v1/classify', '{"inputs": "hello", "__proto__": {"admin": true}}');
    assert.equal(poisoned.status, 400);
    assert.equal(poisoned.json().error?.code, 'INVALID_INPUT');
  });

  test(`a form body of more than ${MAX_FORM_FIELDS} fields → 413 PAYLOAD_TOO_LARGE`, async () => {
    const res = await app.inject({ method: 'POST', url: '/translate', payload: form(MAX_FORM_FIELDS + 1), headers: FORM });
    assert.equal(res.statusCode, 413, res.body);
    assert.equal(res.json().error.code, 'PAYLOAD_TOO_LARGE');
    const ok = await app.inject({ method: 'POST', url: '/translate', payload: `${Array.from({ length: MAX_FORM_FIELDS - 3 }, (_, i) => `x${i}=1`).join('&')}&q=a&source=en&target=de`, headers: FORM });
    assert.notEqual(ok.statusCode, 413, ok.body);
  });
});

describe('server with API keys, over a real port', () => {
  let app: FastifyInstance;
  let url: string;
  const keys = new KeyStore(':memory:');
  before(async () => {
    app = await buildServer(serverConfig({ auth: 'required' }), { keys });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await app.close();
    keys.close();
  });

  test('a 100,000-field form is refused with 413 while /health keeps answering', async () => {
    const hostile = Array.from({ length: 3 }, () => fetch(`${url}/translate`, { method: 'POST', headers: FORM, body: form(100_000) }));
    const health = Array.from({ length: 3 }, () => fetch(`${url}/health`));
    const [refused, alive] = await Promise.all([Promise.all(hostile), Promise.all(health)]);
    for (const r of refused) {
      assert.equal(r.status, 413);
      assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'PAYLOAD_TOO_LARGE');
    }
    for (const r of alive) assert.deepEqual(await r.json(), { status: 'ok' });
  });

  test('a wrong Bearer key is refused with 401 before the body is parsed', async () => {
    // The body would be a 413 if it were parsed: the 401 shows it never was.
    const res = await fetch(`${url}/translate`, { method: 'POST', headers: { ...FORM, authorization: 'Bearer geul_xxxxxxxxxxxx_nope' }, body: form(100_000) });
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'UNAUTHORIZED');
  });

  test('a valid key is checked once: a 1-per-minute key passes its first request', async () => {
    const { key } = keys.create({ name: 'once', scopes: ['tasks'], rate: { count: 1, periodMs: 60_000 } });
    const first = await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(first.status, 200, 'screening and the preHandler must not both take a token');
    assert.equal((await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).status, 429);
  });
});
