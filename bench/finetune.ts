// `npm run bench:finetune`: BERT fine-tuning step time and peak memory against PyTorch, one fresh process per shape.
//
//   npm run bench:finetune -- [--shapes mini-16x128,small-16x128,base-16x128,mini-8x256,small-8x256,base-8x256,mlm-mini-16x128]
//                             [--rounds 2] [--steps 4] [--warmup 2] [--threads 2] [--quick] [--no-readme] [--section TITLE]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { ensureTorch, machine, median, PYTHON, writeReadmeSection } from './common.js';
import { describeShape, parseShape, stepFlops, type BenchShape } from './finetune-shapes.js';

const DEFAULT_SECTION = 'Fine-tuning: step time and memory against PyTorch';
const { values: args } = parseArgs({
  options: {
    shapes: { type: 'string', default: 'mini-16x128,small-16x128,mini-8x256,small-8x256,mlm-mini-16x128,base-16x128,base-8x256' },
    rounds: { type: 'string', default: '2' },
    steps: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '2' },
    threads: { type: 'string', default: '2' },
    quick: { type: 'boolean', default: false },
    'no-readme': { type: 'boolean', default: false },
    /** The bench/README.md section to write (lets long shapes run and publish separately). */
    section: { type: 'string', default: DEFAULT_SECTION },
  },
});
if (args.quick) Object.assign(args, { shapes: args.shapes.includes('base') ? 'mini-16x128,small-16x128' : args.shapes, rounds: '1', steps: '2', warmup: '1' });
const TORCH_ENV = { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', OPENBLAS_CORETYPE: 'SkylakeX' };

/** One measurement of one side: median step ms and peak RSS of its own process. */
interface Sample { ms: number; cpuMs: number; rssMiB: number; version: string }

function runChild(command: string, argv: string[], env: NodeJS.ProcessEnv): Sample | string {
  const r = spawnSync(command, argv, { env, encoding: 'utf8', maxBuffer: 1 << 24 });
  const last = r.stdout?.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !last.startsWith('{')) return `exit ${r.status ?? r.signal}: ${(r.stderr ?? '').slice(-600)}`;
  const out = JSON.parse(last) as { ms: number; cpu_ms: number; peak_rss_mib: number; torch?: string; ort?: string };
  return { ms: out.ms, cpuMs: out.cpu_ms, rssMiB: out.peak_rss_mib, version: out.torch ?? out.ort ?? '?' };
}

function geulSample(shape: BenchShape): Sample | string {
  const tsx = join('node_modules', '.bin', 'tsx');
  return runChild(tsx, ['bench/finetune-geul.ts', '--shape', shape.id, '--steps', args.steps, '--warmup', args.warmup, '--threads', args.threads], process.env);
}

function torchSample(shape: BenchShape): Sample | string {
  return runChild(PYTHON, ['bench/finetune-torch.py', '--task', shape.task, '--layers', String(shape.layers), '--hidden', String(shape.hidden),
    '--seq', String(shape.seq), '--batch', String(shape.batch), '--steps', args.steps, '--warmup', args.warmup, '--threads', args.threads], TORCH_ENV);
}

const shapes = args.shapes.split(',').map(parseShape);
const rounds = Number(args.rounds);
const results = new Map(shapes.map((s) => [s.id, { geul: [] as Sample[], torch: [] as Sample[], errors: [] as string[], loads: [] as number[] }]));
ensureTorch();
const startLoad = loadavg()[0];
for (const shape of shapes) {
  const slot = results.get(shape.id)!;
  for (let r = 0; r < rounds; r++) { // alternate sides (and which goes first) so both see the same background load
    const order = r % 2 === 0 ? [geulSample, torchSample] : [torchSample, geulSample];
    for (const side of order) {
      slot.loads.push(loadavg()[0]);
      const sample = side(shape);
      const name = side === geulSample ? 'geul' : 'torch';
      if (typeof sample === 'string') slot.errors.push(`${name}: ${sample}`);
      else slot[name].push(sample);
      process.stderr.write(`${shape.id} round ${r + 1} ${name}: ${typeof sample === 'string' ? sample : `${sample.ms.toFixed(0)} ms, ${sample.rssMiB.toFixed(0)} MiB`} (load ${loadavg()[0].toFixed(1)})\n`);
    }
  }
}

