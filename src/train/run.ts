// A text-classification training run: data → vocabulary → batches → epochs with evaluation, early stopping,
// checkpoints, resume, metrics.json and an exported model folder that geul's classification tasks load.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { geulError } from '../core/errors.js';
import { Rng } from '../core/random.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import type { ModelDef } from './model.js';
import { bagOfEmbeddings, recurrentClassifier } from './models/text.js';
import type { OptimizerConfig } from './optim.js';
import { readExamples, stratifiedSplit, WordVocab, type Example } from './text-data.js';
import { Trainer } from './trainer.js';

export const TEXT_MODELS = ['bow', 'rnn', 'gru', 'bigru'] as const;
export type TextModelName = (typeof TEXT_MODELS)[number];

export interface TextRunOptions {
  model: TextModelName;
  data: string;
  valid?: string;
  text: string;
  label: string;
  out: string;
  epochs: number;
  batchSize: number;
  lr?: number;
  optimizer?: OptimizerConfig['name'];
  maxLength: number;
  vocabSize: number;
  dim?: number;
  hidden?: number;
  layers?: number;
  buckets?: number;
  dropout?: number;
  seed: number;
  patience?: number;
  resume?: boolean;
  threads?: number;
}

export interface EpochReport {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  validAccuracy: number;
  validF1Macro: number;
  seconds: number;
  examplesPerSecond: number;
}

export interface TrainEvents {
  onStart?(info: { steps: number; epoch: number; examples: number; parameters: number }): void;
  onStep?(info: { loss: number; accuracy: number; examples: number }): void;
  onEpoch?(report: EpochReport): void;
}

function modelFor(o: TextRunOptions, vocab: number, classes: number): ModelDef {
  if (o.model === 'bow') return bagOfEmbeddings({ vocab, dim: o.dim ?? 64, classes, buckets: o.buckets ?? 1 << 18, dropout: o.dropout ?? 0 });
  return recurrentClassifier({
    vocab, embedding: o.dim ?? 128, hidden: o.hidden ?? 128, classes, cell: o.model === 'rnn' ? 'rnn' : 'gru',
    layers: o.layers ?? 1, bidirectional: o.model === 'bigru', pooling: 'last', dropout: o.dropout ?? 0.2,
  });
}

interface Encoded { ids: number[][]; labels: number[] }

function encode(rows: Example[], vocab: WordVocab, labels: string[], maxLength: number, path: string): Encoded {
  const index = new Map(labels.map((l, i) => [l, i]));
  return {
    ids: rows.map((r) => vocab.encode(r.text, maxLength)),
    labels: rows.map((r, i) => {
      const y = index.get(r.label);
      if (y === undefined) throw geulError('DATA_INVALID', { path, where: ` row ${i + 1}`, detail: `label "${r.label}" was not seen in the training data` });
      return y;
    }),
  };
}

/** Batches of row indices; shuffled, then length-sorted within windows of 20 batches to cut padding. */
function batches(data: Encoded, size: number, rng?: Rng): number[][] {
  const order = data.ids.map((_, i) => i);
  if (rng) rng.shuffle(order);
  const window = size * 20;
  const out: number[][] = [];
  for (let w = 0; w < order.length; w += window) {
    const chunk = order.slice(w, w + window).sort((a, b) => data.ids[a].length - data.ids[b].length);
    for (let i = 0; i < chunk.length; i += size) out.push(chunk.slice(i, i + size));
  }
  return rng ? rng.shuffle(out) : out;
}

function tensors(data: Encoded, rows: number[]): { features: Record<string, ort.Tensor>; labels: BigInt64Array } {
  const len = Math.max(...rows.map((r) => data.ids[r].length));
  const ids = new BigInt64Array(rows.length * len);
  const mask = new BigInt64Array(rows.length * len);
  rows.forEach((r, b) => data.ids[r].forEach((id, t) => {
    ids[b * len + t] = BigInt(id);
    mask[b * len + t] = 1n;
  }));
  return {
    features: { input_ids: new ort.Tensor('int64', ids, [rows.length, len]), attention_mask: new ort.Tensor('int64', mask, [rows.length, len]) },
    labels: BigInt64Array.from(rows, (r) => BigInt(data.labels[r])),
  };
}

const argmax = (logits: Float32Array, row: number, classes: number) => {
  let best = 0;
  for (let c = 1; c < classes; c++) if (logits[row * classes + c] > logits[row * classes + best]) best = c;
  return best;
};

/** Accuracy, macro F1 and the confusion matrix (rows: true label). */
export async function evaluate(trainer: Trainer, data: Encoded, batchSize: number, classes: number) {
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (const rows of batches(data, batchSize * 2)) {
    const { features } = tensors(data, rows);
    const logits = await trainer.predict(features);
    rows.forEach((r, b) => confusion[data.labels[r]][argmax(logits, b, classes)]++);
  }
  const total = data.labels.length;
  const correct = confusion.reduce((s, row, i) => s + row[i], 0);
  const f1 = confusion.map((row, i) => {
    const tp = row[i];
    const predicted = confusion.reduce((s, r) => s + r[i], 0);
    const actual = row.reduce((a, b) => a + b, 0);
    return tp === 0 ? 0 : (2 * tp) / (predicted + actual);
  });
  return { accuracy: correct / total, f1_macro: f1.reduce((a, b) => a + b, 0) / classes, confusion };
}

