// Training runs on tiny synthetic data: resume continues identically, early stopping, NaN loss keeps the last good
// checkpoint, and the exported folder serves `geul sentiment` through the same code as pretrained models.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { trainText } from '../../src/train/run.js';
import type { TrainSpecInput } from '../../src/train/spec.js';
import { jsonLines, runCli } from '../helpers/cli.js';

const work = mkdtempSync(join(tmpdir(), 'geul-train-'));
const data = join(work, 'toy.tsv');

before(() => {
  const good = ['wonderful', 'moving', 'great', 'superb', 'fine', 'lovely'];
  const bad = ['awful', 'boring', 'dull', 'bad', 'weak', 'tedious'];
  const filler = ['the', 'film', 'was', 'a', 'plot', 'and', 'actors', 'story'];
  const lines = ['text\tlabel'];
  for (let i = 0; i < 160; i++) {
    const pos = i % 2 === 0;
    const words = Array.from({ length: 3 + (i % 5) }, (_, k) => filler[(i * 3 + k * 5) % filler.length]);
    words.splice(i % words.length, 0, (pos ? good : bad)[(i >> 1) % 6]);
    lines.push(`${words.join(' ')}\t${pos ? 'positive' : 'negative'}`);
  }
  writeFileSync(data, `${lines.join('\n')}\n`);
});

interface Extra {
  model?: TrainSpecInput['model']['name'];
  epochs?: number;
  lr?: number;
  resume?: boolean;
  patience?: number;
  optimizer?: 'sgd' | 'adam' | 'adamw';
  dim?: number;
  hidden?: number;
  layers?: number;
}

const options = (out: string, extra: Extra = {}): TrainSpecInput => ({
  data: { source: data, maxLength: 12, vocabSize: 100 },
  model: { name: extra.model ?? 'lstm', dim: extra.dim ?? 8, hidden: extra.hidden ?? 8, layers: extra.layers, dropout: 0.3 },
  optim: { name: extra.optimizer, lr: extra.lr ?? 0.02 },
  run: { epochs: extra.epochs ?? 2, batchSize: 16, seed: 3, threads: 1, resume: extra.resume, patience: extra.patience },
  output: { dir: out },
});

test('resume after epoch 1 ends with exactly the weights of an uninterrupted run (dropout on)', async () => {
  const full = join(work, 'full');
  await trainText(options(full));
  const split = join(work, 'split');
  await trainText(options(split, { epochs: 1 }));
  const resumed = await trainText(options(split, { resume: true }));
  const [a, b] = [await loadCheckpoint(full), await loadCheckpoint(split)];
  assert.equal(b.meta.epoch, 2);
  assert.equal(a.state.step, b.state.step);
  for (const [name, values] of a.state.params) assert.deepEqual(b.state.params.get(name), values, name);
  for (const [name, values] of a.state.states) assert.deepEqual(b.state.states.get(name), values, name);
  assert.equal(resumed.history.length, 2);
});

test('early stopping: no improvement for more than --patience epochs ends the run', async () => {
  const r = await trainText(options(join(work, 'patience'), { model: 'bow', epochs: 6, patience: 1, lr: 0 }));
  assert.equal(r.history.length, 3);
});

test('a NaN loss is a clear error and leaves the last good checkpoint and model untouched', async () => {
  const out = join(work, 'nan');
  await trainText(options(out, { model: 'gru', epochs: 1 }));
  const checkpoint = readFileSync(join(out, 'checkpoint.bin'));
  const model = readFileSync(join(out, 'onnx', 'model.onnx'));
  await assert.rejects(trainText(options(out, { model: 'gru', epochs: 2, resume: true, lr: 1e38 })), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'TRAINING_FAILED');
    assert.match(err.message, /loss became/);
    return true;
  });
  assert.deepEqual(readFileSync(join(out, 'checkpoint.bin')), checkpoint);
  assert.deepEqual(readFileSync(join(out, 'onnx', 'model.onnx')), model);
});

test('the exported folder loads with `geul sentiment --model DIR` (the pretrained-model code path)', async () => {
  const out = join(work, 'bow');
  const r = await trainText(options(out, { model: 'bow', epochs: 8, lr: 0.05 }));
  assert.ok(r.best >= 0.9, `validation accuracy ${r.best}`);
  const env = { GEUL_CACHE_DIR: join(work, 'cache'), GEUL_CONFIG: join(work, 'none.json') };
  writeFileSync(env.GEUL_CONFIG, '{}');
  const cli = await runCli(['sentiment', '--model', out, '--json', 'a wonderful, moving film', 'a dull and tedious film'], { env });
  assert.equal(cli.code, 0, cli.stderr);
  const [pos, neg] = jsonLines(cli.stdout) as { label: string; score: number }[][];
  assert.equal(pos[0].label, 'positive');
  assert.equal(neg[0].label, 'negative');
});

test('a transformer run exports a folder `geul sentiment` serves (positions come from the input length)', async () => {
  const out = join(work, 'transformer');
  const r = await trainText(options(out, { model: 'transformer', epochs: 2, dim: 16, hidden: 32, layers: 1, lr: 0.01 }));
  assert.equal(r.history.length, 2);
  const env = { GEUL_CACHE_DIR: join(work, 'cache'), GEUL_CONFIG: join(work, 'none.json') };
  writeFileSync(env.GEUL_CONFIG, '{}');
  const cli = await runCli(['sentiment', '--model', out, '--json', 'a wonderful, moving film'], { env });
  assert.equal(cli.code, 0, cli.stderr);
  const [labels] = jsonLines(cli.stdout) as { label: string; score: number }[][];
  assert.deepEqual(labels.map((l) => l.label).sort(), ['negative', 'positive']);
});

test('resuming with another optimizer than the checkpoint was written with is a clear error', async () => {
  const out = join(work, 'optimizer');
  await trainText(options(out, { model: 'bow', epochs: 1 }));
  await assert.rejects(trainText(options(out, { model: 'bow', epochs: 2, resume: true, optimizer: 'sgd' })), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'INVALID_INPUT');
    assert.match(err.message, /optimizer/);
    return true;
  });
});
