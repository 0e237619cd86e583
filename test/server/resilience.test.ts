// Back-pressure and failure handling: bursts past the queue get 503 + Retry-After, a killed worker fails only its
// request and is replaced, and SIGTERM lets in-flight requests finish before exiting 0 (over a real port), ONNX
// workers included.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { post, serverConfig, spawnServe } from '../helpers/server.js';

/** Every worker call waits this long first (test hook in the worker), so requests are reliably in flight. */
const DELAY = '400';

describe('with slow workers', () => {
  let app: FastifyInstance;
  before(async () => {
    process.env.GEUL_TEST_WORKER_DELAY_MS = DELAY;
    app = await buildServer(serverConfig({ workers: 1, queueSize: 2, defaults: { generate: '/nonexistent/gpt', embeddings: '/nonexistent/embed' } }));
  });
  after(async () => {
    await app.close();
    delete process.env.GEUL_TEST_WORKER_DELAY_MS;
  });

  test('a burst far beyond the queue is answered at once with 503 + Retry-After; memory stays flat', async () => {
    const heap = process.memoryUsage().heapUsed;
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) =>
      post(app, i % 2 ? '/v1/generate' : '/v1/embeddings', { inputs: `burst ${i}` })));
    const overloaded = answers.filter((a) => a.status === 503);
    assert.ok(overloaded.length >= 50, `expected most to be refused, got ${answers.map((a) => a.status).join(',')}`);
    for (const a of overloaded) {
      assert.equal(a.json().error?.code, 'OVERLOADED');
      assert.ok(Number(a.headers['retry-after']) >= 1);
    }
    // The admitted few still get their (model-not-found) answer from a worker; nobody is left hanging.
    assert.ok(answers.every((a) => a.status === 503 || a.status === 404), answers.map((a) => a.status).join(','));
    assert.ok(process.memoryUsage().heapUsed - heap < 100 * 1024 * 1024);
  });

  test('a worker killed mid-request fails that request with 500, is replaced, and the next request is served', async () => {
    const inflight = post(app, '/v1/generate', { inputs: 'doomed' });
    await new Promise((r) => setTimeout(r, 150));
    const pool = app.geul.inference.pool;
    const restarts = pool.restarts;
    await pool.threads[0].terminate();
    const res = await inflight;
    assert.equal(res.status, 500, res.body);
    assert.equal(res.json().error?.code, 'INTERNAL');
    const next = await post(app, '/v1/generate', { inputs: 'after' });
    assert.equal(next.status, 404, 'answered by a fresh worker (the model is missing on purpose)');
    assert.equal(next.json().error?.code, 'MODEL_NOT_FOUND');
    assert.ok(pool.restarts > restarts);
    assert.match((await app.inject({ url: '/metrics' })).body, /geul_worker_restarts_total [1-9]/);
  });
});

test('closing the pool: the running call finishes, queued calls answer 503 OVERLOADED without running (not 500)', async () => {
  process.env.GEUL_TEST_WORKER_DELAY_MS = DELAY;
  const app = await buildServer(serverConfig({ workers: 1, queueSize: 10, defaults: { generate: '/nonexistent/gpt' } }));
  delete process.env.GEUL_TEST_WORKER_DELAY_MS;
  assert.equal((await post(app, '/v1/generate', { inputs: 'warm-up' })).status, 404, 'the worker is up');
  const answers = Array.from({ length: 4 }, (_, i) => post(app, '/v1/generate', { inputs: `queued ${i}` }));
  await new Promise((r) => setTimeout(r, 150));
  await app.geul.inference.close();
  const statuses = (await Promise.all(answers)).map((a) => a.status);
  assert.equal(statuses[0], 404, 'the running call got its real answer (the model is missing on purpose)');
  assert.deepEqual(statuses.slice(1), [503, 503, 503]);
  await app.close();
});

test('SIGTERM with requests in flight: they complete, then the process exits 0', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'geul-sigterm-'));
  // A generous drain deadline: on a loaded machine the in-flight requests may take many seconds to finish.
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify({ server: { shutdownTimeoutMs: 50_000 } }));
  const { child, url, stderr } = await spawnServe(['--import', 'tsx', 'src/cli/bin.ts', 'serve', '--port', '0', '--workers', '1', '--data-dir', dir,
    '--default', 'generate=/nonexistent/gpt', '--log-level', 'warn'], { ...process.env, GEUL_CONFIG: configFile, GEUL_TEST_WORKER_DELAY_MS: '1500' });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const requests = [1, 2].map((i) => fetch(`${url}/v1/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: `p${i}` }) })
    .then(async (r) => ({ status: r.status, body: (await r.json()) as { error?: { code: string } } })));
  // SIGTERM only once the server holds both requests (a loaded machine may take a while to accept them).
  for (let tries = 0; tries < 200; tries++) {
    const metrics = await (await fetch(`${url}/metrics`)).text();
    if (Number(/^geul_queue_depth (\d+)/m.exec(metrics)?.[1] ?? 0) >= 2) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGTERM');
  const answers = await Promise.all(requests);
  for (const a of answers) assert.equal(a.body.error?.code, 'MODEL_NOT_FOUND', 'in-flight requests got their real answer');
  assert.equal(await exited, 0, stderr());
});

test('the compiled server (dist/) runs its worker from worker.js under plain Node', { timeout: 30_000 }, async (t) => {
  if (!existsSync('dist/tasks/worker.js')) return t.skip('run `npm run build` first');
  const dir = mkdtempSync(join(tmpdir(), 'geul-dist-'));
  const { child, url } = await spawnServe(['bin/geul', 'serve', '--port', '0', '--workers', '1', '--data-dir', dir, '--default', 'generate=/nonexistent/gpt', '--log-level', 'warn'],
    { ...process.env, NODE_OPTIONS: '' });
  try {
    const res = await fetch(`${url}/v1/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"inputs":"x"}' });
    assert.equal(((await res.json()) as { error?: { code: string } }).error?.code, 'MODEL_NOT_FOUND', 'answered by a worker');
  } finally {
    child.kill('SIGTERM');
  }
});

test('SIGTERM while two workers run ONNX sessions: queued requests answer 503, the process exits 0', { timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'geul-sigterm-onnx-'));
  const { child, url, stderr } = await spawnServe(['--import', 'tsx', 'src/cli/bin.ts', 'serve', '--port', '0', '--workers', '2', '--data-dir', dir,
    '--models', await fixturesDir(), '--default', 'embeddings=tiny-bert-embed', '--log-level', 'warn'], process.env);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const embed = (i: number) => fetch(`${url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: `text number ${i}` }) })
    .then((r) => r.status, () => 0);
  // Both workers load the model and run sessions, then a burst is in flight when the signal comes.
  assert.deepEqual(new Set(await Promise.all(Array.from({ length: 64 }, (_, i) => embed(i)))), new Set([200]));
  const burst = Array.from({ length: 256 }, (_, i) => embed(i));
  await new Promise((r) => setTimeout(r, 20));
  child.kill('SIGTERM');
  const statuses = await Promise.all(burst);
  // 0: a connection the closing server refused; never a 500.
  assert.ok(statuses.every((s) => s === 200 || s === 503 || s === 0), JSON.stringify(statuses.filter((s) => s !== 200)));
  assert.equal(await exited, 0, stderr());
});
