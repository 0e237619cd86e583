// Benchmark of the batch `embed` job: rows/s in embedded mode, with one and two Redis workers, and the raw ONNX session (best batch), in alternating rounds.
// Usage: npm run bench:jobs -- [--rows 100000] [--chunk-size 64] [--window 1024] [--rounds 1] [--only raw,task,embedded,redis1,redis2] [--model DIR] [--redis URL] [--trace] [--no-readme]
// --trace runs the jobs with GEUL_JOB_TRACE=1 and prints each job's trace lines (where its per-chunk time goes).
// DIR defaults to bench/out/models/minilm-l6-random (npm run fixtures -- --out bench/out/models --only minilm-l6-random).
// Every job mode runs real processes (`geul serve`, `geul worker`) as the CLI starts them; input is a server path (auth off, loopback).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { dropRedisPrefix } from '../src/store/redis.js';
import { loadConfig } from '../src/core/config.js';
import { ModelStore } from '../src/runtime/models.js';
import { encodeTexts } from '../src/tasks/encoder.js';
import { embedTask } from '../src/tasks/embeddings.js';
import { runTask } from '../src/tasks/run.js';
import { machine, median, sharedData, writeReadmeSection } from './common.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' }, 'chunk-size': { type: 'string', default: '64' }, window: { type: 'string', default: '1024' }, rounds: { type: 'string', default: '1' },
    only: { type: 'string', default: 'raw,task,embedded,redis1,redis2' }, model: { type: 'string', default: 'bench/out/models/minilm-l6-random' },
    redis: { type: 'string', default: process.env.GEUL_REDIS_URL ?? 'redis://127.0.0.1:6379' }, sample: { type: 'string', default: '4096' },
    'no-readme': { type: 'boolean', default: false }, trace: { type: 'boolean', default: false },
  },
});
const ROWS = Number(values.rows);
const CHUNK = Number(values['chunk-size']);
// The job's sort window (param `window`), whole chunks as the runner rounds it.
const WINDOW = Math.ceil(Number(values.window) / CHUNK) * CHUNK;
const ROUNDS = Number(values.rounds);
const MODES = values.only!.split(',');
const modelDir = resolve(values.model!);
const REDIS = values.redis!;
// The in-process measures (raw session, task call) run on a sample: the same interleaved mix, so the same lengths.
const SAMPLE = Math.min(ROWS, Number(values.sample));
const RAW_BATCHES = [16, 32, 64, 128];
const work = mkdtempSync(join(tmpdir(), 'geul-bench-jobs-'));

/** One or two sentences: IMDb reviews are cut at sentence ends (HTML breaks removed) and taken two sentences a row. */
function imdbRows(): string[] {
  const out: string[] = [];
  for (const line of readFileSync(sharedData('imdb', 'train.jsonl') ?? '', 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const text = (JSON.parse(line) as { text: string }).text.replace(/<br\s*\/?>/g, ' ').replace(/\s+/g, ' ').trim();
    const sentences = text.match(/[^.!?]+[.!?]*/g)?.map((s) => s.trim()).filter(Boolean) ?? [];
    for (let i = 0; i + 1 < sentences.length; i += 2) out.push(`${sentences[i]} ${sentences[i + 1]}`);
  }
  return out;
}

/** SST-2 train sentences and IMDb two-sentence rows, interleaved in proportion, so any prefix has the same mix. */
function buildRows(n: number): string[] {
  const sst = readFileSync(sharedData('sst2', 'train.tsv') ?? '', 'utf8').split('\n').slice(1).filter(Boolean).map((l) => l.split('\t')[0].trim()).filter(Boolean);
  const imdb = imdbRows();
  const fromSst = Math.min(sst.length, Math.round(n * 0.67));
  const fromImdb = n - fromSst;
  if (fromImdb > imdb.length) throw new Error(`only ${sst.length + imdb.length} rows available`);
  const tagged = [...sst.slice(0, fromSst).map((t, i) => ({ t, k: (i + 0.5) / fromSst })), ...imdb.slice(0, fromImdb).map((t, i) => ({ t, k: (i + 0.5) / fromImdb }))];
  return tagged.sort((a, b) => a.k - b.k).map((r) => r.t);
}

const rows = buildRows(ROWS);
const writeInput = (name: string, texts: string[]) => {
  const path = join(work, name);
  writeFileSync(path, texts.map((text) => JSON.stringify({ text })).join('\n') + '\n');
  return path;
};
const inputAll = writeInput('all.jsonl', rows);
const inputHalves = [writeInput('half1.jsonl', rows.slice(0, Math.ceil(ROWS / 2))), writeInput('half2.jsonl', rows.slice(Math.ceil(ROWS / 2)))];
const sample = rows.slice(0, SAMPLE);

interface Proc { child: ChildProcess; match: RegExpExecArray }
const procs: ChildProcess[] = [];

/** Starts `geul …` and resolves once its stderr matches `ready`. */
function geul(args: string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<Proc> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', ...args], { env: { ...process.env, ...(values.trace && { GEUL_JOB_TRACE: '1' }), ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  procs.push(child);
  let stderr = '';
  return new Promise((ok, fail) => {
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      const match = ready.exec(stderr);
      if (match) ok({ child, match });
    });
    child.on('exit', (code) => fail(new Error(`geul ${args[0]} exited (${code}): ${stderr}`)));
  });
}

