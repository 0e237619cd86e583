// geul finetune's library function on tiny reference checkpoints: loss falls and accuracy rises, the run folder is a
// Hugging Face model, labels keep or replace the head, frozen tensors are saved untouched, long texts are cut once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors } from '../../../src/core/weights/safetensors.js';
import type { TrainEvent } from '../../../src/train/events.js';
import { finetuneEncoder } from '../../../src/train/pretrained/finetune.js';
import { evaluateEncoder, readFinetuneData } from '../../../src/train/pretrained/finetune-data.js';
import { parseFinetuneSpec } from '../../../src/train/pretrained/finetune-spec.js';
import { loadPretrainedEncoder } from '../../../src/train/pretrained/load.js';
import { encoderModelDef, encoderValues } from '../../../src/train/pretrained/model-def.js';
import { EncoderTokenizer } from '../../../src/train/pretrained/tokenize.js';
import { Trainer } from '../../../src/train/trainer.js';
import { sharedDataPath } from '../../helpers/shared-data.js';
import { sentimentRows, tinyBase, writeJsonl } from './finetune-fixture.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'geul-ft-'));

test('bert-cls, new labels: the loss falls, accuracy rises, the run folder is a HF classification model', async (t) => {
  const reference = sharedDataPath(t, 'reference-encoders', 'bert-cls');
  if (!reference) return;
  const base = tinyBase(reference);
  const dir = tmp();
  const long = { text: Array.from({ length: 80 }, () => 'good film').join(' '), label: 'pos' };
  const data = writeJsonl(dir, 'train.jsonl', [...sentimentRows(80), long]);
  const events: TrainEvent[] = [];
  const out = join(dir, 'run');
  const result = await finetuneEncoder({
    data: { source: data, maxLength: 100 }, model: { base },
    optim: { lr: 2e-3, warmup: 0.1 }, run: { epochs: 6, batchSize: 8, seed: 3, threads: 1 }, output: { dir: out },
  }, { onEvent: (e) => events.push(e) });

  const steps = events.filter((e): e is Extract<TrainEvent, { type: 'step' }> => e.type === 'step');
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const firstLosses = mean(steps.slice(0, 5).map((s) => s.loss));
  const lastLosses = mean(steps.slice(-5).map((s) => s.loss));
  assert.ok(lastLosses < firstLosses * 0.6, `loss ${firstLosses} -> ${lastLosses}`);
  assert.ok(result.history[0]!.validAccuracy < result.best && result.best >= 0.85, `valid accuracy ${result.history.map((h) => h.validAccuracy)}`);
  assert.ok(steps.every((s) => s.examples_per_s > 0 && s.total === 6 * Math.ceil(65 / 8) && s.eta_s! >= 0), 'step events carry throughput, the total and an ETA');
  assert.equal(steps[steps.length - 1]!.eta_s, 0);
  // --warmup 0.1 of 54 steps = 6 warmup steps up to the peak, then linear decay towards 0.
  const lrs = steps.map((s) => s.lr);
  assert.ok(Math.abs(lrs[0]! - 2e-3 / 6) < 1e-12 && Math.abs(lrs[5]! - 2e-3) < 1e-12, `warmup ${lrs.slice(0, 7)}`);
  assert.ok(lrs.slice(7).every((lr, i) => lr < lrs[6 + i]!) && lrs[lrs.length - 1]! < 1e-4, `linear decay ${lrs.slice(5, 9)} … ${lrs.slice(-2)}`);
  assert.deepEqual(result.labels, ['neg', 'pos']);
  assert.deepEqual(result.newlyInitialized, ['classifier.weight', 'classifier.bias']);
  const logs = events.filter((e): e is Extract<TrainEvent, { type: 'log' }> => e.type === 'log');
  assert.ok(logs.some((l) => l.message.startsWith('newly initialized: classifier.weight, classifier.bias')));
  const warnings = logs.filter((l) => l.level === 'warning');
  assert.equal(warnings.filter((w) => /longer than 64 tokens/.test(w.message)).length, 1, JSON.stringify(warnings));
  assert.equal(warnings.filter((w) => /--max-length 100 is over the model's 64 positions/.test(w.message)).length, 1);

  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(config['architectures'], ['BertForSequenceClassification']);
  assert.deepEqual(config['id2label'], { 0: 'neg', 1: 'pos' });
  assert.deepEqual(config['label2id'], { neg: 0, pos: 1 });
  assert.equal(config['hidden_size'], 64);
  for (const file of ['tokenizer.json', 'tokenizer_config.json', 'vocab.txt', 'metrics.json', 'report.html', 'checkpoint.bin']) assert.ok(existsSync(join(out, file)), file);
  assert.ok(!readFileSync(join(out, 'report.html'), 'utf8').includes('NaN'));
  const saved = readSafetensors(join(out, 'model.safetensors')).tensors;
  assert.deepEqual(saved.get('classifier.weight')!.shape, [2, 64]);
  assert.deepEqual(saved.get('bert.encoder.layer.0.attention.self.query.weight')!.shape, [64, 64]);
  const reloaded = loadPretrainedEncoder(out);
  assert.deepEqual(reloaded.config.id2label, ['neg', 'pos']);
  assert.deepEqual(reloaded.weights.newlyInitialized, []);
  // The saved folder is the best model: reloaded, it scores the same validation split exactly as the run did.
  const spec = parseFinetuneSpec({ data: { source: data, maxLength: 64 }, model: { base }, run: { seed: 3 }, output: { dir: out } });
  const tokenizer = await EncoderTokenizer.load(out, reloaded.config);
  const split = await readFinetuneData(spec, tokenizer, 64, reloaded.config.id2label);
  const trainer = await Trainer.create(encoderModelDef(reloaded.config, encoderValues(reloaded)), { name: 'sgd', lr: 0 }, { threads: 1 });
  const metrics = await evaluateEncoder(trainer, split.valid, 16, split.labels, reloaded.config.padTokenId);
  await trainer.release();
  assert.equal(metrics.accuracy, result.best);
  assert.ok(events.some((e) => e.type === 'done' && e.reason === 'completed'));
});

test('distilbert-cls, labels named as the base id2label: the head is kept; frozen embeddings and layer 0 are saved untouched', async (t) => {
  const reference = sharedDataPath(t, 'reference-encoders', 'distilbert-cls');
  if (!reference) return;
  const base = tinyBase(reference);
  const dir = tmp();
  const data = writeJsonl(dir, 'train.jsonl', sentimentRows(40, ['positive', 'negative']));
  const out = join(dir, 'run');
  const result = await finetuneEncoder({
    data: { source: data }, model: { base, freezeEmbeddings: true, freezeLayers: 1 },
    optim: { lr: 1e-3 }, run: { epochs: 1, batchSize: 8, gradAccum: 2, threads: 1 }, output: { dir: out },
  });
  assert.deepEqual(result.newlyInitialized, []);
  assert.deepEqual(result.labels, ['NEGATIVE', 'POSITIVE']);
  const before = readSafetensors(join(base, 'model.safetensors')).tensors;
  const after = readSafetensors(join(out, 'model.safetensors')).tensors;
  assert.equal(after.size, before.size);
  for (const [name, tensor] of after) {
    const same = Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength).equals(Buffer.from(before.get(name)!.data.buffer, before.get(name)!.data.byteOffset, before.get(name)!.data.byteLength));
    const frozen = name.startsWith('distilbert.embeddings.') || name.startsWith('distilbert.transformer.layer.0.');
    assert.equal(same, frozen, `${name}: ${frozen ? 'frozen but changed' : 'trainable but unchanged'}`);
  }
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(config['architectures'], ['DistilBertForSequenceClassification']);
  assert.equal(config['dim'], 48);
});

test('--patience: evaluations without a better accuracy stop the run early', async (t) => {
  const reference = sharedDataPath(t, 'reference-encoders', 'bert-cls');
  if (!reference) return;
  const dir = tmp();
  const data = writeJsonl(dir, 'train.jsonl', sentimentRows(40));
  const events: TrainEvent[] = [];
  // A learning rate too small to change any prediction: the first evaluation is never beaten.
  const result = await finetuneEncoder({
    data: { source: data }, model: { base: tinyBase(reference) }, optim: { lr: 1e-12 },
    run: { epochs: 5, batchSize: 8, evalEvery: 1, patience: 1, threads: 1 }, output: { dir: join(dir, 'run') },
  }, { onEvent: (e) => events.push(e) });
  assert.equal(result.history.length, 3);
  assert.ok(events.some((e) => e.type === 'done' && e.reason === 'patience' && e.step === 3));
});
