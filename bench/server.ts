// Benchmark of POST /v1/embeddings: geul's server vs a naive in-handler server vs the raw ONNX session (best batch size), in alternating rounds.
// Usage: npm run bench:server -- --model DIR [--duration 10] [--rounds 2] [--workers 0] [--threads 0] [--mixed] [--only geul] [--out bench/out/server.json]
// --workers / --threads: geul's inference workers and ONNX threads per worker (0 = the server's defaults: a worker per core, cores shared out).
// --no-wide-worker: without the extra all-cores worker that takes requests arriving while the server is idle.
// DIR is a MiniLM-L6-shaped feature-extraction model folder (config.json, tokenizer.json, onnx/model.onnx).
// --mixed: SST-2 dev sentences of mixed lengths (one per request, in turn) instead of one fixed sentence.
// The load generator (autocannon) runs as its own process (bench/server-load.ts); its CPU is measured and reported.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import * as ort from 'onnxruntime-node';
import { loadConfig } from '../src/core/config.js';
import { ModelStore } from '../src/runtime/models.js';
import { embedTexts } from '../src/tasks/embeddings.js';
import { buildServer } from '../src/server/app.js';
import { Metrics } from '../src/server/metrics.js';
import { autoWorkers, onnxThreadsPerWorker, wideWorkerThreads } from '../src/runtime/pool.js';
import { median, sharedData } from './common.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string' }, duration: { type: 'string', default: '10' }, out: { type: 'string', default: 'bench/out/server.json' },
    workers: { type: 'string', default: '0' }, threads: { type: 'string', default: '0' }, rounds: { type: 'string', default: '2' }, mixed: { type: 'boolean', default: false },
    only: { type: 'string' }, concurrency: { type: 'string', default: '1,16,64' }, 'no-wide-worker': { type: 'boolean', default: false },
  },
});
if (!values.model) {
  process.stderr.write('usage: npm run bench:server -- --model DIR  (a MiniLM-L6-shaped model folder, e.g. from the fixtures generator)\n');
  process.exit(2);
}
const modelDir = resolve(values.model);
const modelsDir = dirname(modelDir);
const modelName = basename(modelDir);
const duration = Number(values.duration);
const rounds = Number(values.rounds);
const CONCURRENCY = values.concurrency!.split(',').map(Number);
const SENTENCE = 'The quick brown fox jumps over the lazy dog while the band plays on.';
const sentences = values.mixed
  ? readFileSync(sharedData('sst2', 'dev.tsv') ?? '', 'utf8').split('\n').slice(1).filter(Boolean).map((l) => l.split('\t')[0].trim())
  : [SENTENCE];
const bodyFile = resolve('bench', 'out', 'server-bodies.json');
mkdirSync(dirname(bodyFile), { recursive: true });
writeFileSync(bodyFile, JSON.stringify(sentences.map((input) => JSON.stringify({ input }))));
const run = promisify(execFile);
let geulShape = '';

interface Row {
  server: string; c: number; round: number; rps: number; p50: number; p99: number; lagP99?: number; healthP99?: number; errors: number;
  /** Cores busy in the server process (all its threads) and in the load generator, averaged over the run. */
  serverCores: number; loadCores: number; load1: number;
}

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

async function loadGenerator(base: string, c: number, seconds: number) {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', resolve('bench', 'server-load.ts'), `${base}/v1/embeddings`, String(c), String(seconds), bodyFile], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as { rps: number; p50: number; p99: number; errors: number; cpuSeconds: number; wallSeconds: number };
}

async function load(server: string, base: string, c: number, round: number, lag: { reset: () => void; p99: () => number }): Promise<Row> {
  await loadGenerator(base, c, 2);
  lag.reset();
  const load1 = loadavg()[0];
  const probe = probeHealth(base);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const r = await loadGenerator(base, c, duration);
  const used = process.cpuUsage(cpu);
  const wall = (performance.now() - started) / 1000;
  const healthP99 = await probe.stop();
  return {
    server, c, round, rps: r.rps, p50: r.p50, p99: r.p99, lagP99: lag.p99(), healthP99, errors: r.errors,
    // The generator's start-up (tsx) is outside its own measure; the server's share covers the same window.
    serverCores: (used.user + used.system) / 1e6 / wall, loadCores: r.cpuSeconds / r.wallSeconds, load1,
  };
}