async function stop(list: Proc[]): Promise<void> {
  await Promise.all(list.map((p) => new Promise<void>((done) => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return done();
    p.child.once('exit', () => done());
    p.child.kill('SIGTERM');
    setTimeout(() => p.child.kill('SIGKILL'), 10_000).unref();
  })));
}

interface JobRun { rowsPerSecond: number; steadyRowsPerSecond: number; msPerChunk: number; wallS: number; load1: number }

/** Submits one embed job per input, polls them (every 100 ms) to the end: wall rate from submit, steady rate from the first progress. */
async function runJobs(base: string, inputs: string[]): Promise<JobRun> {
  const load1 = loadavg()[0];
  const started = performance.now();
  const ids = await Promise.all(inputs.map(async (input) => {
    const res = await fetch(`${base}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'embed', params: { input, chunkSize: CHUNK, window: WINDOW } }) });
    if (res.status !== 201) throw new Error(`submit: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { id: string }).id;
  }));
  const first = new Map<string, { t: number; step: number }>();
  const last = new Map<string, { t: number; total: number }>();
  while (last.size < ids.length) {
    await new Promise((r) => setTimeout(r, 100));
    for (const id of ids) {
      if (last.has(id)) continue;
      const job = (await (await fetch(`${base}/v1/jobs/${id}`)).json()) as { state: string; error: unknown; progress: { step: number; total: number | null } };
      const t = performance.now();
      if (job.state === 'failed' || job.state === 'cancelled') throw new Error(`job ${id} ${job.state}: ${JSON.stringify(job.error)}`);
      if (!first.has(id) && job.progress.step > 0) first.set(id, { t, step: job.progress.step });
      if (job.state === 'succeeded') last.set(id, { t, total: job.progress.total ?? 0 });
    }
  }
  const end = Math.max(...[...last.values()].map((l) => l.t));
  if (values.trace) for (const id of ids) await printTrace(base, id);
  const wallS = (end - started) / 1000;
  // Steady state: from the first progress seen (child started, model loaded, a chunk done) to the last job's end.
  const from = Math.min(...[...first.values()].map((f) => f.t));
  // A window's chunks commit in one burst after it computes: rows of the window the first poll landed in were computed
  // before it, so steady counts from that window's end (NaN, shown "–", when a job is one window).
  const steadyFrom = (id: string) => Math.min(last.get(id)!.total, Math.ceil((first.get(id)?.step ?? 0) / WINDOW) * WINDOW);
  const steadyRows = ids.reduce((n, id) => n + last.get(id)!.total - steadyFrom(id), 0) || NaN;
  const steadyS = (end - from) / 1000;
  // Per chunk, per job (the jobs run side by side): a job's steady time over the chunks it did in it.
  const msPerChunk = median(ids.map((id) => (last.get(id)!.t - (first.get(id)?.t ?? started)) / (((last.get(id)!.total - steadyFrom(id)) || NaN) / CHUNK)));
  return { rowsPerSecond: ROWS / wallS, steadyRowsPerSecond: steadyRows / steadyS, msPerChunk, wallS, load1 };
}

