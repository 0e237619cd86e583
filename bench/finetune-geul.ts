// One shape of `npm run bench:finetune` on geul's side, in its own process (so its peak RSS is this shape's):
// Trainer + the Hugging Face BERT encoder graph; prints one JSON line (median step ms, peak RSS MiB).
//
//   npx tsx bench/finetune-geul.ts --shape mini-16x128 --steps 4 --warmup 2 --threads 2 [--optimizer-threads 1]
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { Rng } from '../src/core/random.js';
import { hfNoDecay } from '../src/train/optim.js';
import type { EncoderConfig } from '../src/train/pretrained/config.js';
import { IGNORED_LABEL } from '../src/train/pretrained/mlm-loss.js';
import { encoderModelDef } from '../src/train/pretrained/model-def.js';
import { Trainer } from '../src/train/trainer.js';
import { median } from './common.js';
import { parseShape, VOCAB, type BenchShape } from './finetune-shapes.js';

const { values: args } = parseArgs({
  options: { shape: { type: 'string' }, steps: { type: 'string', default: '4' }, warmup: { type: 'string', default: '2' }, threads: { type: 'string', default: '2' }, profile: { type: 'string' },
    'optimizer-threads': { type: 'string' }, arena: { type: 'string', default: 'on' }, dropout: { type: 'string', default: '0.1' }, spin: { type: 'string', default: 'off' }, 'mem-pattern': { type: 'string', default: 'off' } },
});
const shape = parseShape(args.shape ?? 'mini-16x128');

function encoderConfig(s: BenchShape): EncoderConfig {
  return {
    modelType: 'bert', head: s.task === 'mlm' ? 'masked-lm' : 'sequence-classification', vocabSize: VOCAB, hiddenSize: s.hidden, layers: s.layers,
    heads: s.hidden / 64, intermediateSize: 4 * s.hidden, maxPositions: 512, typeVocabSize: 2, layerNormEps: 1e-12, hiddenAct: 'gelu',
    padTokenId: 0, numLabels: 2, id2label: ['NEGATIVE', 'POSITIVE'],
  };
}

const rng = new Rng(1);
const { batch, seq } = shape;
const mlm = shape.task === 'mlm';
// From scratch with HF's init (normal 0.02, zero biases, unit LayerNorm); dropout 0.1 at HF's sites; AdamW without
// decay for biases and LayerNorm weights, as the HF Trainer.
const rate = Number(args.dropout);
const model = encoderModelDef(encoderConfig(shape), new Map(), { dropout: { hidden: rate, attention: rate, classifier: rate } });
const trainer = await Trainer.create(model, { name: 'adamw', lr: 2e-5, weightDecay: 0.01, eps: 1e-8, noDecay: hfNoDecay }, {
  seed: 1, threads: Number(args.threads), fetchLogits: !mlm,
  // Default: the trainer's own choice (as many as --threads for models this size); 1 keeps the step on the main thread.
  ...(args['optimizer-threads'] ? { optimizerThreads: Number(args['optimizer-threads']) } : {}),
  sessionOptions: {
    enableCpuMemArena: args.arena === 'on', enableMemPattern: args['mem-pattern'] === 'on',
    extra: { 'session.intra_op.allow_spinning': args.spin === 'on' ? '1' : '0' },
    ...(args.profile ? { enableProfiling: true, profileFilePrefix: args.profile } : {}),
  },
});
const ids = BigInt64Array.from({ length: batch * seq }, () => BigInt(1 + rng.int(VOCAB - 1)));
const features = {
  input_ids: new ort.Tensor('int64', ids, [batch, seq]),
  attention_mask: new ort.Tensor('int64', new BigInt64Array(batch * seq).fill(1n), [batch, seq]),
};
// MLM: 15 % of the positions carry their token as the label, the rest are ignored (as the torch side draws them).
const labels = mlm
  ? new ort.Tensor('int64', ids.map((id) => (rng.next() < 0.15 ? id : BigInt(IGNORED_LABEL))), [batch, seq])
  : BigInt64Array.from({ length: batch }, () => BigInt(rng.int(2)));
const times: number[] = [];
// CPU time of the whole process per step (all threads): on a shared machine it moves far less than wall time.
const cpu: number[] = [];
let loss = NaN;
for (let i = 0; i < Number(args.warmup) + Number(args.steps); i++) {
  const start = performance.now();
  const used = process.cpuUsage();
  loss = (await trainer.step(features, labels)).loss;
  const spent = process.cpuUsage(used);
  if (i >= Number(args.warmup)) {
    times.push(performance.now() - start);
    cpu.push((spent.user + spent.system) / 1000);
  }
}
await trainer.release();
if (args.profile) printProfile(args.profile);
process.stdout.write(`${JSON.stringify({ ort: `ort ${ort.env.versions.common}`, ms: median(times), steps_ms: times, cpu_ms: median(cpu), params: trainer.parameterCount, optimizer_threads: trainer.optimizerThreads, peak_rss_mib: process.resourceUsage().maxRSS / 1024, loss })}\n`);

/** Per-op-type totals of the ORT profile written next to `prefix` (the newest one), over all profiled runs, to stderr. */
function printProfile(prefix: string): void {
  const dir = dirname(prefix);
  const file = readdirSync(dir).filter((f) => join(dir, f).startsWith(prefix) && f.endsWith('.json')).sort().pop();
  if (!file) return;
  const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { cat: string; name: string; dur: number; args?: { op_name?: string } }[];
  const byOp = new Map<string, number>();
  let total = 0;
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const op = e.args?.op_name ?? '?';
    byOp.set(op, (byOp.get(op) ?? 0) + e.dur);
    total += e.dur;
  }
  const runs = Number(args.warmup) + Number(args.steps);
  process.stderr.write(`kernel time per step ${(total / runs / 1000).toFixed(1)} ms (${file})\n`);
  for (const [op, us] of [...byOp].sort((a, b) => b[1] - a[1]).slice(0, 25)) process.stderr.write(`  ${op.padEnd(28)} ${(us / runs / 1000).toFixed(1).padStart(8)} ms  ${((100 * us) / total).toFixed(1)} %\n`);
}
