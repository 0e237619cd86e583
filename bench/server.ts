// Benchmark of POST /v1/embeddings: geul's server vs a naive in-handler server vs the raw ONNX session (best batch size).
// Usage: npm run bench:server -- --model DIR [--duration 10] [--out bench/out/server.json]
// DIR is a MiniLM-L6-shaped feature-extraction model folder (config.json, tokenizer.json, onnx/model.onnx).
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import * as ort from 'onnxruntime-node';
import { loadConfig } from '../src/core/config.js';
import { ModelStore } from '../src/runtime/models.js';
import { embedTexts } from '../src/tasks/embeddings.js';
import { buildServer } from '../src/server/app.js';
import { Metrics } from '../src/server/metrics.js';

const { values } = parseArgs({ options: { model: { type: 'string' }, duration: { type: 'string', default: '10' }, out: { type: 'string', default: 'bench/out/server.json' }, workers: { type: 'string', default: '1' } } });
if (!values.model) {
  process.stderr.write('usage: npm run bench:server -- --model DIR  (a MiniLM-L6-shaped model folder, e.g. from the fixtures generator)\n');
  process.exit(2);
}
const modelDir = resolve(values.model);
const modelsDir = dirname(modelDir);
const modelName = basename(modelDir);
const duration = Number(values.duration);
const CONCURRENCY = [1, 16, 64];
const SENTENCE = 'The quick brown fox jumps over the lazy dog while the band plays on.';

interface Row { server: string; c: number; rps: number; p50: number; p99: number; lagP99?: number; healthP99?: number; errors: number }

/** Polls /health every 50 ms during a run and returns its p99 latency in ms. */
function probeHealth(base: string): { stop: () => Promise<number> } {
  const times: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const t = performance.now();
      await fetch(`${base}/health`).then((r) => r.arrayBuffer()).catch(() => undefined);
      times.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      times.sort((a, b) => a - b);
      return times[Math.floor(times.length * 0.99)] ?? 0;
    },
  };
}

async function load(server: string, base: string, c: number, lag?: () => number): Promise<Row> {
  await autocannon({ url: `${base}/v1/embeddings`, method: 'POST', connections: c, duration: 2, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: SENTENCE }) });
  const probe = probeHealth(base);
  const result = await autocannon({ url: `${base}/v1/embeddings`, method: 'POST', connections: c, duration, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: SENTENCE }) });
  const healthP99 = await probe.stop();
  return { server, c, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, lagP99: lag?.(), healthP99, errors: result.errors + result.non2xx };
}

async function geulServer(): Promise<Row[]> {
  const config = loadConfig({ logLevel: 'silent', offline: true, server: { port: 0, modelsDir, workers: Number(values.workers), defaults: { embeddings: modelName }, queueSize: 1024 } }, { skipFile: true });
  const app = await buildServer(config);
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const rows: Row[] = [];
  for (const c of CONCURRENCY) {
    app.geul.metrics.resetLoopLag();
    rows.push(await load('geul', base, c, () => app.geul.metrics.loopLag().p99));
  }
  await app.close();
  return rows;
}

/** The naive baseline: transformers.js called in the request handler, on the event loop. */
async function naiveServer(): Promise<Row[]> {
  const config = loadConfig({ logLevel: 'silent', offline: true }, { skipFile: true });
  const models = new ModelStore(config);
  const loaded = await models.load(modelDir, 'feature-extraction', 'embeddings');
  const app = Fastify();
  const metrics = new Metrics();
  app.get('/health', async () => ({ status: 'ok' }));
  app.post('/v1/embeddings', async (request) => {
    const { input } = request.body as { input: string | string[] };
    const vectors = await embedTexts(loaded, [input].flat(), { pooling: 'mean', normalize: true });
    return { object: 'list', data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })) };
  });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const rows: Row[] = [];
  for (const c of CONCURRENCY) {
    metrics.resetLoopLag();
    rows.push(await load('naive', base, c, () => metrics.loopLag().p99));
  }
  await app.close();
  metrics.close();
  await models.dispose();
  return rows;
}

/** The ceiling: the raw onnxruntime-node session on pre-tokenised batches (no HTTP, no JSON, no pooling). */
async function rawSession(): Promise<{ batch: number; sentencesPerSecond: number }[]> {
  const config = loadConfig({ logLevel: 'silent', offline: true }, { skipFile: true });
  const models = new ModelStore(config);
  const loaded = await models.load(modelDir, 'feature-extraction', 'embeddings');
  const session = await ort.InferenceSession.create(join(modelDir, 'onnx', 'model.onnx'));
  const ids = loaded.tokenizer.encode(SENTENCE);
  const out: { batch: number; sentencesPerSecond: number }[] = [];
  for (const batch of [1, 8, 16, 32, 64]) {
    const shape = [batch, ids.length];
    const feeds: Record<string, ort.Tensor> = {};
    const fill = (v: (i: number) => bigint) => new ort.Tensor('int64', BigInt64Array.from({ length: batch * ids.length }, (_, i) => v(i % ids.length)), shape);
    for (const name of session.inputNames) {
      feeds[name] = name === 'input_ids' ? fill((i) => BigInt(ids[i])) : name === 'attention_mask' ? fill(() => 1n) : fill(() => 0n);
    }
    await session.run(feeds);
    let n = 0;
    const start = performance.now();
    while (performance.now() - start < Math.min(duration, 5) * 1000) {
      await session.run(feeds);
      n += batch;
    }
    out.push({ batch, sentencesPerSecond: n / ((performance.now() - start) / 1000) });
  }
  await session.release();
  await models.dispose();
  return out;
}

const raw = await rawSession();
const best = raw.reduce((a, b) => (b.sentencesPerSecond > a.sentencesPerSecond ? b : a));
const naive = await naiveServer();
const geul = await geulServer();
const rows = [...geul, ...naive];
const fmt = (n: number | undefined, d = 0) => (n === undefined ? '–' : n.toFixed(d));
const lines = [
  `model: ${modelName} · duration ${duration}s per run · workers ${values.workers}`,
  '',
  '| server | c | req/s | p50 ms | p99 ms | event-loop lag p99 ms | /health p99 ms | errors |',
  '|---|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.server} | ${r.c} | ${fmt(r.rps)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.lagP99, 1)} | ${fmt(r.healthP99, 1)} | ${r.errors} |`),
  '',
  `raw onnxruntime session: ${raw.map((r) => `batch ${r.batch}: ${fmt(r.sentencesPerSecond)}/s`).join(', ')}; best batch ${best.batch}`,
];
const g64 = geul.find((r) => r.c === 64)!;
const n64 = naive.find((r) => r.c === 64)!;
lines.push(`at c=64: geul/naive = ${fmt(g64.rps / n64.rps, 2)}× (goal ≥ 3×), geul/raw = ${fmt(g64.rps / best.sentencesPerSecond, 2)}× (goal ≥ 0.85×), geul event-loop lag p99 ${fmt(g64.lagP99, 1)} ms (goal < 50)`);
process.stdout.write(`${lines.join('\n')}\n`);
mkdirSync(dirname(resolve(values.out!)), { recursive: true });
writeFileSync(resolve(values.out!), JSON.stringify({ model: modelName, duration, rows, raw }, null, 2));