async function geulServer() {
  const config = loadConfig({ logLevel: 'silent', offline: true, threads: Number(values.threads), server: { port: 0, modelsDir, workers: Number(values.workers), wideWorker: !values['no-wide-worker'], defaults: { embeddings: modelName }, queueSize: 1024 } }, { skipFile: true });
  const app = await buildServer(config);
  const workers = config.server.workers > 0 ? config.server.workers : autoWorkers();
  const wide = wideWorkerThreads(workers, config.threads, config.server.wideWorker);
  geulShape = `${workers} worker(s) × ${onnxThreadsPerWorker(workers, config.threads)} ONNX thread(s)${wide > 0 ? ` + a wide worker × ${wide} for requests that find it idle` : ''}`;
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const lag = { reset: () => app.geul.metrics.resetLoopLag(), p99: () => app.geul.metrics.loopLag().p99 };
  return { name: 'geul', base, lag, close: () => app.close() };
}

/** The naive baseline: transformers.js called in the request handler, on the event loop. */
async function naiveServer() {
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
  const lag = { reset: () => metrics.resetLoopLag(), p99: () => metrics.loopLag().p99 };
  return { name: 'naive', base, lag, close: async () => { await app.close(); metrics.close(); await models.dispose(); } };
}

/** The ceiling: the raw onnxruntime-node session on pre-tokenised batches (no HTTP, no JSON, no pooling). */
interface RawRun { batch: number; sentencesPerSecond: number; cpuMsPerSentence: number }

/** `threads` 0: ONNX Runtime's defaults (one intra-op thread per core), the anchor of the goal; 1: one thread, for CPU per sentence. */
async function rawSession(threads = 0): Promise<{ measure: () => Promise<RawRun[]>; close: () => Promise<void> }> {
  const config = loadConfig({ logLevel: 'silent', offline: true }, { skipFile: true });
  const models = new ModelStore(config);
  const loaded = await models.load(modelDir, 'feature-extraction', 'embeddings');
  const session = await ort.InferenceSession.create(join(modelDir, 'onnx', 'model.onnx'), threads > 0 ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {});
  const ids = loaded.tokenizer.encode(SENTENCE);
  const measure = async () => {
    const out: { batch: number; sentencesPerSecond: number; cpuMsPerSentence: number }[] = [];
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
      const cpu = process.cpuUsage();
      while (performance.now() - start < Math.min(duration, 4) * 1000) {
        await session.run(feeds);
        n += batch;
      }
      const used = process.cpuUsage(cpu);
      out.push({ batch, sentencesPerSecond: n / ((performance.now() - start) / 1000), cpuMsPerSentence: (used.user + used.system) / 1000 / n });
    }
    return out;
  };
  return { measure, close: async () => { await session.release(); await models.dispose(); } };
}

const raw = await rawSession();
const rawSingle = await rawSession(1);
const servers = values.only === 'geul' ? [await geulServer()] : [await naiveServer(), await geulServer()];
const rows: Row[] = [];
const rawRounds: RawRun[][] = [];
const rawSingleRounds: RawRun[][] = [];
for (let round = 0; round < rounds; round++) {
  rawRounds.push(await raw.measure());
  rawSingleRounds.push(await rawSingle.measure());
  for (const s of servers) for (const c of CONCURRENCY) rows.push(await load(s.name, s.base, c, round, s.lag));
}

