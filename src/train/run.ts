// A text-classification training run: data → vocabulary → batches → epochs with evaluation, early stopping,
// checkpoints, resume, metrics.json and an exported model folder that geul's classification tasks load.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { Rng } from '../core/random.js';
import { loadCheckpoint, saveCheckpoint, writeAtomic } from './checkpoint.js';
import type { ModelDef } from './model.js';
import { bagOfEmbeddings, embeddingMlp, recurrentClassifier, type Pooling } from './models/text.js';
import { transformerClassifier } from './models/transformer.js';
import type { OptimizerConfig } from './optim.js';
import { classificationMetrics, type ClassificationMetrics } from './metrics.js';
import { readBestRun, writeRunReport } from './report.js';
import { prepareTextData, readVocabFile, writeVocabFile, type Encoded, type TextDataOptions, type TextVocab } from './text-data.js';
import { Trainer } from './trainer.js';

export const TEXT_MODELS = ['bow', 'mlp', 'rnn', 'gru', 'bigru', 'lstm', 'bilstm', 'transformer'] as const;
export const POOLINGS: readonly Pooling[] = ['last', 'mean', 'max'];
export type TextModelName = (typeof TEXT_MODELS)[number];

export interface TextRunOptions extends TextDataOptions {
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
  /** Recurrent models: classify from the last state (default) or mean/max over all states. */
  pooling?: Pooling;
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
  validLoss?: number;
  seconds: number;
  examplesPerSecond: number;
}

export interface TrainEvents {
  onStart?(info: { steps: number; epoch: number; examples: number; parameters: number }): void;
  onStep?(info: { loss: number; accuracy: number; examples: number }): void;
  onEpoch?(report: EpochReport): void;
}

export function modelFor(o: Pick<TextRunOptions, 'model' | 'dim' | 'hidden' | 'layers' | 'buckets' | 'dropout' | 'pooling' | 'maxLength'>, vocab: number, classes: number): ModelDef {
  if (o.model === 'transformer') {
    const width = o.dim ?? 128;
    return transformerClassifier({ vocab, maxLength: o.maxLength, hidden: width, heads: width % 64 === 0 ? width / 64 : 2, ffn: o.hidden ?? 4 * width, layers: o.layers ?? 2, classes, dropout: o.dropout ?? 0.1 });
  }
  if (o.model === 'bow') return bagOfEmbeddings({ vocab, dim: o.dim ?? 64, classes, buckets: o.buckets ?? 1 << 18, dropout: o.dropout ?? 0 });
  if (o.model === 'mlp') return embeddingMlp({ vocab, embedding: o.dim ?? 128, hidden: Array(o.layers ?? 1).fill(o.hidden ?? 256), classes, dropout: o.dropout ?? 0.2 });
  const cell = o.model.replace(/^bi/, '') as 'rnn' | 'gru' | 'lstm';
  return recurrentClassifier({
    vocab, embedding: o.dim ?? 128, hidden: o.hidden ?? 128, classes, cell,
    layers: o.layers ?? 1, bidirectional: o.model.startsWith('bi'), pooling: o.pooling ?? 'last', dropout: o.dropout ?? 0.2,
  });
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

/** Validation metrics (accuracy, per-class/macro P/R/F1, confusion, binary ROC-AUC) and the mean cross-entropy. */
export async function evaluate(trainer: Trainer, data: Encoded, batchSize: number, labels: string[]): Promise<ClassificationMetrics & { loss: number }> {
  const classes = labels.length;
  const n = data.labels.length;
  const truth = new Int32Array(n);
  const predicted = new Int32Array(n);
  const scores = new Float64Array(n);
  let k = 0;
  let lossSum = 0;
  for (const rows of batches(data, batchSize * 2)) {
    const { features } = tensors(data, rows);
    const logits = await trainer.predict(features);
    rows.forEach((r, b) => {
      let max = -Infinity;
      for (let c = 0; c < classes; c++) max = Math.max(max, logits[b * classes + c]);
      let sum = 0;
      for (let c = 0; c < classes; c++) sum += Math.exp(logits[b * classes + c] - max);
      const logZ = max + Math.log(sum);
      lossSum += logZ - logits[b * classes + data.labels[r]];
      truth[k] = data.labels[r];
      predicted[k] = argmax(logits, b, classes);
      scores[k++] = classes === 2 ? Math.exp(logits[b * classes + 1] - logZ) : 0;
    });
  }
  return { ...classificationMetrics(truth, predicted, labels, classes === 2 ? scores : undefined), loss: n > 0 ? lossSum / n : Number.NaN };
}

/** Writes onnx/model.onnx, config.json and the tokenizer files: a folder `geul sentiment --model` loads. */
async function exportModel(out: string, trainer: Trainer, vocab: TextVocab, labels: string[], maxLength: number): Promise<void> {
  await mkdir(join(out, 'onnx'), { recursive: true });
  await writeAtomic(join(out, 'onnx', 'model.onnx'), trainer.exportOnnx());
  const config = {
    // transformers.js picks its model class by model_type; it feeds only the inputs the ONNX session declares.
    model_type: 'bert', architectures: ['BertForSequenceClassification'],
    id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])), label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
    max_position_embeddings: maxLength, vocab_size: vocab.size,
    geul: { kind: trainer.model.kind, model: trainer.model.config },
  };
  await writeAtomic(join(out, 'config.json'), JSON.stringify(config, null, 2));
  for (const [name, text] of Object.entries(vocab.tokenizerFiles(maxLength))) await writeAtomic(join(out, name), text);
}

