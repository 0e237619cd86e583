// Classification metrics: accuracy, per-class and macro precision/recall/F1, the confusion matrix and binary ROC-AUC.

export interface ClassScores {
  precision: number;
  recall: number;
  f1: number;
  /** Examples whose true label is this class. */
  support: number;
}

export interface ClassificationMetrics {
  accuracy: number;
  /** Macro averages: the unweighted mean over every label of the label set (absent classes count as 0). */
  precision: number;
  recall: number;
  f1_macro: number;
  /** F1 averaged with weights = support. */
  f1_weighted: number;
  per_class: Record<string, ClassScores>;
  /** confusion[i][j]: examples of true label i predicted as label j (rows and columns in `labels` order). */
  confusion: number[][];
  /** Binary problems with scores: area under the ROC curve of the score for labels[1]; null when one class is absent. */
  roc_auc?: number | null;
  examples: number;
  labels: string[];
}

/** confusion[true][predicted] counts over class indices 0..classes-1. */
export function confusionMatrix(truth: ArrayLike<number>, predicted: ArrayLike<number>, classes: number): number[][] {
  if (truth.length !== predicted.length) throw new RangeError(`${truth.length} true labels but ${predicted.length} predictions`);
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < truth.length; i++) m[truth[i]][predicted[i]]++;
  return m;
}

/**
 * ROC-AUC from scores (higher = more positive) via the rank statistic: the probability that a random positive
 * scores above a random negative, ties counting one half. NaN when either class is absent.
 */
export function rocAuc(positive: ArrayLike<boolean | number>, scores: ArrayLike<number>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let rankSum = 0;
  let positives = 0;
  for (let start = 0; start < n;) {
    let end = start;
    while (end + 1 < n && scores[order[end + 1]] === scores[order[start]]) end++;
    const rank = (start + end) / 2 + 1; // average 1-based rank of the tie group
    for (let k = start; k <= end; k++) {
      if (positive[order[k]]) {
        rankSum += rank;
        positives++;
      }
    }
    start = end + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);

/** Scores from a confusion matrix (rows: true label, columns: predicted), in `labels` order. */
export function metricsFromConfusion(confusion: number[][], labels: string[]): ClassificationMetrics {
  const k = labels.length;
  const total = confusion.reduce((s, row) => s + row.reduce((a, b) => a + b, 0), 0);
  const perClass: Record<string, ClassScores> = {};
  let correct = 0;
  let p = 0;
  let r = 0;
  let f = 0;
  let weighted = 0;
  for (let c = 0; c < k; c++) {
    const tp = confusion[c][c];
    const support = confusion[c].reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((s, row) => s + row[c], 0);
    const precision = ratio(tp, predicted);
    const recall = ratio(tp, support);
    const f1 = ratio(2 * tp, predicted + support);
    perClass[labels[c]] = { precision, recall, f1, support };
    correct += tp;
    p += precision;
    r += recall;
    f += f1;
    weighted += f1 * support;
  }
  return {
    accuracy: ratio(correct, total), precision: ratio(p, k), recall: ratio(r, k), f1_macro: ratio(f, k), f1_weighted: ratio(weighted, total),
    per_class: perClass, confusion, examples: total, labels: [...labels],
  };
}

/**
 * All metrics for class indices `truth` vs `predicted` over `labels`. With `scores` (one per example: the score
 * of labels[1]) and exactly two labels, adds roc_auc.
 */
export function classificationMetrics(truth: ArrayLike<number>, predicted: ArrayLike<number>, labels: string[], scores?: ArrayLike<number>): ClassificationMetrics {
  const metrics = metricsFromConfusion(confusionMatrix(truth, predicted, labels.length), labels);
  if (scores && labels.length === 2) {
    const auc = rocAuc(Array.from(truth, (t) => t === 1), scores);
    metrics.roc_auc = Number.isNaN(auc) ? null : auc;
  }
  return metrics;
}
