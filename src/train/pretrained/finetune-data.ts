// Fine-tuning data: rows read with geul's readers and tokenised at once by the checkpoint's tokenizer (texts are not
// kept), the stratified validation split, labels matched to the base model's id2label, padded batches, evaluation.
import * as ort from 'onnxruntime-node';
import { geulError } from '../../core/errors.js';
import type { HubConfig } from '../../core/hub.js';
import type { Rng } from '../../core/random.js';
import { batches as lengthGroupedBatches } from '../batches.js';
import { readExamples, type DataOptions } from '../data/dataset.js';
import { LabelSet } from '../data/labels.js';
import { stratifiedMask } from '../data/split.js';
import { classificationMetrics, type ClassificationMetrics } from '../metrics.js';
import type { Encoded } from '../text-data.js';
import type { MicroBatch, Trainer } from '../trainer.js';
import type { FinetuneSpec } from './finetune-spec.js';
import type { EncoderTokenizer } from './tokenize.js';

export interface FinetuneData {
  train: Encoded;
  valid: Encoded;
  /** Class names in head order. */
  labels: string[];
  /** The labels are the base checkpoint's id2label (same names), so its classification head is kept. */
  baseLabels: boolean;
  /** Texts cut to the maximum length. */
  truncated: number;
}

export interface ReadSettings {
  hub?: HubConfig;
  onWarning?: (message: string) => void;
  onProgress?: (done: number, total: number) => void;
}

/** The base model's labels when they are real names (not HF's LABEL_i placeholders) of a classification checkpoint. */
function namedLabels(labels: readonly string[] | undefined): readonly string[] | undefined {
  return labels && labels.length >= 2 && !labels.every((l, i) => l === `LABEL_${i}`) ? labels : undefined;
}

/**
 * The head's label order: the base checkpoint's id2label when its names are exactly the data's (case-insensitively),
 * so a fine-tuned classifier keeps its head; else the data's labels (a new head).
 */
export function headLabels(data: LabelSet, base: readonly string[] | undefined): { names: string[]; baseLabels: boolean } {
  const named = namedLabels(base);
  if (named && named.length === data.size) {
    const fold = (names: readonly string[]) => [...names].map((n) => n.toLowerCase()).sort().join('\u0000');
    if (fold(named) === fold(data.names)) return { names: [...named], baseLabels: true };
  }
  return { names: data.names, baseLabels: false };
}

/** Reads, tokenises and splits the data of `spec`; `base` is the checkpoint's id2label (classification heads). */
export async function readFinetuneData(spec: FinetuneSpec, tokenizer: EncoderTokenizer, maxLength: number, base: readonly string[] | undefined, settings: ReadSettings = {}, saved?: string[]): Promise<FinetuneData> {
  const d = spec.data;
  const options = (valid: boolean): DataOptions => ({
    text: d.text, label: d.label, format: valid ? undefined : d.format, encoding: d.encoding, emptyText: d.emptyText, hub: settings.hub,
    split: valid ? d.validSplit : d.split, onWarning: settings.onWarning, onProgress: valid ? undefined : settings.onProgress,
  });
  let truncated = 0;
  const encode = (text: string) => {
    const out = tokenizer.encode(text, maxLength);
    truncated += Number(out.truncated);
    return out.ids;
  };
  const rows: { ids: number[]; label: string }[] = [];
  let declared: string[] | undefined;
  for await (const e of readExamples(d.source, { ...options(false), onLabelNames: (names) => (declared = names) })) rows.push({ ids: encode(e.text), label: e.label });
  const inValid = d.valid ? undefined : stratifiedMask(rows.map((r) => r.label), d.validFraction, spec.run.seed);
  const trainRows = inValid ? rows.filter((_, i) => inValid[i] === 0) : rows;
  if (trainRows.length === 0) throw geulError('DATA_INVALID', { path: d.source, where: '', detail: 'no training examples left after the validation split' });
  const found = LabelSet.fromData(trainRows.map((r) => r.label), d.source, d.labels?.length ? d.labels : declared);
  const { names, baseLabels } = saved ? { names: saved, baseLabels: false } : headLabels(found, base);
  const set = new LabelSet(names, d.source);
  const train: Encoded = { ids: [], labels: [] };
  const valid: Encoded = { ids: [], labels: [] };
  rows.forEach((r, i) => {
    const into = inValid?.[i] ? valid : train;
    into.ids.push(r.ids);
    into.labels.push(set.index(r.label, ''));
  });
  if (d.valid) {
    // Validation labels must be ones training saw: a class the head never learnt cannot be scored honestly.
    const seen = new Set(train.labels);
    const shown = names.filter((_, i) => seen.has(i));
    const validSet = new LabelSet(names, d.valid);
    for await (const e of readExamples(d.valid, options(true))) {
      const label = validSet.lookup(e.label);
      if (label === undefined || !seen.has(label)) throw geulError('DATA_LABEL_UNKNOWN', { label: e.label, path: d.valid, where: ` ${e.where}`, labels: `the training labels: ${shown.join(', ')}` });
      valid.ids.push(encode(e.text));
      valid.labels.push(label);
    }
  }
  return { train, valid, labels: names, baseLabels, truncated };
}

