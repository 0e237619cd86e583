// The wide worker: with several one-thread workers, a lone embeddings request runs on the worker that has every core.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { post, serverConfig } from '../helpers/server.js';

const skip = availableParallelism() < 2 ? 'the wide worker needs at least 2 cores (this machine has 1)' : false;

describe('wide worker', { skip }, () => {
  let wide: FastifyInstance;
  let narrow: FastifyInstance;
  before(async () => {
    const T = await fixturesDir();
    const server = { modelsDir: T, workers: 2, defaults: { embeddings: 'tiny-bert-embed' } };
    wide = await buildServer(serverConfig(server));
    narrow = await buildServer(serverConfig({ ...server, wideWorker: false }));
  });
  after(async () => {
    await wide?.close();
    await narrow?.close();
  });

  test('a lone request goes wide and answers what the one-thread workers answer', async () => {
    const pool = wide.geul.inference.pool;
    assert.equal(pool.stats.threads, 3, 'two one-thread workers and the wide one');
    const text = { input: ['a lone request', '혼자 온 요청입니다'] };
    const a = await post(wide, '/v1/embeddings', text);
    assert.equal(a.status, 200, a.body);
    assert.equal(pool.wideCalls, 1);
    const b = await post(narrow, '/v1/embeddings', text);
    assert.equal(narrow.geul.inference.pool.wideCalls, 0);
    assert.equal(narrow.geul.inference.pool.stats.threads, 2, 'wideWorker: false starts none');
    const vectors = (r: typeof a) => (r.json().data as { embedding: number[] }[]).map((d) => d.embedding);
    const [va, vb] = [vectors(a), vectors(b)];
    for (let i = 0; i < va.length; i++) for (let j = 0; j < va[i].length; j++) assert.ok(Math.abs(va[i][j] - vb[i][j]) < 1e-5, `text ${i}, dim ${j}`);
  });

  test('concurrent requests also use the one-thread workers', async () => {
    const pool = wide.geul.inference.pool;
    const [wideBefore, callsBefore] = [pool.wideCalls, pool.calls];
    const answers = await Promise.all(Array.from({ length: 24 }, (_, i) => post(wide, '/v1/embeddings', { input: `text number ${i} `.repeat(1 + (i % 5)) })));
    assert.ok(answers.every((r) => r.status === 200));
    const [wideCalls, calls] = [pool.wideCalls - wideBefore, pool.calls - callsBefore];
    assert.ok(calls >= 2 && wideCalls < calls, `${wideCalls} of ${calls} worker calls went wide`);
  });
});
