// `npm run bench:words`: word-vector queries (most_similar) on a 400k × 300 set: geul in-process and over HTTP vs gensim 4, side by side.
// Usage: npm run bench:words -- [--file F.bin] [--rounds 3] [--queries 30] [--duration 4] [--no-readme]
// Without --file a 400k × 300 word2vec binary file of clustered Gaussian vectors is generated once (bench/out/words/).
import { execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync, mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/core/config.js';
import { buildServer } from '../src/server/app.js';
import { readVectors, writeVectors } from '../src/words/formats.js';
import { WordVectors, topIndices } from '../src/words/vectors.js';
import { ensureGensim, machine, median, PYTHON, writeReadmeSection } from './common.js';

const { values } = parseArgs({
  options: {
    file: { type: 'string' }, rounds: { type: 'string', default: '3' }, queries: { type: 'string', default: '30' },
    duration: { type: 'string', default: '4' }, 'no-readme': { type: 'boolean', default: false },
  },
});
const OUT = resolve('bench', 'out', 'words');
const ROWS = 400_000;
const DIM = 300;
const ROUNDS = Number(values.rounds);
const QUERIES = Number(values.queries);
const DURATION = Number(values.duration);
const CONCURRENCY = [8, 32];

/** 400k × 300 vectors around 4,000 cluster centres (so that neighbours are near, as in trained sets), words w0 … w399999. */
async function generated(): Promise<string> {
  const path = join(OUT, `generated-${ROWS}x${DIM}.bin`);
  if (existsSync(path)) return path;
  mkdirSync(OUT, { recursive: true });
  console.log(`writing ${path} …`);
  let a = 12345;
  const rand = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const centres = Float32Array.from({ length: 4000 * DIM }, gauss);
  const data = new Float32Array(ROWS * DIM);
  for (let r = 0; r < ROWS; r++) {
    const k = Math.floor(rand() * 4000);
    for (let d = 0; d < DIM; d++) data[r * DIM + d] = centres[k * DIM + d] + 1.2 * gauss();
  }
  await writeVectors(path, new WordVectors(Array.from({ length: ROWS }, (_, i) => `w${i}`), DIM, data));
  return path;
}

/** gensim in a child process kept alive between rounds; each line in is a command, each line out a JSON answer. */
const GENSIM = `
import sys, time, json
import numpy as np
from gensim.models import KeyedVectors
from gensim import matutils
t = time.time()
kv = KeyedVectors.load_word2vec_format(sys.argv[1], binary=True)
kv.fill_norms()
print(json.dumps({'load': time.time() - t}), flush=True)
for line in sys.stdin:
    cmd = json.loads(line)
    if cmd['op'] == 'lone':
        times = []
        for w in cmd['words']:
            t = time.perf_counter(); kv.most_similar(w, topn=10); times.append((time.perf_counter() - t) * 1000)
        print(json.dumps({'ms': sorted(times)[len(times) // 2]}), flush=True)
    elif cmd['op'] == 'topk':
        dists = np.dot(kv.get_normed_vectors(), kv.get_vector(cmd['word'], norm=True))
        out = {}
        for k in (10, 1000):
            times = []
            for _ in range(15):
                t = time.perf_counter(); matutils.argsort(dists, topn=k, reverse=True); times.append((time.perf_counter() - t) * 1000)
            out[str(k)] = sorted(times)[7]
        print(json.dumps(out), flush=True)
`;

function startGensim(file: string) {
  const child = spawn(PYTHON, ['-c', GENSIM, file], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => JSON.parse((await lines.next()).value as string) as Record<string, number>;
  return {
    ready: next(),
    async ask(cmd: unknown): Promise<Record<string, number>> {
      child.stdin.write(`${JSON.stringify(cmd)}\n`);
      return next();
    },
    close: () => child.stdin.end(),
  };
}

const words = (round: number, n: number) => Array.from({ length: n }, (_, i) => `w${(round * 7919 + i * 104_729) % ROWS}`);

async function timeEach(list: string[], fn: (w: string) => unknown): Promise<number> {
  const times: number[] = [];
  for (const w of list) {
    const t = performance.now();
    await fn(w);
    times.push(performance.now() - t);
  }
  return median(times);
}

/** `c` clients, each sending one most_similar request after the other for `DURATION` s; answers per second. */
async function closedLoop(base: string, c: number, round: number, seconds = DURATION): Promise<{ qps: number; p50: number; errors: number }> {
  const stop = performance.now() + seconds * 1000;
  const latencies: number[] = [];
  let errors = 0;
  await Promise.all(Array.from({ length: c }, async (_, client) => {
    for (let i = 0; performance.now() < stop; i++) {
      const t = performance.now();
      const res = await fetch(`${base}/v1/words/similar`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ word: `w${(round * 31 + client * 7907 + i * 104_729) % ROWS}`, topn: 10 }) });
      await res.arrayBuffer();
      if (res.ok) latencies.push(performance.now() - t);
      else errors++;
    }
  }));
  return { qps: latencies.length / seconds, p50: median(latencies), errors };
}