export async function trainText(o: TextRunOptions, events: TrainEvents = {}) {
  await mkdir(o.out, { recursive: true });
  const resumed = o.resume ? await loadCheckpoint(o.out) : undefined;
  const { train, valid, vocab, labels } = await prepareTextData(o, resumed ? await readVocabFile(o.out) : undefined);
  if (!resumed) await writeVocabFile(o.out, vocab, labels);
  const model = modelFor(o, vocab.size, labels.length);
  const optimizer: OptimizerConfig = { name: o.optimizer ?? 'adam', lr: o.lr ?? (o.model === 'bow' ? 0.005 : o.model === 'transformer' ? 0.0005 : 0.002), clipNorm: o.model === 'bow' ? 0 : 5 };
  const stepsPerEpoch = Math.ceil(train.ids.length / o.batchSize);
  const history: EpochReport[] = (resumed?.meta.run.history as EpochReport[] | undefined) ?? [];
  let best = resumed?.meta.best ?? -1;
  let bestRun = resumed ? await readBestRun(o.out) : undefined;
  let sinceBest = Number(resumed?.meta.run.sinceBest ?? 0);
  let state = resumed?.state;
  const rng = new Rng(o.seed + 1);
  const startEpoch = resumed ? resumed.meta.epoch + 1 : 1;
  for (let e = 1; e < startEpoch; e++) batches(train, o.batchSize, rng); // replay the shuffles for identical batches
  for (let epoch = startEpoch; epoch <= o.epochs && !(o.patience !== undefined && sinceBest > o.patience); epoch++) {
    // A session per epoch with its own dropout seed: a resumed run draws exactly the masks the first run would have.
    const trainer = await Trainer.create(model, optimizer, { seed: o.seed, dropoutSeed: o.seed * 1009 + epoch, totalSteps: stepsPerEpoch * o.epochs, threads: o.threads }, state);
    try {
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
      const metrics = await evaluate(trainer, valid, o.batchSize, labels);
      const report: EpochReport = { epoch, trainLoss: lossSum / seen, trainAccuracy: correct / seen, validAccuracy: metrics.accuracy, validF1Macro: metrics.f1_macro, validLoss: metrics.loss, seconds, examplesPerSecond: seen / seconds };
      history.push(report);
      events.onEpoch?.(report);
      if (metrics.accuracy > best) {
        best = metrics.accuracy;
        sinceBest = 0;
        await exportModel(o.out, trainer, vocab, labels, o.maxLength);
        bestRun = { epoch, metrics };
      } else sinceBest++;
      if (bestRun) await writeRunReport(o.out, { model: model.kind, epoch: bestRun.epoch, metrics: bestRun.metrics, history, options: { ...o, hub: undefined } });
      await saveCheckpoint(o.out, trainer.state, { epoch, best, run: { history, sinceBest, options: o } });
      state = trainer.state;
    } finally {
      await trainer.release();
    }
  }
  return { best, history, out: o.out };
}
