// Where a lone request's time goes (c=1): the same embedding request through each layer in turn, p50 of sequential calls.
// Usage: npm run bench:server-latency -- --model DIR [--calls 400] [--rounds 3] [--no-wide-worker]
// Layers: the model call on the event loop (as the naive server makes it), the worker pool hop (what geul's route awaits),
// and the whole route in-process (app.inject: routing, validation, guard, JSON) for geul and for the naive server.
// The event-loop thread's CPU and run-queue wait per call come from /proc (Linux): what the route costs it, and how long
// it waited for a core the worker's threads held. The "replayed" layers answer from a recorded model/worker result: the
// route code alone. The socket and HTTP parsing are left out here; bench:server measures them with a load generator in
// its own process.
import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import { loadConfig } from '../src/core/config.js';
import { ModelStore } from '../src/runtime/models.js';
import { embedTexts } from '../src/tasks/embeddings.js';
import { buildServer } from '../src/server/app.js';
import { median } from './common.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string' }, calls: { type: 'string', default: '400' }, rounds: { type: 'string', default: '3' }, 'no-wide-worker': { type: 'boolean', default: false },
  },
});
if (!values.model) {
  process.stderr.write('usage: npm run bench:server-latency -- --model DIR  (a MiniLM-L6-shaped model folder)\n');
  process.exit(2);
}
const modelDir = resolve(values.model);
const CALLS = Number(values.calls);
const ROUNDS = Number(values.rounds);
const SENTENCE = 'The quick brown fox jumps over the lazy dog while the band plays on.';
const body = { input: SENTENCE };

const config = loadConfig({ logLevel: 'silent', offline: true, server: { port: 0, modelsDir: dirname(modelDir), wideWorker: !values['no-wide-worker'], defaults: { embeddings: basename(modelDir) }, queueSize: 1024 } }, { skipFile: true });
const app = await buildServer(config);
await app.ready();
const pool = app.geul.inference.pool;

// The worker call geul's route makes, captured from one request and replayed as is.
let captured: [string, unknown, Record<string, unknown>] | undefined;
const realRun = pool.run.bind(pool);
pool.run = (async (op: string, payload: unknown, options: Record<string, unknown> = {}) => {
  captured ??= [op, payload, options];
  return realRun(op, payload, options);
}) as typeof pool.run;
const first = await app.inject({ method: 'POST', url: '/v1/embeddings', payload: body });
if (first.statusCode !== 200 || !captured) throw new Error(`geul answered ${first.statusCode}: ${first.body}`);
pool.run = realRun;
const [op, payload, runOptions] = captured;

const naiveModels = new ModelStore(loadConfig({ logLevel: 'silent', offline: true }, { skipFile: true }));
const loaded = await naiveModels.load(modelDir, 'feature-extraction', 'embeddings');
/** With `replay`, the model call is replaced by its answer: the route's own code, on a thread that never sleeps. */
let replay = false;
const naiveAnswer = await embedTexts(loaded, [SENTENCE], { pooling: 'mean', normalize: true });
const naive = Fastify();
naive.post('/v1/embeddings', async (request) => {
  const { input } = request.body as { input: string };
  const vectors = replay ? structuredClone(naiveAnswer) : await embedTexts(loaded, [input], { pooling: 'mean', normalize: true });
  return { object: 'list', data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })) };
});
await naive.ready();
const geulAnswer = await realRun(op, payload, runOptions);
/** Runs `fn` with both routes answering from the replayed model/worker results. */
const replayed = (fn: () => Promise<unknown>) => async () => {
  replay = true;
  pool.run = (async () => structuredClone(geulAnswer)) as typeof pool.run;
  try {
    return await fn();
  } finally {
    replay = false;
    pool.run = realRun;
  }
};

const layers: Record<string, () => Promise<unknown>> = {
  'model call on the event loop (naive: embedTexts, default threads)': () => embedTexts(loaded, [SENTENCE], { pooling: 'mean', normalize: true }),
  'naive route in-process (app.inject)': () => naive.inject({ method: 'POST', url: '/v1/embeddings', payload: body }),
  [`geul worker hop (pool.run('${op}'), ${pool.threads.length} threads)`]: () => realRun(op, payload, runOptions),
  'geul route in-process (app.inject)': () => app.inject({ method: 'POST', url: '/v1/embeddings', payload: body }),
  'naive route, model answer replayed (route code only)': replayed(() => naive.inject({ method: 'POST', url: '/v1/embeddings', payload: body })),
  'geul route, worker answer replayed (route code only)': replayed(() => app.inject({ method: 'POST', url: '/v1/embeddings', payload: body })),
};

/**
 * The event-loop thread's own scheduler counters (Linux): ns on a CPU and ns runnable but waiting for one. The wait is
 * what the worker's threads cost the event loop when they take both cores; undefined elsewhere.
 */
function mainThreadSchedule(): [number, number] | undefined {
  try {
    const [onCpu, waiting] = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ').map(Number);
    return [onCpu, waiting];
  } catch {
    return undefined;
  }
}

interface Measure { p50: number; cpu: number; mainCpu?: number; mainWait?: number }

/** p50 wall ms, process CPU ms and the event-loop thread's CPU and run-queue wait ms per call over `CALLS` calls. */
async function measure(fn: () => Promise<unknown>): Promise<Measure> {
  for (let i = 0; i < 20; i++) await fn();
  const times: number[] = [];
  const cpu = process.cpuUsage();
  const before = mainThreadSchedule();
  for (let i = 0; i < CALLS; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  const after = mainThreadSchedule();
  const used = process.cpuUsage(cpu);
  const perCall = (i: 0 | 1) => (before && after ? (after[i] - before[i]) / 1e6 / CALLS : undefined);
  return { p50: median(times), cpu: (used.user + used.system) / 1000 / CALLS, mainCpu: perCall(0), mainWait: perCall(1) };
}

const results = new Map<string, Measure[]>();
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, fn] of Object.entries(layers)) results.set(name, [...(results.get(name) ?? []), await measure(fn)]);
}
const med = (rows: Measure[], key: keyof Measure) => {
  const values = rows.map((r) => r[key]).filter((v): v is number => v !== undefined);
  return values.length ? median(values).toFixed(2) : 'n/a';
};
const lines = [
  `${CALLS} sequential calls × ${ROUNDS} rounds per layer (layers in turn), one fixed sentence, model ${basename(modelDir)}; medians over rounds`,
  '',
  '| layer | p50 ms | process CPU ms per call | event-loop thread CPU ms per call | event-loop thread run-queue wait ms per call |',
  '|---|---|---|---|---|',
  ...[...results].map(([name, r]) => `| ${name} | ${med(r, 'p50')} | ${med(r, 'cpu')} | ${med(r, 'mainCpu')} | ${med(r, 'mainWait')} |`),
];
process.stdout.write(`${lines.join('\n')}\n`);
await naive.close();
await app.close();
await naiveModels.dispose();