interface Round { load: number; gensim: number; sync: number; screened: number; http: number; concurrent: Record<number, { qps: number; p50: number; errors: number }> }

async function run(): Promise<void> {
  ensureGensim();
  const file = values.file ? resolve(values.file) : await generated();
  const gensim = startGensim(file);
  const gensimLoad = (await gensim.ready).load;
  let t = performance.now();
  const vectors = (await readVectors(file)).releaseRaw();
  const geulLoad = (performance.now() - t) / 1000;
  t = performance.now();
  await vectors.prepareSearch();
  const screenBuild = (performance.now() - t) / 1000;
  const config = loadConfig({ logLevel: 'silent', offline: true, server: { port: 0, workers: 1, vectors: { bench: { path: file } }, queueSize: 4096 } }, { skipFile: true });
  const app = await buildServer(config);
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  t = performance.now();
  await fetch(`${base}/v1/words/similar`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ word: 'w1' }) }).then((r) => r.arrayBuffer());
  const serverLoad = (performance.now() - t) / 1000;

  // Warm-up (JIT, ORT's first runs, the server's thread): not recorded.
  const warm = words(99, 10);
  await gensim.ask({ op: 'lone', words: warm });
  await timeEach(warm, (w) => vectors.mostSimilar({ positive: [w], topn: 10 }));
  await timeEach(warm, (w) => vectors.similar({ positive: [w], topn: 10 }));
  await closedLoop(base, 8, 99, 1);

  const rounds: Round[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const list = words(round, QUERIES);
    const load = loadavg()[0];
    // Alternating sides within a round, in the same order each round.
    const g = (await gensim.ask({ op: 'lone', words: list })).ms;
    const sync = await timeEach(list, (w) => vectors.mostSimilar({ positive: [w], topn: 10 }));
    const screened = await timeEach(list, (w) => vectors.similar({ positive: [w], topn: 10 }));
    const http = await timeEach(list, (w) => fetch(`${base}/v1/words/similar`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ word: w, topn: 10 }) }).then((r) => r.arrayBuffer()));
    const concurrent: Round['concurrent'] = {};
    for (const c of CONCURRENCY) concurrent[c] = await closedLoop(base, c, round);
    const r = { load, gensim: g, sync, screened, http, concurrent };
    console.log(JSON.stringify(r));
    rounds.push(r);
  }

  // Top-k partial selection on one full score array (400k floats).
  const [scores] = vectors.scores([vectors.unitRow(5)]);
  const topk = Object.fromEntries([10, 1000].map((k) => [k, median(Array.from({ length: 15 }, () => {
    const s = performance.now();
    topIndices(scores, new Set([5]), k);
    return performance.now() - s;
  }))]));
  const gensimTopk = await gensim.ask({ op: 'topk', word: 'w5' });
  gensim.close();
  await app.close();
  await vectors.releaseSearch();

  const med = (f: (r: Round) => number) => median(rounds.map(f));
  const fmt = (x: number, d = 1) => x.toFixed(d);
  const gensimQps = 1000 / med((r) => r.gensim);
  const lines = [
    `Measured ${new Date().toISOString().slice(0, 10)} on ${machine()}, gensim ${gensimVersion()} (Debian python3-gensim, numpy BLAS with its default threads). Command: \`npm run bench:words\` (installs python3-gensim with apt-get if missing — for the benchmark only).`,
    '',
    `Set: ${values.file ? file : `generated ${ROWS.toLocaleString('en')} × ${DIM} word2vec binary file (clustered Gaussian vectors, \`bench/out/words/\`)`}. Query: most_similar of one word, topn 10; ${QUERIES} different words per round, ${ROUNDS} rounds alternating gensim and geul, medians of the per-round medians. 1-minute load average at the start of the rounds: ${rounds.map((r) => fmt(r.load)).join(', ')}.`,
    '',
    '| measure | geul | gensim | ratio geul/gensim |',
    '|---|---|---|---|',
    `| lone query, in-process, \`mostSimilar\` (sync, SIMD pass over float32) | ${fmt(med((r) => r.sync))} ms | ${fmt(med((r) => r.gensim))} ms | ${fmt(med((r) => r.sync) / med((r) => r.gensim), 2)} |`,
    `| lone query, in-process, \`similar\` (int8 screen + exact rescoring) | ${fmt(med((r) => r.screened))} ms | ${fmt(med((r) => r.gensim))} ms | **${fmt(med((r) => r.screened) / med((r) => r.gensim), 2)}** (goal ≤ 1) |`,
    `| lone query over HTTP (\`POST /v1/words/similar\`, sequential) | ${fmt(med((r) => r.http))} ms | – | ${fmt(med((r) => r.http) / med((r) => r.gensim), 2)} |`,
    ...CONCURRENCY.map((c) => `| ${c} concurrent over HTTP: queries/s (p50 ms) | ${fmt(med((r) => r.concurrent[c].qps), 0)} (${fmt(med((r) => r.concurrent[c].p50))}) | ${fmt(gensimQps, 0)} (sequential, in-process) | **${fmt(med((r) => r.concurrent[c].qps) / gensimQps, 2)}×** (goal ≥ 4×) |`),
    `| top-k selection of 400k scores, k = 10 / 1000 | ${fmt(topk[10], 2)} / ${fmt(topk[1000], 2)} ms (\`topIndices\`) | ${fmt(gensimTopk['10'], 2)} / ${fmt(gensimTopk['1000'], 2)} ms (\`matutils.argsort\`) | |`,
    `| load: read the file (+ build the int8 screen) | ${fmt(geulLoad)} s (+ ${fmt(screenBuild)} s); server: ${fmt(serverLoad)} s to the first answer | ${fmt(gensimLoad)} s (+ fill_norms) | |`,
    '',
    'How: `WordVectors.prepareSearch()` (the server does it at load) keeps an int8 copy of the unit matrix (+25 % memory); one ONNX Runtime pass (`MatMulInteger` + `TopK`, all cores) screens every row for all waiting queries, a proven bound on the quantisation error keeps every row that could be in the top k (typically 30–80 of 400k), and those are rescored in float64 — the answers equal a brute-force pass (test/words/screen.test.ts). Without it (or where the bound cannot narrow down) the SIMD pass answers; its kernels now come in widths 1, 2 and 4, so a lone query no longer pays for four (125 → 40 ms). Before this branch: `POST /v1/words/similar` ~128 ms per lone query.',
    '',
    `Errors over HTTP: ${rounds.reduce((n, r) => n + CONCURRENCY.reduce((m, c) => m + r.concurrent[c].errors, 0), 0)}. Rounds: ${rounds.map((r) => `gensim ${fmt(r.gensim)} / sync ${fmt(r.sync)} / screened ${fmt(r.screened)} / http ${fmt(r.http)} ms, ${CONCURRENCY.map((c) => `c=${c} ${fmt(r.concurrent[c].qps, 0)}/s`).join(', ')}`).join('; ')}.`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (!values['no-readme']) writeReadmeSection('Word vectors: queries', lines.join('\n'));
}

let cachedVersion: string | undefined;
function gensimVersion(): string {
  cachedVersion ??= execFileSync(PYTHON, ['-c', 'import gensim; print(gensim.__version__)'], { encoding: 'utf8' }).trim();
  return cachedVersion;
}

await run();
