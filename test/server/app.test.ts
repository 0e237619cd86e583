// The HTTP server without models: system routes, OpenAPI, error mapping, limits, model-id safety, auth, rates and quotas.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import { KeyStore, parseQuota, parseRate } from '../../src/store/keys.js';
import { post, serverConfig } from '../helpers/server.js';

describe('open server (loopback, auth auto)', () => {
  let app: FastifyInstance;
  before(async () => {
    app = await buildServer(serverConfig({ maxBatch: 4, maxTextLength: 1000, maxNewTokens: 64, bodyLimit: 64 * 1024, defaults: { classify: '/nonexistent/model' } }));
  });
  after(() => app.close());

  test('health, request ids and security headers', async () => {
    const res = await app.inject({ url: '/health', headers: { 'x-request-id': 'abc-123' } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 'ok' });
    assert.equal(res.headers['x-request-id'], 'abc-123');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    const other = await app.inject({ url: '/health', headers: { 'x-request-id': 'bad id\n' } });
    assert.match(String(other.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });

  test('OpenAPI 3.1 lists every task route and the compatible faces; /docs serves the reference', async () => {
    const doc = (await app.inject({ url: '/openapi.json' })).json() as { openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { anyOf?: unknown[] } }> } }>> };
    assert.equal(doc.openapi, '3.1.0');
    for (const path of ['/v1/generate', '/v1/classify', '/v1/embeddings', '/v1/similarity', '/v1/search', '/v1/translate', '/v1/fill-mask', '/v1/models', '/v1/languages', '/v1/completions', '/translate', '/languages', '/health', '/ready', '/metrics']) {
      assert.ok(doc.paths[path], `missing ${path}`);
    }
    assert.equal(doc.paths['/v1/embeddings'].post.requestBody?.content['application/json'].schema.anyOf?.length, 2);
    const docs = await app.inject({ url: '/docs' });
    assert.ok([200, 302].includes(docs.statusCode));
  });

  test('metrics are Prometheus text with requests by route and status', async () => {
    await app.inject({ url: '/health' });
    const res = await app.inject({ url: '/metrics' });
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    assert.match(res.body, /geul_http_requests_total\{route="\/health",method="GET",status="200"\} \d+/);
    for (const name of ['geul_http_request_duration_seconds_bucket', 'geul_queue_depth', 'geul_worker_restarts_total', 'geul_event_loop_lag_seconds']) assert.ok(res.body.includes(name), name);
  });

  const bad: [string, string, unknown, number, string][] = [
    ['malformed JSON', '/v1/embeddings', '{"input":', 400, 'INVALID_INPUT'],
    ['a JSON array body', '/v1/classify', '[1]', 400, 'INVALID_INPUT'],
    ['a wrong type', '/v1/classify', { inputs: [1] }, 400, 'INVALID_INPUT'],
    ['a missing field', '/v1/classify', { model: 'x' }, 400, 'INVALID_INPUT'],
    ['an oversized body', '/v1/classify', { inputs: 'x'.repeat(70 * 1024) }, 413, 'PAYLOAD_TOO_LARGE'],
    ['a text over the length limit', '/v1/classify', { inputs: ['x'.repeat(1001)] }, 413, 'PAYLOAD_TOO_LARGE'],
    ['too many inputs', '/v1/embeddings', { inputs: ['a', 'b', 'c', 'd', 'e'] }, 413, 'PAYLOAD_TOO_LARGE'],
    ['too many new tokens', '/v1/generate', { inputs: 'hi', max_new_tokens: 65 }, 400, 'INVALID_INPUT'],
    ['a path-traversal model id', '/v1/classify', { inputs: 'x', model: '../../etc/passwd' }, 400, 'INVALID_MODEL_ID'],
    ['an absolute model path', '/v1/embeddings', { input: 'x', model: '/etc' }, 400, 'INVALID_MODEL_ID'],
    ['a local folder name', '/v1/classify', { inputs: 'x', model: 'src' }, 400, 'INVALID_MODEL_ID'],
    ['an unknown model', '/v1/classify', { inputs: 'x', model: 'acme/unknown' }, 404, 'MODEL_NOT_FOUND'],
    ['stream on a non-generate task', '/v1/classify', { inputs: 'x', stream: true, model: 'acme/unknown' }, 404, 'MODEL_NOT_FOUND'],
    ['an unsupported OpenAI encoding', '/v1/embeddings', { input: 'x', encoding_format: 'int8' }, 400, 'INVALID_INPUT'],
    ['a LibreTranslate request without target', '/translate', { q: 'x', source: 'en' }, 400, 'INVALID_INPUT'],
  ];
  for (const [what, url, body, status, code] of bad) {
    test(`${what} → ${status} ${code}`, async () => {
      const res = await post(app, url, body);
      assert.equal(res.status, status, res.body);
      assert.equal(res.json().error?.code, code);
      assert.doesNotMatch(res.body, /at .*\.(ts|js):\d+/, 'no stack trace');
    });
  }

  test('invalid UTF-8 is refused, not silently replaced', async () => {
    const body = Buffer.concat([Buffer.from('{"inputs":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    const res = await post(app, '/v1/classify', body);
    assert.equal(res.status, 400);
    assert.match(res.json().error?.message ?? '', /UTF-8/);
  });

  test('a 1 MB string within the body limit is refused by the text limit, and the server keeps serving', async () => {
    const big = await buildServer(serverConfig({ bodyLimit: 2 * 1024 * 1024 }));
    try {
      const res = await post(big, '/v1/embeddings', { input: 'x'.repeat(1024 * 1024) });
      assert.equal(res.status, 413);
      assert.equal(res.json().error?.code, 'PAYLOAD_TOO_LARGE');
      assert.equal((await big.inject({ url: '/health' })).statusCode, 200);
    } finally {
      await big.close();
    }
  });

  test('unknown routes are 404 NOT_FOUND in the error shape; a broken default model makes /ready 503', async () => {
    const res = await app.inject({ url: '/v2/nothing' });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().error.code, 'NOT_FOUND');
    const ready = await app.inject({ url: '/ready' });
    assert.equal(ready.statusCode, 503);
    assert.equal(ready.json().ready, false);
    assert.equal((await app.inject({ url: '/health' })).statusCode, 200);
  });
});

describe('server with API keys', () => {
  let app: FastifyInstance;
  let keys: KeyStore;
  let clock = Date.UTC(2026, 5, 1, 12);
  const secrets: Record<string, string> = {};
  before(async () => {
    keys = new KeyStore(':memory:');
    secrets.tasks = keys.create({ name: 'tasks', scopes: ['tasks'] }).key;
    secrets.admin = keys.create({ name: 'admin', scopes: ['admin'] }).key;
    secrets.rated = keys.create({ name: 'rated', scopes: ['tasks'], rate: parseRate('2/min') }).key;
    secrets.quota = keys.create({ name: 'quota', scopes: ['tasks'], quota: parseQuota('10chars/day') }).key;
    app = await buildServer(serverConfig({ auth: 'required' }), { keys, now: () => clock });
  });
  after(async () => {
    await app.close();
    keys.close();
  });
  const bearer = (k: string) => ({ authorization: `Bearer ${k}` });

  test('no key or a wrong key → 401; the right key passes auth', async () => {
    assert.equal((await app.inject({ url: '/v1/models' })).statusCode, 401);
    assert.equal((await app.inject({ url: '/v1/models', headers: bearer('geul_xxxxxxxxxxxx_yyy') })).statusCode, 401);
    const ok = await app.inject({ url: '/v1/models', headers: bearer(secrets.tasks) });
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.json().object, 'list');
    assert.equal((await app.inject({ url: '/health' })).statusCode, 200, 'liveness needs no key');
  });

  test('a key without the scope → 403 FORBIDDEN; admin may read metrics', async () => {
    const res = await app.inject({ url: '/metrics', headers: bearer(secrets.tasks) });
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().error.code, 'FORBIDDEN');
    assert.equal((await app.inject({ url: '/metrics', headers: bearer(secrets.admin) })).statusCode, 200);
  });

  test("LibreTranslate's api_key field authenticates too", async () => {
    const res = await post(app, '/translate', { q: 'x', source: 'en', target: 'de', api_key: secrets.tasks });
    assert.notEqual(res.status, 401);
    assert.equal((await post(app, '/translate', { q: 'x', source: 'en', target: 'de', api_key: 'nope' })).status, 401);
  });

  test('past the rate → 429 RATE_LIMITED with Retry-After; the bucket refills with time', async () => {
    const call = () => app.inject({ url: '/v1/models', headers: bearer(secrets.rated) });
    assert.equal((await call()).statusCode, 200);
    assert.equal((await call()).statusCode, 200);
    const limited = await call();
    assert.equal(limited.statusCode, 429);
    assert.equal(limited.json().error.code, 'RATE_LIMITED');
    assert.ok(Number(limited.headers['retry-after']) >= 1);
    clock += 30_000;
    assert.equal((await call()).statusCode, 200);
  });

  test('the daily quota is charged by characters, refused with 429 + Retry-After, and resets the next UTC day', async () => {
    const call = (text: string) => post(app, '/v1/classify', { inputs: text, model: 'acme/not-served' }, bearer(secrets.quota));
    // MODEL_NOT_FOUND comes from model resolution, before the quota is charged.
    assert.equal((await call('12345678')).status, 404);
    const served = await buildServer(serverConfig({ auth: 'required', defaults: { classify: '/nonexistent/model' } }), { keys, now: () => clock });
    try {
      const q = (text: string) => post(served, '/v1/classify', { inputs: text }, bearer(secrets.quota));
      assert.notEqual((await q('12345678')).status, 429);
      const over = await q('abc');
      assert.equal(over.status, 429);
      assert.equal(over.json().error?.code, 'QUOTA_EXCEEDED');
      assert.ok(Number(over.headers['retry-after']) > 0);
      clock += 24 * 3600 * 1000;
      assert.notEqual((await q('abc')).status, 429);
    } finally {
      await served.close();
    }
  });
});