const fmt = (n: number | undefined, d = 0) => (n === undefined || Number.isNaN(n) ? '–' : n.toFixed(d));
const batches = rawRounds[0].map((r) => r.batch);
const rawMedian = batches.map((batch) => {
  const runs = rawRounds.map((rr) => rr.find((r) => r.batch === batch)!);
  return { batch, sentencesPerSecond: median(runs.map((r) => r.sentencesPerSecond)), cpuMsPerSentence: median(runs.map((r) => r.cpuMsPerSentence)) };
});
const best = rawMedian.reduce((a, b) => (b.sentencesPerSecond > a.sentencesPerSecond ? b : a));
const singleMedian = batches.map((batch) => {
  const runs = rawSingleRounds.map((rr) => rr.find((r) => r.batch === batch)!);
  return { batch, sentencesPerSecond: median(runs.map((r) => r.sentencesPerSecond)), cpuMsPerSentence: median(runs.map((r) => r.cpuMsPerSentence)) };
});
const leanest = singleMedian.reduce((a, b) => (b.cpuMsPerSentence < a.cpuMsPerSentence ? b : a));
const cell = (server: string, c: number, f: (r: Row) => number) => median(rows.filter((r) => r.server === server && r.c === c).map(f));
const lines = [
  `model: ${modelName} · ${values.mixed ? `${sentences.length} SST-2 dev sentences of mixed length, in turn` : 'one fixed sentence'} · ${duration}s per run · ${rounds} rounds (raw, ${servers.map((s) => s.name).join(', ')} in turn) · geul: ${geulShape} · medians over rounds`,
  '',
  '| server | c | req/s | p50 ms | p99 ms | event-loop lag p99 ms | /health p99 ms | errors | server cores busy | server CPU ms / request | load generator cores busy | load avg |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...servers.flatMap((s) => CONCURRENCY.map((c) => `| ${s.name} | ${c} | ${fmt(cell(s.name, c, (r) => r.rps))} | ${fmt(cell(s.name, c, (r) => r.p50), 1)} | ${fmt(cell(s.name, c, (r) => r.p99), 1)} | ${fmt(cell(s.name, c, (r) => r.lagP99 ?? NaN), 1)} | ${fmt(cell(s.name, c, (r) => r.healthP99 ?? NaN), 1)} | ${rows.filter((r) => r.server === s.name && r.c === c).reduce((n, r) => n + r.errors, 0)} | ${fmt(cell(s.name, c, (r) => r.serverCores), 2)} | ${fmt(cell(s.name, c, (r) => (1000 * r.serverCores) / r.rps), 2)} | ${fmt(cell(s.name, c, (r) => r.loadCores), 2)} | ${fmt(cell(s.name, c, (r) => r.load1), 1)} |`)),
  '',
  `raw onnxruntime session, default threads (median over rounds): ${rawMedian.map((r) => `batch ${r.batch}: ${fmt(r.sentencesPerSecond)}/s (${fmt(r.cpuMsPerSentence, 2)} CPU ms each)`).join(', ')}; best batch ${best.batch}`,
  `raw onnxruntime session, 1 thread (median over rounds): ${singleMedian.map((r) => `batch ${r.batch}: ${fmt(r.sentencesPerSecond)}/s (${fmt(r.cpuMsPerSentence, 2)} CPU ms each)`).join(', ')}`,
];
const c64 = Math.max(...CONCURRENCY);
const g64 = cell('geul', c64, (r) => r.rps);
// Per round: geul at the top concurrency over that round's best raw batch (both measured minutes apart, not hours).
const perRound = rawRounds.map((rr, round) => (rows.find((r) => r.server === 'geul' && r.c === c64 && r.round === round)?.rps ?? NaN) / Math.max(...rr.map((r) => r.sentencesPerSecond)));
if (servers.length > 1) {
  const n64 = cell('naive', c64, (r) => r.rps);
  lines.push(`at c=${c64}: geul/naive = ${fmt(g64 / n64, 2)}× (goal ≥ 3×), geul/raw = ${fmt(g64 / best.sentencesPerSecond, 2)}× (goal ≥ 0.85×; per round ${perRound.map((x) => fmt(x, 2)).join(', ')}), geul event-loop lag p99 ${fmt(cell('geul', c64, (r) => r.lagP99 ?? NaN), 1)} ms (goal < 50)`);
  if (CONCURRENCY.includes(1)) lines.push(`at c=1: geul p50 ${fmt(cell('geul', 1, (r) => r.p50), 2)} ms vs naive ${fmt(cell('naive', 1, (r) => r.p50), 2)} ms = ${fmt(cell('geul', 1, (r) => r.p50) / cell('naive', 1, (r) => r.p50), 2)}× (goal ≤ 1.2×; exact times, not autocannon's whole-ms histogram); mean latency ratio geul/naive = ${fmt(cell('naive', 1, (r) => r.rps) / cell('geul', 1, (r) => r.rps), 2)}× (from req/s; goal ≤ 1.2×)`);
} else {
  lines.push(`at c=${c64}: geul/raw = ${fmt(g64 / best.sentencesPerSecond, 2)}× (per round ${perRound.map((x) => fmt(x, 2)).join(', ')})`);
}
// CPU per answer, which a machine shared with other jobs disturbs less than throughput: the raw session's best batch over geul's.
const geulCpu = cell('geul', c64, (r) => (1000 * r.serverCores) / r.rps);
lines.push(`CPU efficiency at c=${c64}: raw ${fmt(best.cpuMsPerSentence, 2)} CPU ms per sentence (batch ${best.batch}) / geul ${fmt(geulCpu, 2)} CPU ms per request = ${fmt(best.cpuMsPerSentence / geulCpu, 2)}×; against the leanest raw run (1 thread, batch ${leanest.batch}, ${fmt(leanest.cpuMsPerSentence, 2)} ms) ${fmt(leanest.cpuMsPerSentence / geulCpu, 2)}×`);
process.stdout.write(`${lines.join('\n')}\n`);
mkdirSync(dirname(resolve(values.out!)), { recursive: true });
writeFileSync(resolve(values.out!), JSON.stringify({ model: modelName, duration, geul: geulShape, rows, raw: rawRounds, rawSingleThread: rawSingleRounds }, null, 2));
// Closed only after the report is out: onnxruntime-node has been seen to abort the process while sessions are torn down.
for (const s of servers) await s.close();
await raw.close();
await rawSingle.close();