/** One epoch's batches of row indices: shuffled, or with `grouped` length-sorted within windows (less padding). */
export function epochBatches(data: Encoded, size: number, rng: Rng, grouped: boolean): number[][] {
  if (grouped) return lengthGroupedBatches(data, size, rng);
  const order = rng.shuffle(data.ids.map((_, i) => i));
  const out: number[][] = [];
  for (let i = 0; i < order.length; i += size) out.push(order.slice(i, i + size));
  return out;
}

/** input_ids / attention_mask [rows, longest of them] (dynamic padding with the model's pad id) and the labels. */
export function encoderBatch(data: Encoded, rows: number[], padId: number): MicroBatch {
  const len = Math.max(...rows.map((r) => data.ids[r].length));
  const ids = new BigInt64Array(rows.length * len).fill(BigInt(padId));
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

/** Validation metrics and mean cross-entropy with the trainer's current weights; `between` runs between batches. */
export async function evaluateEncoder(trainer: Trainer, data: Encoded, batchSize: number, labels: string[], padId: number, between: () => void = () => {}): Promise<ClassificationMetrics & { loss: number }> {
  const classes = labels.length;
  const n = data.labels.length;
  const truth = new Int32Array(n);
  const predicted = new Int32Array(n);
  const scores = new Float64Array(n);
  // Sorted by length so each batch pads little; the order does not change the metrics.
  const order = data.ids.map((_, i) => i).sort((a, b) => data.ids[a].length - data.ids[b].length);
  let k = 0;
  let lossSum = 0;
  for (let start = 0; start < n; start += batchSize) {
    between();
    const rows = order.slice(start, start + batchSize);
    const logits = await trainer.predict(encoderBatch(data, rows, padId).features);
    rows.forEach((r, b) => {
      let best = 0;
      let max = -Infinity;
      for (let c = 0; c < classes; c++) {
        const v = logits[b * classes + c];
        if (v > max) [max, best] = [v, c];
      }
      let sum = 0;
      for (let c = 0; c < classes; c++) sum += Math.exp(logits[b * classes + c] - max);
      const logZ = max + Math.log(sum);
      lossSum += logZ - logits[b * classes + data.labels[r]];
      truth[k] = data.labels[r];
      predicted[k] = best;
      scores[k++] = classes === 2 ? Math.exp(logits[b * classes + 1] - logZ) : 0;
    });
  }
  return { ...classificationMetrics(truth, predicted, labels, classes === 2 ? scores : undefined), loss: n > 0 ? lossSum / n : Number.NaN };
}