/** The job's trace lines (its `log` events that start with "trace"), read from its finished event stream. */
async function printTrace(base: string, id: string): Promise<void> {
  const stream = await (await fetch(`${base}/v1/jobs/${id}/events`)).text();
  for (const data of stream.split('\n').filter((l) => l.startsWith('data: '))) {
    const message = (JSON.parse(data.slice(6)) as { message?: string }).message;
    if (message?.startsWith('trace')) console.log(`${id}: ${message.replaceAll('; ', '\n    ')}`);
  }
}

async function embedded(): Promise<JobRun> {
  const api = await geul(['serve', '--port', '0', '--workers', '1', '--data-dir', join(work, `embedded-${randomBytes(3).toString('hex')}`), '--log-level', 'warn', '--default', `embeddings=${modelDir}`],
    { GEUL_THREADS: '0' }, /serving on (http:\/\/[^\s]+)/);
  try {
    return await runJobs(api.match[1], [inputAll]);
  } finally {
    await stop([api]);
  }
}

/** `geul serve --redis` (enqueues only) and `workers` `geul worker`s; two workers get one thread each and one job each (half the rows). */
async function redis(workers: number): Promise<JobRun> {
  const prefix = `geul-bench-${randomBytes(6).toString('hex')}`;
  const dir = join(work, prefix);
  const shared = join(dir, 'shared-jobs');
  const config = join(dir, 'config.json');
  mkdirSync(dir, { recursive: true });
  writeFileSync(config, JSON.stringify({ jobs: { dir: shared } }));
  const env = { GEUL_CONFIG: config, GEUL_REDIS_PREFIX: prefix, GEUL_THREADS: workers > 1 ? '1' : '0' };
  const started: Proc[] = [];
  try {
    const api = await geul(['serve', '--port', '0', '--workers', '1', '--redis', REDIS, '--data-dir', join(dir, 'api'), '--log-level', 'warn', '--default', `embeddings=${modelDir}`], env, /serving on (http:\/\/[^\s]+)/);
    started.push(api);
    const list = await Promise.all(Array.from({ length: workers }, (_, n) => geul(['worker', '--redis', REDIS, '--data-dir', join(dir, `worker${n}`), '--jobs-dir', shared, '--concurrency', '1'], env, /worker taking jobs/)));
    started.push(...list);
    return await runJobs(api.match[1], workers > 1 ? inputHalves : [inputAll]);
  } finally {
    await stop(started);
    await dropRedisPrefix(REDIS, prefix);
  }
}

/** `batch` < 0: the job's chunks in input order (|batch| rows each). */
interface RawRun { batch: number; rowsPerSecond: number }

/** The ceiling: session.run alone on pre-tokenised, length-sorted batches of the sample (padded to each batch's longest row), default threads. */
async function rawSession() {
  const config = loadConfig({ logLevel: 'silent', offline: true }, { skipFile: true });
  const models = new ModelStore(config);
  const loaded = await models.load(modelDir, 'feature-extraction', 'embeddings');
  const session = await ort.InferenceSession.create(join(modelDir, 'onnx', 'model.onnx'));
  const feedsOf = (inputs: ReturnType<typeof encodeTexts>['inputs']) => {
    const feed: Record<string, ort.Tensor> = {};
    const mask = inputs.attention_mask;
    for (const name of session.inputNames) {
      const t = inputs[name] ?? { data: new BigInt64Array(mask.data.length), dims: mask.dims };
      feed[name] = new ort.Tensor('int64', t.data as BigInt64Array, t.dims);
    }
    return feed;
  };
  // Sorted by token length first: the least padding any batching of these rows can have (the job sorts within a window).
  const length = new Map(sample.map((t) => [t, encodeTexts(loaded, [t]).ids[0].length]));
  const sorted = [...sample].sort((a, b) => length.get(a)! - length.get(b)!);
  const prepared = RAW_BATCHES.map((batch) => {
    const feeds: Record<string, ort.Tensor>[] = [];
    for (let i = 0; i < sorted.length; i += batch) {
      feeds.push(feedsOf(encodeTexts(loaded, sorted.slice(i, i + batch)).inputs));
    }
    return { batch, feeds };
  });
  // Also the job's own batching: consecutive rows in input order, one batch per chunk, padded to its longest row.
  const inOrder: Record<string, ort.Tensor>[] = [];
  for (let i = 0; i < sample.length; i += CHUNK) inOrder.push(feedsOf(encodeTexts(loaded, sample.slice(i, i + CHUNK)).inputs));
  const measure = async (): Promise<RawRun[]> => {
    const out: RawRun[] = [];
    for (const { batch, feeds } of [...prepared, { batch: -CHUNK, feeds: inOrder }]) {
      await session.run(feeds[0]);
      const start = performance.now();
      for (const feed of feeds) await session.run(feed);
      out.push({ batch, rowsPerSecond: sample.length / ((performance.now() - start) / 1000) });
    }
    return out;
  };
  return { measure, close: async () => { await session.release(); await models.dispose(); } };
}