/** Writes onnx/model.onnx, config.json and the tokenizer files: a folder `geul sentiment --model` loads. */
async function exportModel(out: string, trainer: Trainer, vocab: WordVocab, labels: string[], maxLength: number): Promise<void> {
  await mkdir(join(out, 'onnx'), { recursive: true });
  await writeFile(join(out, 'onnx', 'model.onnx'), trainer.exportOnnx());
  const config = {
    // transformers.js picks its model class by model_type; it feeds only the inputs the ONNX session declares.
    model_type: 'bert', architectures: ['BertForSequenceClassification'],
    id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])), label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
    max_position_embeddings: maxLength, vocab_size: vocab.words.length,
    geul: { kind: trainer.model.kind, model: trainer.model.config },
  };
  await writeFile(join(out, 'config.json'), JSON.stringify(config, null, 2));
  for (const [name, text] of Object.entries(vocab.tokenizerFiles(maxLength))) await writeFile(join(out, name), text);
}

export async function trainText(o: TextRunOptions, events: TrainEvents = {}) {
  const rows = await readExamples(o.data, o.text, o.label);
  const split = o.valid ? { train: rows, valid: await readExamples(o.valid, o.text, o.label) } : stratifiedSplit(rows, 0.2, o.seed);
  await mkdir(o.out, { recursive: true });
  let vocab: WordVocab;
  let labels: string[];
  const resumed = o.resume ? await loadCheckpoint(o.out) : undefined;
  if (resumed) {
    const saved = JSON.parse(await readFile(join(o.out, 'vocab.json'), 'utf8')) as { words: string[]; labels: string[] };
    vocab = new WordVocab(saved.words);
    labels = saved.labels;
  } else {
    vocab = WordVocab.build(split.train.map((r) => r.text), { maxSize: o.vocabSize, minCount: 1 });
    labels = [...new Set(split.train.map((r) => r.label))].sort();
    await writeFile(join(o.out, 'vocab.json'), JSON.stringify({ words: vocab.words, labels }));
  }
  const train = encode(split.train, vocab, labels, o.maxLength, o.data);
  const valid = encode(split.valid, vocab, labels, o.maxLength, o.valid ?? o.data);
  const model = modelFor(o, vocab.words.length, labels.length);
  const optimizer: OptimizerConfig = { name: o.optimizer ?? 'adam', lr: o.lr ?? (o.model === 'bow' ? 0.005 : 0.002), clipNorm: o.model === 'bow' ? 0 : 5 };
  const stepsPerEpoch = Math.ceil(train.ids.length / o.batchSize);
  const trainer = await Trainer.create(model, optimizer, { seed: o.seed, totalSteps: stepsPerEpoch * o.epochs, threads: o.threads }, resumed?.state);
  const history: EpochReport[] = (resumed?.meta.run.history as EpochReport[] | undefined) ?? [];
  let best = resumed?.meta.best ?? -1;
  let sinceBest = 0;
  const rng = new Rng(o.seed + 1);
  const startEpoch = resumed ? resumed.meta.epoch + 1 : 1;
  for (let e = 1; e < startEpoch; e++) batches(train, o.batchSize, rng); // replay the shuffles for identical batches
  try {
    for (let epoch = startEpoch; epoch <= o.epochs; epoch++) {
      events.onStart?.({ steps: stepsPerEpoch, epoch, examples: train.ids.length, parameters: trainer.parameterCount });
      const started = performance.now();
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      for (const rows of batches(train, o.batchSize, rng)) {
        const { features, labels: y } = tensors(train, rows);
        const { loss, logits } = await trainer.step(features, y);
        let ok = 0;
        rows.forEach((_, b) => (ok += Number(argmax(logits, b, labels.length) === Number(y[b]))));
        lossSum += loss * rows.length;
        correct += ok;
        seen += rows.length;
        events.onStep?.({ loss, accuracy: ok / rows.length, examples: rows.length });
      }
      const seconds = (performance.now() - started) / 1000;
      const metrics = await evaluate(trainer, valid, o.batchSize, labels.length);
      const report: EpochReport = { epoch, trainLoss: lossSum / seen, trainAccuracy: correct / seen, validAccuracy: metrics.accuracy, validF1Macro: metrics.f1_macro, seconds, examplesPerSecond: seen / seconds };
      history.push(report);
      events.onEpoch?.(report);
      if (metrics.accuracy > best) {
        best = metrics.accuracy;
        sinceBest = 0;
        await exportModel(o.out, trainer, vocab, labels, o.maxLength);
        await writeFile(join(o.out, 'metrics.json'), JSON.stringify({ model: model.kind, epoch, ...metrics, labels, history }, null, 2));
      } else sinceBest++;
      await saveCheckpoint(o.out, trainer.state, { epoch, best, run: { history, options: o } });
      if (o.patience !== undefined && sinceBest > o.patience) break;
    }
  } finally {
    await trainer.release();
  }
  return { best, history, out: o.out };
}