const fmt = (v: number, digits = 0) => (Number.isFinite(v) ? v.toFixed(digits) : '-');
const gib = (mib: number) => fmt(mib / 1024, 2);
function table(): string[] {
  const lines = [
    '| shape | geul ms/step | torch ms/step | ratio geul/torch (per round) | CPU-time ratio | geul ex/s | torch ex/s | geul GFLOP/s | torch GFLOP/s | geul peak RSS GiB | torch peak RSS GiB | load during |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const shape of shapes) {
    const { geul, torch, loads } = results.get(shape.id)!;
    const g = median(geul.map((s) => s.ms));
    const t = median(torch.map((s) => s.ms));
    // Each round's two samples ran back to back, so their ratio sees one load; the median of those is the headline.
    const ratios = geul.slice(0, torch.length).map((s, i) => s.ms / torch[i].ms);
    const cpuRatios = geul.slice(0, torch.length).map((s, i) => s.cpuMs / torch[i].cpuMs);
    const flops = stepFlops(shape);
    const perSecond = (ms: number) => (shape.batch * 1000) / ms;
    const unit = shape.task === 'mlm' ? ' tok' : '';
    const rate = (ms: number) => fmt(shape.task === 'mlm' ? perSecond(ms) * shape.seq : perSecond(ms), 1) + unit;
    lines.push(`| ${describeShape(shape)} | ${fmt(g)} (${geul.map((s) => fmt(s.ms)).join(' / ')}) | ${fmt(t)} (${torch.map((s) => fmt(s.ms)).join(' / ')}) | ${fmt(median(ratios), 2)} (${ratios.map((r) => fmt(r, 2)).join(' / ')}) | ${fmt(median(cpuRatios), 2)} `
      + `| ${rate(g)} | ${rate(t)} | ${fmt(flops / g / 1e6, 1)} | ${fmt(flops / t / 1e6, 1)} `
      + `| ${gib(Math.max(...geul.map((s) => s.rssMiB)))} | ${gib(Math.max(...torch.map((s) => s.rssMiB)))} | ${fmt(Math.min(...loads), 1)}–${fmt(Math.max(...loads), 1)} |`);
  }
  return lines;
}

/** One IMDb epoch (25k reviews) at seq 256, from the measured 8 × 256 step; DistilBERT (6 layers) scaled by FLOPs. */
function projections(): string[] {
  const base = shapes.find((s) => s.layers === 12 && s.seq === 256 && s.task === 'classify');
  if (!base) return [];
  const { geul, torch } = results.get(base.id)!;
  const distil: BenchShape = { ...base, layers: 6 };
  const epoch = (ms: number, scale: number) => (ms * scale * 25000) / base.batch / 3600000;
  const row = (name: string, scale: number) => `| ${name} | ${fmt(epoch(median(geul.map((s) => s.ms)), scale), 1)} h | ${fmt(epoch(median(torch.map((s) => s.ms)), scale), 1)} h |`;
  return ['', 'Projected time of one IMDb epoch (25,000 reviews, seq 256, batch 8) from the base 8 × 256 step; DistilBERT (6 × 768) scaled by its matmul FLOPs:', '',
    '| model | geul | torch |', '|---|---|---|', row('BERT-base', 1), row('DistilBERT', stepFlops(distil) / stepFlops(base))];
}

const command = `npm run bench:finetune -- --shapes ${args.shapes} --rounds ${args.rounds} --steps ${args.steps} --warmup ${args.warmup} --threads ${args.threads}${args.section !== DEFAULT_SECTION ? ` --section "${args.section}"` : ''}`;
const versions = [...results.values()].flatMap((r) => [...r.geul, ...r.torch].map((s) => s.version));
const errors = [...results.entries()].flatMap(([id, r]) => r.errors.map((e) => `- ${id}: ${e.replace(/\n/g, ' ')}`));
const body = [
  `Measured ${new Date().toISOString().slice(0, 16)} UTC on ${machine()}, 1-minute load average ${startLoad.toFixed(1)} at the start (per shape: the range seen while it ran). Reproduce: \`${command}\``,
  '',
  `Step = forward + backward + AdamW (biases and LayerNorm weights without decay), dropout 0.1, random ids, no padding; median of ${args.steps} steps after ${args.warmup} warm-up steps,`,
  `in a fresh process per shape and side (peak RSS = that process's maximum resident set); ${rounds} rounds alternating geul and torch (ms per round in brackets);
the ratio is the median of the per-round ratios (each round's two processes ran back to back), the ms columns the medians over rounds.`,
  `geul: onnxruntime-node ${ort.env.versions.common}, ${args.threads} intra-op threads. torch ${versions.find((v) => !v.startsWith('ort')) ?? '-'} (Debian python3-torch, ${args.threads} threads, \`OMP_WAIT_POLICY=PASSIVE\`), plain torch with HF BertModel semantics in \`bench/finetune-torch.py\`.`,
  'GFLOP/s counts matmul FLOPs only (forward ×3 for forward + backward) over wall time. Vocabulary 30,522, FFN 4 × hidden, 64-dim heads.',
  'CPU-time ratio: median over rounds of geul\'s process CPU time per step (all threads) over torch\'s; on a shared machine it moves far less than wall time.',
  '',
  ...table(),
  ...projections(),
  ...(errors.length ? ['', 'Failed samples:', ...errors] : []),
].join('\n');
process.stdout.write(`## ${args.section}\n\n${body}\n`);
if (!args['no-readme'] && existsSync('bench/README.md')) writeReadmeSection(args.section, body);