/** What the job's process calls per window (runTask(embedTask): tokenise, sort, run, pool, normalise), in this process, same threads. */
async function taskCall() {
  const config = loadConfig({ logLevel: 'silent', offline: true }, { skipFile: true });
  const models = new ModelStore(config);
  const signal = new AbortController().signal;
  const call = (texts: string[]) => runTask(embedTask, { model: modelDir, inputs: texts, pooling: 'mean', normalize: true }, { models, signal });
  await call(sample.slice(0, CHUNK));
  const measure = async () => {
    const start = performance.now();
    for (let i = 0; i < sample.length; i += WINDOW) await call(sample.slice(i, i + WINDOW));
    const ms = performance.now() - start;
    return { rowsPerSecond: sample.length / (ms / 1000), msPerChunk: ms / Math.ceil(sample.length / CHUNK) };
  };
  return { measure, close: () => models.dispose() };
}

const raw = MODES.includes('raw') ? await rawSession() : undefined;
const task = MODES.includes('task') || MODES.some((m) => m !== 'raw') ? await taskCall() : undefined;
const results: Record<string, JobRun[]> = { embedded: [], redis1: [], redis2: [] };
const rawRounds: RawRun[][] = [];
const taskRounds: { rowsPerSecond: number; msPerChunk: number }[] = [];
const loads: number[] = [];
try {
  for (let round = 0; round < ROUNDS; round++) {
    // Alternating: raw, task, then the job modes, in turn each round (so slow drift in the load hits all of them).
    if (raw) { loads.push(loadavg()[0]); rawRounds.push(await raw.measure()); }
    if (task) { loads.push(loadavg()[0]); taskRounds.push(await task.measure()); }
    for (const mode of ['embedded', 'redis1', 'redis2'].filter((m) => MODES.includes(m))) {
      const r = mode === 'embedded' ? await embedded() : await redis(mode === 'redis1' ? 1 : 2);
      loads.push(r.load1);
      results[mode].push(r);
      process.stdout.write(`round ${round + 1} ${mode}: ${r.rowsPerSecond.toFixed(1)} rows/s (steady ${r.steadyRowsPerSecond.toFixed(1)}), ${r.msPerChunk.toFixed(1)} ms/chunk, load ${r.load1.toFixed(1)}\n`);
    }
  }
} finally {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
}

