// `npm run bench:train`: training step time against PyTorch CPU (LSTM classifier, 4-layer Transformer encoder) and
// IMDb quality (bag of bigrams, a recurrent model) on a stratified 20 % hold-out; writes bench/README.md's section.
//
//   npm run bench:train -- [--part speed|quality|all] [--rounds 3] [--steps 20] [--threads 2] [--bow-epochs 3] [--rnn bilstm]
//                          [--rnn-epochs 3] [--rnn-max-length 256] [--no-readme]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { Rng } from '../src/core/random.js';
import type { ModelDef } from '../src/train/model.js';
import { recurrentClassifier } from '../src/train/models/text.js';
import { transformerClassifier } from '../src/train/models/transformer.js';
import { trainText, type TextModelName } from '../src/train/run.js';
import { Trainer } from '../src/train/trainer.js';
import { ensureTorch, machine, median, sharedData, writeReadmeSection } from './common.js';

const { values: args } = parseArgs({
  options: {
    part: { type: 'string', default: 'all' },
    rounds: { type: 'string', default: '3' },
    steps: { type: 'string', default: '20' },
    'bow-epochs': { type: 'string', default: '3' },
    rnn: { type: 'string', default: 'bilstm' },
    'rnn-epochs': { type: 'string', default: '3' },
    'rnn-max-length': { type: 'string', default: '256' },
    threads: { type: 'string', default: '2' },
    'no-readme': { type: 'boolean', default: false },
  },
});
const TORCH_ENV = { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', OPENBLAS_CORETYPE: 'SkylakeX' };

/** Median ms of `steps` training steps (after 3 warm-up steps) on random full-length batches. */
async function geulStep(model: ModelDef, batch: number, seq: number, steps: number, optimizer: 'adam' | 'sgd' = 'adam'): Promise<number> {
  const rng = new Rng(1);
  const trainer = await Trainer.create(model, { name: optimizer, lr: 1e-3 }, { seed: 1, threads: Number(args.threads) });
  const ids = BigInt64Array.from({ length: batch * seq }, () => BigInt(1 + rng.int(19999)));
  const features = {
    input_ids: new ort.Tensor('int64', ids, [batch, seq]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(batch * seq).fill(1n), [batch, seq]),
  };
  const labels = BigInt64Array.from({ length: batch }, () => BigInt(rng.int(2)));
  const times: number[] = [];
  for (let i = 0; i < steps + 3; i++) {
    const start = performance.now();
    await trainer.step(features, labels);
    if (i >= 3) times.push(performance.now() - start);
  }
  await trainer.release();
  return median(times);
}

function torchSteps(steps: number): { torch: string; threads: number; lstm_ms: number; encoder_ms: number } | undefined {
  ensureTorch();
  const r = spawnSync('/usr/bin/python3', ['bench/train-torch.py', String(steps), args.threads as string], { env: TORCH_ENV, encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write(`torch reference failed (apt-get install -y python3-torch libopenblas0-openmp): ${r.stderr.slice(-500)}\n`);
    return undefined;
  }
  return JSON.parse(r.stdout.trim().split('\n').pop() as string);
}

async function speed(): Promise<string> {
  const rounds = Number(args.rounds);
  const steps = Number(args.steps);
  const lstm = recurrentClassifier({ vocab: 20000, embedding: 128, hidden: 128, classes: 2, cell: 'lstm', dropout: 0 });
  const encoder = transformerClassifier({ vocab: 20000, maxLength: 128, hidden: 256, heads: 4, ffn: 1024, layers: 4, classes: 2, dropout: 0.1 });
  const g = { lstm: [] as number[], encoder: [] as number[] };
  // The same steps with plain SGD: the difference is what the Adam update (one host pass over parameters, moments and gradients) costs.
  const sgd = { lstm: [] as number[], encoder: [] as number[] };
  const t = { lstm: [] as number[], encoder: [] as number[] };
  let version = 'unavailable';
  let threads = 0;
  for (let r = 0; r < rounds; r++) { // alternate, so both sides see the same background load
    g.lstm.push(await geulStep(lstm, 32, 200, steps));
    g.encoder.push(await geulStep(encoder, 16, 128, Math.max(5, steps >> 1)));
    sgd.lstm.push(await geulStep(lstm, 32, 200, steps, 'sgd'));
    sgd.encoder.push(await geulStep(encoder, 16, 128, Math.max(5, steps >> 1), 'sgd'));
    const ref = torchSteps(steps);
    if (ref) {
      t.lstm.push(ref.lstm_ms);
      t.encoder.push(ref.encoder_ms);
      version = ref.torch;
      threads = ref.threads;
    }
    process.stderr.write(`round ${r + 1}: geul lstm ${g.lstm[r].toFixed(1)} ms, encoder ${g.encoder[r].toFixed(1)} ms; torch ${ref ? `${ref.lstm_ms.toFixed(1)} / ${ref.encoder_ms.toFixed(1)} ms` : '-'}\n`);
  }
  const row = (name: string, shape: string, a: number[], b: number[]) => {
    const gm = median(a);
    const tm = b.length ? median(b) : NaN;
    return `| ${name} | ${shape} | ${gm.toFixed(1)} | ${b.length ? tm.toFixed(1) : '-'} | ${b.length ? (gm / tm).toFixed(2) : '-'} | ${a.map((v) => v.toFixed(0)).join(' / ')} | ${b.map((v) => v.toFixed(0)).join(' / ')} |`;
  };
  return [
    `Step = forward + backward + Adam update, one batch; median of ${steps} steps (encoder ${Math.max(5, steps >> 1)}) after 3 warm-up steps,`,
    `then the median over ${rounds} rounds that alternate geul and torch. geul: onnxruntime-node ${ort.env.versions.common}, ${args.threads} intra-op threads;`,
    `torch ${version} (${threads} threads, Debian python3-torch, \`OMP_WAIT_POLICY=PASSIVE OPENBLAS_CORETYPE=SkylakeX\`).`,
    '',
    '| model | shape | geul ms/step | torch ms/step | ratio geul/torch (goal ≤ 1.25) | geul rounds | torch rounds |',
    '|---|---|---|---|---|---|---|',
    row('LSTM classifier (last state)', 'vocab 20k, emb 128, hidden 128, seq 200, batch 32', g.lstm, t.lstm),
    row('Transformer encoder, 4 layers, dropout 0.1', 'hidden 256, 4 heads, FFN 1024, seq 128, batch 16, vocab 20k', g.encoder, t.encoder),
    '',
    'Share of the optimizer: the same geul steps with plain SGD instead of Adam (medians over the rounds); the difference',
    'is what Adam adds (its in-place host pass over parameters, two moments and gradients; plain SGD reads and writes the parameters only).',
    '',
    '| model | geul Adam ms/step | geul SGD ms/step | Adam over SGD |',
    '|---|---|---|---|',
    ...(['lstm', 'encoder'] as const).map((k) => {
      const [a, b] = [median(g[k]), median(sgd[k])];
      return `| ${k === 'lstm' ? 'LSTM classifier' : 'Transformer encoder'} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(a - b).toFixed(1)} ms (${((100 * (a - b)) / a).toFixed(0)} % of the step) |`;
    }),
  ].join('\n');
}

async function quality(): Promise<string> {
  const data = sharedData('imdb', 'train.jsonl');
  if (!data) return 'IMDb data not found (../shared/data/imdb/train.jsonl); quality part skipped.';
  const runs: { model: TextModelName; epochs: number; maxLength: number; extra: { pooling?: 'max' }; goal: number }[] = [
    { model: 'bow', epochs: Number(args['bow-epochs']), maxLength: 800, extra: {}, goal: 0.88 },
    { model: args.rnn as TextModelName, epochs: Number(args['rnn-epochs']), maxLength: Number(args['rnn-max-length']), extra: { pooling: 'max' }, goal: 0.86 },
  ];
  const lines = [
    'IMDb `train.jsonl` (25k reviews), stratified 20 % held out for validation (seed 42), vocabulary 30k words from the',
    'training part, batch 32, Adam (sparse rows for embeddings), early stopping with patience 1. Best validation epoch reported.',
    '',
    '| model | settings | epochs run | best validation accuracy | goal | wall time (data + training + evaluation) |',
    '|---|---|---|---|---|---|',
  ];
  for (const run of runs) {
    const out = mkdtempSync(join(tmpdir(), `geul-bench-${run.model}-`));
    const started = performance.now();
    const r = await trainText({
      data: { source: data, maxLength: run.maxLength, vocabSize: 30000 }, model: { name: run.model, ...run.extra },
      run: { epochs: run.epochs, batchSize: 32, seed: 42, patience: 1 }, output: { dir: out },
    }, { onEvent: (e) => e.type === 'epoch' && process.stderr.write(`${run.model} epoch ${e.epoch}: valid acc ${e.valid_accuracy.toFixed(4)} (${e.seconds.toFixed(0)} s)\n`) });
    const seconds = (performance.now() - started) / 1000;
    const settings = run.model === 'bow' ? 'dim 64, 2^18 bigram buckets, lr 0.005, max 800 tokens' : `emb 128, hidden 128, ${run.extra.pooling} pooling, dropout 0.2, lr 0.002, max ${run.maxLength} tokens`;
    lines.push(`| ${run.model} | ${settings} | ${r.history.length} of ${run.epochs} | ${(r.best * 100).toFixed(2)} % | ≥ ${run.goal * 100} % ${r.best >= run.goal ? 'met' : '**missed**'} | ${seconds.toFixed(0)} s |`);
    rmSync(out, { recursive: true, force: true });
  }
  return lines.join('\n');
}

const command = `npm run bench:train -- --part ${args.part} --threads ${args.threads} --rounds ${args.rounds} --steps ${args.steps} --bow-epochs ${args['bow-epochs']} --rnn ${args.rnn} --rnn-epochs ${args['rnn-epochs']} --rnn-max-length ${args['rnn-max-length']}`;
const header = `Measured ${new Date().toISOString().slice(0, 10)} on ${machine()}, 1-minute load average ${loadavg()[0].toFixed(1)} at the start. Reproduce: \`${command}\``;
const publish = (title: string, text: string) => {
  const body = `${header}\n\n${text}`;
  process.stdout.write(`## ${title}\n\n${body}\n\n`);
  if (!args['no-readme'] && existsSync('bench/README.md')) writeReadmeSection(title, body);
};
if (args.part === 'speed' || args.part === 'all') publish('Training: step time against PyTorch CPU', `${await speed()}\n\nTorch side: \`apt-get install -y python3-torch libopenblas0-openmp\`; the reference models are plain torch in \`bench/train-torch.py\`.`);
if (args.part === 'quality' || args.part === 'all') publish('Training: IMDb quality', await quality());
