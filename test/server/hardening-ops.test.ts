// Server operations under a hostile trial: 5xx answers are not charged to quotas, `?api_key=` never reaches the log,
// Node's own 400/431 answers use the error shape, HSTS only over TLS, and start-up failures carry catalogued codes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { createLogger, redactUrl } from '../../src/core/logging.js';
import { buildServer } from '../../src/server/app.js';
import { startServer } from '../../src/server/start.js';
import { KeyStore, parseQuota, utcDay } from '../../src/store/keys.js';
import { post, serverConfig } from '../helpers/server.js';
import { keySecret } from '../helpers/keys.js';

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe('quotas and logs with API keys', () => {
  const keys = new KeyStore(':memory:');
  const lines: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(chunk.toString()); done(); } });
  let app: FastifyInstance;
  before(async () => {
    // Offline, the hub model cannot load: its requests fail on the server's side with 503 OFFLINE_NOT_CACHED.
    app = await buildServer(serverConfig({ auth: 'required', defaults: { classify: 'acme/not-cached', generate: '/nonexistent/gpt' } }),
      { keys, logger: createLogger({ level: 'info' }, sink) });
  });
  after(async () => {
    await app.close();
    keys.close();
  });

  test('a request that fails with a 5xx is refunded; a 4xx stays charged', async () => {
    const { key, info } = keys.create({ name: 'quota', scopes: ['tasks'], quota: parseQuota('1000chars/day') });
    const failed = await post(app, '/v1/classify', { inputs: 'hello world' }, bearer(key));
    assert.equal(failed.status, 503, failed.body);
    assert.equal(keys.usage(info.id, utcDay(Date.now())), 0, 'the 503 cost nothing');
    const missing = await post(app, '/v1/generate', { inputs: 'abcd' }, bearer(key));
    assert.equal(missing.status, 404, missing.body);
    assert.equal(keys.usage(info.id, utcDay(Date.now())), 4, 'a client error is charged as before');
  });

  test('a key sent as ?api_key= is redacted in the request log', async () => {
    const { key } = keys.create({ name: 'query', scopes: ['tasks'] });
    lines.length = 0;
    await app.inject({ url: `/v1/models?api_key=${key}&x=1` });
    await app.inject({ url: `/no/such/route?token=${key}` });
    const log = lines.join('');
    assert.match(log, /incoming request/);
    assert.ok(!log.includes(keySecret(key)), `the secret leaked: ${log}`);
    assert.match(log, /api_key=\[redacted\]&x=1/);
    assert.equal(redactUrl('/translate?q=a&api_key=s3cret#top'), '/translate?q=a&api_key=[redacted]#top');
  });
});

describe('over a raw socket', () => {
  let app: FastifyInstance;
  let port: number;
  before(async () => {
    app = await buildServer(serverConfig());
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    port = Number(new URL(url).port);
  });
  after(() => app.close());

  const raw = (request: string): Promise<string> => new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d: Buffer) => { answer += d.toString(); });
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.end(request);
  });
  const bodyOf = (answer: string) => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { error: { code: string; message: string } };

  test("Node's own refusals use {error: {code, message}}: a malformed request line → 400, huge headers → 431", async () => {
    const malformed = await raw('NOT A REQUEST\r\n\r\n');
    assert.match(malformed, /^HTTP\/1\.1 400 /);
    assert.equal(bodyOf(malformed).error.code, 'INVALID_INPUT');
    const huge = await raw(`GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`);
    assert.match(huge, /^HTTP\/1\.1 431 /);
    assert.equal(bodyOf(huge).error.code, 'HEADERS_TOO_LARGE');
    assert.match(huge, /content-type: application\/json/i);
  });

  test('plain HTTP sends neither HSTS nor upgrade-insecure-requests', async () => {
    const res = await app.inject({ url: '/health' });
    assert.equal(res.headers['strict-transport-security'], undefined);
    assert.doesNotMatch(String(res.headers['content-security-policy']), /upgrade-insecure-requests/);
    assert.match(String(res.headers['content-security-policy']), /default-src 'self'/, 'the rest of the policy stays');
  });
});

test('HTTPS keeps HSTS and upgrade-insecure-requests', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'geul-tls-'));
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
  if (made.status !== 0) return t.skip('openssl not available');
  const app = await buildServer(serverConfig({ tlsCert: join(dir, 'cert.pem'), tlsKey: join(dir, 'key.pem') }));
  try {
    const res = await app.inject({ url: '/health' });
    assert.match(String(res.headers['strict-transport-security']), /max-age=/);
    assert.match(String(res.headers['content-security-policy']), /upgrade-insecure-requests/);
  } finally {
    await app.close();
  }
});

describe('start-up failures and the bind address', () => {
  test('a port in use → ADDRESS_IN_USE naming the address', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      await assert.rejects(startServer(serverConfig({ host: '127.0.0.1', port })), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'ADDRESS_IN_USE');
        assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
        return true;
      });
    } finally {
      taken.close();
    }
  });

  test('a file that is not a PEM certificate → TLS_INVALID', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'geul-badtls-'));
    writeFileSync(join(dir, 'cert.pem'), 'not a certificate');
    writeFileSync(join(dir, 'key.pem'), 'not a key');
    await assert.rejects(buildServer(serverConfig({ tlsCert: join(dir, 'cert.pem'), tlsKey: join(dir, 'key.pem') })),
      (err: Error & { code?: string }) => err.code === 'TLS_INVALID');
  });

  test('bound to every interface, the server reports 0.0.0.0 and a usable loopback URL', async () => {
    const keys = new KeyStore(':memory:');
    const running = await startServer(serverConfig({ host: '0.0.0.0', auth: 'required' }), { keys });
    try {
      assert.match(running.bound, /^0\.0\.0\.0:\d+$/);
      assert.equal(running.url, `http://127.0.0.1:${running.bound.split(':')[1]}`);
      assert.equal((await fetch(`${running.url}/health`)).status, 200);
    } finally {
      await running.shutdown();
      keys.close();
    }
  });
});
