// Where a lone request's time goes (c=1): the same embedding request through each layer in turn, p50 of sequential calls.
// Usage: npm run bench:server-latency -- --model DIR [--calls 400] [--rounds 3] [--no-wide-worker]
// Layers: the model call on the event loop (as the naive server makes it), the worker pool hop (what geul's route awaits),
// and the whole route in-process (app.inject: routing, validation, guard, JSON) for geul and for the naive server.
// The socket and HTTP parsing are left out here; bench:server measures them with a load generator in its own process.
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
const naive = Fastify();
naive.post('/v1/embeddings', async (request) => {
  const { input } = request.body as { input: string };
  const vectors = await embedTexts(loaded, [input], { pooling: 'mean', normalize: true });
  return { object: 'list', data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })) };
});
await naive.ready();

const layers: Record<string, () => Promise<unknown>> = {
  'model call on the event loop (naive: embedTexts, default threads)': () => embedTexts(loaded, [SENTENCE], { pooling: 'mean', normalize: true }),
  'naive route in-process (app.inject)': () => naive.inject({ method: 'POST', url: '/v1/embeddings', payload: body }),
  [`geul worker hop (pool.run('${op}'), ${pool.threads.length} threads)`]: () => realRun(op, payload, runOptions),
  'geul route in-process (app.inject)': () => app.inject({ method: 'POST', url: '/v1/embeddings', payload: body }),
};

/** p50 wall ms and process CPU ms per call over `CALLS` sequential calls. */
async function measure(fn: () => Promise<unknown>): Promise<{ p50: number; cpu: number }> {
  for (let i = 0; i < 20; i++) await fn();
  const times: number[] = [];
  const cpu = process.cpuUsage();
  for (let i = 0; i < CALLS; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  const used = process.cpuUsage(cpu);
  return { p50: median(times), cpu: (used.user + used.system) / 1000 / CALLS };
}

const results = new Map<string, { p50: number[]; cpu: number[] }>();
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, fn] of Object.entries(layers)) {
    const r = await measure(fn);
    const entry = results.get(name) ?? { p50: [], cpu: [] };
    entry.p50.push(r.p50);
    entry.cpu.push(r.cpu);
    results.set(name, entry);
  }
}
const lines = [
  `${CALLS} sequential calls × ${ROUNDS} rounds per layer (layers in turn), one fixed sentence, model ${basename(modelDir)}; medians over rounds`,
  '',
  '| layer | p50 ms | process CPU ms per call |',
  '|---|---|---|',
  ...[...results].map(([name, r]) => `| ${name} | ${median(r.p50).toFixed(2)} | ${median(r.cpu).toFixed(2)} |`),
];
process.stdout.write(`${lines.join('\n')}\n`);
await naive.close();
await app.close();
await naiveModels.dispose();
