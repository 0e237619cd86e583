// `npm run bench:tensors`: the tensor API (src/tensor) against PyTorch eager on three workloads of issue 13:
// (1) a 2-hidden-layer MLP on 2-D toy data, batch 64 (per-op overhead), (2) an MLP 784-512-512-10 at batch 256
// (compute), (3) time to the end of the first step of (1) (compile cost). Adam, cross-entropy, ms per step.
//
//   npm run bench:tensors -- [--toy-steps 1000] [--big-steps 50] [--rounds 3] [--threads 2] [--no-readme]
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { Generator, nn, optim, randint, randn, configureTensors, clearCompiled, type Tensor } from '../src/tensor/index.js';
import { ensureTorch, machine, median, PYTHON, writeReadmeSection } from './common.js';

const { values: args } = parseArgs({
  options: {
    'toy-steps': { type: 'string', default: '1000' },
    'big-steps': { type: 'string', default: '50' },
    rounds: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
    'no-readme': { type: 'boolean', default: false },
  },
});
const TORCH_ENV = { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', OPENBLAS_CORETYPE: 'SkylakeX' };
const WARMUP = 3;

function mlp(sizes: number[], generator: Generator): nn.Sequential {
  const layers: nn.Module[] = [];
  for (let i = 0; i < sizes.length - 1; i++) {
    layers.push(new nn.Linear(sizes[i], sizes[i + 1], { generator }));
    if (i < sizes.length - 2) layers.push(new nn.ReLU());
  }
  return new nn.Sequential(...layers);
}

/** ms per step after the warm-up steps, and ms from building the model to the end of the first step (compile included). */
async function geulTrain(sizes: number[], batch: number, steps: number): Promise<{ perStep: number; first: number }> {
  await clearCompiled();
  const generator = new Generator(0);
  const x = randn([batch, sizes[0]], { generator });
  const y = randint(0, sizes[sizes.length - 1], [batch], { generator });
  const t0 = performance.now();
  const net = mlp(sizes, generator);
  const opt = new optim.Adam(net.parameters(), { lr: 1e-3 });
  let first = 0;
  let start = 0;
  let loss: Tensor | undefined;
  for (let i = 0; i < steps + WARMUP; i++) {
    if (i === WARMUP) start = performance.now();
    opt.zeroGrad();
    loss = nn.crossEntropy(net.forward(x), y);
    loss.backward();
    await opt.step();
    await loss.item();
    if (i === 0) first = performance.now() - t0;
  }
  return { perStep: (performance.now() - start) / steps, first };
}

function torchTrain(toySteps: number, bigSteps: number): { torch: string; threads: number; toy_ms: number; big_ms: number; first_ms: number } | undefined {
  ensureTorch();
  const r = spawnSync(PYTHON, ['bench/tensors-torch.py', args.threads as string, String(toySteps), String(bigSteps)], { env: TORCH_ENV, encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write(`torch reference failed: ${r.stderr.slice(-500)}\n`);
    return undefined;
  }
  return JSON.parse(r.stdout.trim().split('\n').pop() as string);
}

async function main(): Promise<void> {
  const rounds = Number(args.rounds);
  const [toySteps, bigSteps] = [Number(args['toy-steps']), Number(args['big-steps'])];
  configureTensors({ threads: Number(args.threads) });
  const g = { toy: [] as number[], big: [] as number[], first: [] as number[] };
  const t = { toy: [] as number[], big: [] as number[], first: [] as number[] };
  let version = 'unavailable';
  for (let r = 0; r < rounds; r++) { // alternate, so both sides see the same background load
    const toy = await geulTrain([2, 64, 64, 2], 64, toySteps);
    const big = await geulTrain([784, 512, 512, 10], 256, bigSteps);
    g.toy.push(toy.perStep);
    g.first.push(toy.first);
    g.big.push(big.perStep);
    const ref = torchTrain(toySteps, bigSteps);
    if (ref) {
      t.toy.push(ref.toy_ms);
      t.big.push(ref.big_ms);
      t.first.push(ref.first_ms);
      version = ref.torch;
    }
    process.stderr.write(`round ${r + 1}: geul toy ${toy.perStep.toFixed(3)} ms, big ${big.perStep.toFixed(1)} ms, first ${toy.first.toFixed(0)} ms; ` +
      `torch ${ref ? `${ref.toy_ms.toFixed(3)} / ${ref.big_ms.toFixed(1)} / ${ref.first_ms.toFixed(0)} ms` : '-'}\n`);
  }
  const row = (name: string, a: number[], b: number[], goal: string, digits: number) => {
    const [gm, tm] = [median(a), b.length ? median(b) : NaN];
    return `| ${name} | ${gm.toFixed(digits)} | ${b.length ? tm.toFixed(digits) : '-'} | ${b.length ? (gm / tm).toFixed(2) : '-'} | ${goal} |`;
  };
  const body = [
    `${machine()}, load average ${loadavg()[0].toFixed(1)} at the end. Adam (lr 1e-3), cross-entropy; per step = forward +`,
    `backward + update + reading the loss, averaged over ${toySteps} (toy) / ${bigSteps} (784-512-512-10) steps after ${WARMUP} warm-up steps;`,
    `medians over ${rounds} rounds alternating geul and torch. geul: onnxruntime-node ${ort.env.versions.common}, ${args.threads} intra-op threads;`,
    `torch ${version} eager (${args.threads} threads, \`OMP_WAIT_POLICY=PASSIVE\`). First step: from building the model to the end of step 1.`,
    '',
    '| workload | geul | torch | geul/torch | goal |',
    '|---|---|---|---|---|',
    row('(1) MLP 2-64-64-2, batch 64, ms/step', g.toy, t.toy, '≤ 1.0×', 3),
    row('(2) MLP 784-512-512-10, batch 256, ms/step', g.big, t.big, '≤ 1.0×', 2),
    row('(3) first step of (1), ms', g.first, t.first, '< 1000 ms', 0),
  ].join('\n');
  process.stdout.write(`${body}\n`);
  if (!args['no-readme']) writeReadmeSection('Tensors (issue 13)', `\`npm run bench:tensors\`\n\n${body}`);
}

await main();
