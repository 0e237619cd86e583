// SSE streams record their end like any request: a finished stream counts as 200, one the client closes as 499,
// both in the request metric and with a "request completed" log line (over a real port, the tiny fixture GPT-2).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { createLogger } from '../../src/core/logging.js';
import { buildServer } from '../../src/server/app.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { serverConfig } from '../helpers/server.js';

let app: FastifyInstance;
let url: string;
const lines: string[] = [];

/** Every worker call waits this long first (test hook in the worker), so a stream is reliably still open. */
const DELAY = '600';

before(async () => {
  process.env.GEUL_TEST_WORKER_DELAY_MS = DELAY;
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(chunk.toString()); done(); } });
  app = await buildServer(serverConfig({ modelsDir: await fixturesDir(), defaults: { generate: 'tiny-gpt2' } }), { logger: createLogger({ level: 'info' }, sink) });
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});
after(async () => {
  await app.close();
  delete process.env.GEUL_TEST_WORKER_DELAY_MS;
});

const streamed = (status: number) => new RegExp(`geul_http_requests_total\\{route="/v1/generate",method="POST",status="${status}"\\} 1`);
const completions = (status: number) => lines.map((l) => JSON.parse(l) as { msg: string; res?: { statusCode: number }; reason?: string })
  .filter((l) => l.msg === 'request completed' && l.res?.statusCode === status);

async function metricsUntil(pattern: RegExp): Promise<string> {
  let text = '';
  for (let tries = 0; tries < 200 && !pattern.test(text); tries++) {
    if (tries > 0) await new Promise((r) => setTimeout(r, 25));
    text = (await app.inject({ url: '/metrics' })).body;
  }
  return text;
}

test('a stream that runs to its end is counted as 200 and logged', async () => {
  const res = await fetch(`${url}/v1/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: 'a', max_new_tokens: 3, stream: true }) });
  assert.match(await res.text(), /"done":true/);
  assert.match(await metricsUntil(streamed(200)), streamed(200));
  assert.equal(completions(200).length >= 1, true);
});

test('a stream the client closes is counted as 499 and logged with its reason', async () => {
  const controller = new AbortController();
  await fetch(`${url}/v1/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: 'a', max_new_tokens: 8, stream: true }), signal: controller.signal });
  // The stream's headers are out; the worker holds the generation (DELAY) while the client leaves.
  controller.abort();
  assert.match(await metricsUntil(streamed(499)), streamed(499));
  const closed = completions(499);
  assert.equal(closed.length, 1, lines.join(''));
  assert.equal(closed[0].reason, 'client closed the stream');
});