const fmt = (n: number | undefined, d = 0) => (n === undefined || Number.isNaN(n) ? '–' : n.toFixed(d));
const rawMedian = [...RAW_BATCHES, -CHUNK].map((batch) => ({ batch, rowsPerSecond: median(rawRounds.map((rr) => rr.find((r) => r.batch === batch)!.rowsPerSecond)) }));
const rawInOrder = rawMedian.find((r) => r.batch === -CHUNK)?.rowsPerSecond ?? NaN;
const best = rawRounds.length ? rawMedian.filter((r) => r.batch > 0).reduce((a, b) => (b.rowsPerSecond > a.rowsPerSecond ? b : a)) : undefined;
const taskMs = taskRounds.length ? median(taskRounds.map((t) => t.msPerChunk)) : NaN;
const taskRate = taskRounds.length ? median(taskRounds.map((t) => t.rowsPerSecond)) : NaN;
const label: Record<string, string> = { embedded: 'embedded (SQLite, `geul serve`), 1 job, ONNX default threads', redis1: 'Redis, 1 `geul worker`, 1 job, ONNX default threads', redis2: 'Redis, 2 `geul worker`s × 1 ONNX thread, 2 jobs of half the rows' };
const lines = [
  `${ROWS} rows (${fmt(ROWS * 0.67)} SST-2 train sentences + IMDb train reviews cut into two-sentence rows, interleaved), chunkSize ${CHUNK}, window ${WINDOW}, ${ROUNDS} round(s), model ${modelDir.split('/').pop()}, ${machine()}, load average ${fmt(Math.min(...loads), 1)}–${fmt(Math.max(...loads), 1)} (1 min), medians over rounds`,
  '',
  '| mode | rows/s (submit → succeeded) | rows/s (steady) | job / raw best (sorted) | job / raw in chunks | ms per chunk | overhead per chunk ms | load avg |',
  '|---|---|---|---|---|---|---|---|',
  ...(['embedded', 'redis1', 'redis2'] as const).filter((m) => results[m].length).map((m) => {
    const rs = results[m];
    const rate = median(rs.map((r) => r.rowsPerSecond));
    const steady = median(rs.map((r) => r.steadyRowsPerSecond));
    const ms = median(rs.map((r) => r.msPerChunk));
    // Overhead only where the job's process computes as the in-process task call does (same threads, one job).
    const overhead = m === 'redis2' ? '–' : fmt(ms - taskMs, 1);
    return `| ${label[m]} | ${fmt(rate)} | ${fmt(steady)} | ${best ? `${fmt(rate / best.rowsPerSecond, 2)} (steady ${fmt(steady / best.rowsPerSecond, 2)})` : '–'} | ${fmt(rate / rawInOrder, 2)} (steady ${fmt(steady / rawInOrder, 2)}) | ${fmt(ms, 1)} | ${overhead} | ${fmt(median(rs.map((r) => r.load1)), 1)} |`;
  }),
  '',
  ...(best ? [`- raw onnxruntime session, default threads, session.run only on pre-tokenised batches of the first ${SAMPLE} rows sorted by length: ${rawMedian.filter((r) => r.batch > 0).map((r) => `batch ${r.batch}: ${fmt(r.rowsPerSecond)}/s`).join(', ')}; best batch ${best.batch}`, `- raw session on the job's own batches (the same rows in input order, ${CHUNK} a batch, padded to each batch's longest): ${fmt(rawInOrder)}/s`] : []),
  ...(taskRounds.length ? [`- the job's own per-window call in this process (runTask(embedTask): tokenise, sort by tokens, run, mean-pool, normalise; ${WINDOW} rows, default threads): ${fmt(taskRate)} rows/s, ${fmt(taskMs, 1)} ms per ${CHUNK}-row chunk`] : []),
];
process.stdout.write(`${lines.join('\n')}\n`);
mkdirSync(resolve('bench', 'out'), { recursive: true });
writeFileSync(resolve('bench', 'out', 'jobs.json'), JSON.stringify({ rows: ROWS, chunk: CHUNK, raw: rawRounds, task: taskRounds, results, loads }, null, 2));
if (!values['no-readme']) writeReadmeSection('Jobs', `${readmeIntro()}\n\n### Results (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, \`npm run bench:jobs -- ${process.argv.slice(2).join(' ')}\`)\n\n${lines.join('\n')}`);
await raw?.close();
await task?.close();

function readmeIntro(): string {
  return [
    'A batch `embed` job (issue 10) in embedded mode (SQLite queue, the server\'s own runner), with one `geul worker` and',
    'with two (Redis at 127.0.0.1:6379, a unique key prefix, dropped afterwards), against the raw onnxruntime-node session',
    'at its best batch size, in one run (per round: raw, task call, embedded, 1 worker, 2 workers). Each job mode starts',
    'real processes (`geul serve`, `geul worker`) and polls `GET /v1/jobs/:id` every 100 ms. **rows/s (submit →',
    'succeeded)** includes the job child\'s start and model load; **steady** starts at the first progress seen. **Queue',
    'overhead per chunk** = a job\'s steady ms per chunk − the same call (`runTask(embedTask)` per sort window, per chunk) timed in the',
    'benchmark process on the same rows: what the runner, the child process, IPC, the queue\'s progress writes and the',
    'chunk commit (append, fsync, state file) add. Two workers on this 2-core machine share the cores, so each gets one',
    'ONNX thread and one job of half the rows (a job runs on one worker); the others use ONNX Runtime\'s default threads.',
    '',
    '```',
    'npm run fixtures -- --out bench/out/models --only minilm-l6-random',
    'npm run bench:jobs -- --rows 100000 --chunk-size 64 --window 1024 --rounds 1   # [--only raw,task,embedded,redis1,redis2] [--model DIR] [--redis URL]',
    '```',
  ].join('\n');
}