test('CORS answers only the allowed origins; TLS serves HTTPS with the given certificate', async (t) => {
  const app = await buildServer(serverConfig({ corsOrigins: ['https://app.example'] }));
  try {
    const allowed = await app.inject({ method: 'OPTIONS', url: '/v1/classify', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
    assert.equal(allowed.headers['access-control-allow-origin'], 'https://app.example');
    const other = await app.inject({ url: '/health', headers: { origin: 'https://evil.example' } });
    assert.equal(other.headers['access-control-allow-origin'], undefined);
  } finally {
    await app.close();
  }
  const dir = mkdtempSync(join(tmpdir(), 'geul-tls-'));
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
  if (made.status !== 0) return t.skip('openssl not available');
  const tls = await buildServer(serverConfig({ tlsCert: join(dir, 'cert.pem'), tlsKey: join(dir, 'key.pem') }));
  try {
    const url = await tls.listen({ host: '127.0.0.1', port: 0 });
    assert.match(url, /^https:/);
    const body = await new Promise<string>((resolve, reject) => {
      httpsGet(`${url}/health`, { ca: readFileSync(join(dir, 'cert.pem')), checkServerIdentity: () => undefined }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => { text += d.toString(); });
        res.on('end', () => resolve(text));
      }).on('error', reject);
    });
    assert.deepEqual(JSON.parse(body), { status: 'ok' });
  } finally {
    await tls.close();
  }
});
