// Batches of encoded text rows as ORT tensors, and the validation pass over them (metrics and mean cross-entropy).
import * as ort from 'onnxruntime-node';
import type { Rng } from '../core/random.js';
import { classificationMetrics, type ClassificationMetrics } from './metrics.js';
import type { Encoded } from './text-data.js';
import type { Trainer } from './trainer.js';

/** Batches of row indices; shuffled, then length-sorted within windows of 20 batches to cut padding. */
export function batches(data: Encoded, size: number, rng?: Rng): number[][] {
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

/** input_ids / attention_mask [rows, longest] (int64, zero-padded) and the rows' labels. */
export function tensors(data: Encoded, rows: number[]): { features: Record<string, ort.Tensor>; labels: BigInt64Array } {
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

export const argmax = (logits: Float32Array, row: number, classes: number): number => {
  let best = 0;
  for (let c = 1; c < classes; c++) if (logits[row * classes + c] > logits[row * classes + best]) best = c;
  return best;
};

/**
 * Validation metrics (accuracy, per-class/macro P/R/F1, confusion, binary ROC-AUC) and the mean cross-entropy.
 * `checkpoint` runs between batches (the run's cancellation check).
 */
export async function evaluate(trainer: Trainer, data: Encoded, batchSize: number, labels: string[], checkpoint: () => void = () => {}): Promise<ClassificationMetrics & { loss: number }> {
  const classes = labels.length;
  const n = data.labels.length;
  const truth = new Int32Array(n);
  const predicted = new Int32Array(n);
  const scores = new Float64Array(n);
  let k = 0;
  let lossSum = 0;
  for (const rows of batches(data, batchSize * 2)) {
    checkpoint();
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
