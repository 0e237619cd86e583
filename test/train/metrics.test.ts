// Metrics against numbers worked out by hand (and matching scikit-learn's definitions).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classificationMetrics, confusionMatrix, rocAuc } from '../../src/train/metrics.js';

const close = (actual: number | null | undefined, expected: number, what = '') =>
  assert.ok(typeof actual === 'number' && Math.abs(actual - expected) < 1e-9, `${what}: ${actual} != ${expected}`);

test('three classes: accuracy, per-class and macro precision/recall/F1, confusion matrix', () => {
  // true:      a a a b b c c c c c
  // predicted: a a b b c c c c a b
  const truth = [0, 0, 0, 1, 1, 2, 2, 2, 2, 2];
  const pred = [0, 0, 1, 1, 2, 2, 2, 2, 0, 1];
  const m = classificationMetrics(truth, pred, ['a', 'b', 'c']);
  assert.deepEqual(m.confusion, [[2, 1, 0], [0, 1, 1], [1, 1, 3]]);
  close(m.accuracy, 6 / 10, 'accuracy');
  // a: tp 2, predicted 3, support 3 → p 2/3, r 2/3, f1 2/3
  // b: tp 1, predicted 3, support 2 → p 1/3, r 1/2, f1 2/5
  // c: tp 3, predicted 4, support 5 → p 3/4, r 3/5, f1 2/3
  close(m.per_class.a.precision, 2 / 3, 'p(a)');
  close(m.per_class.b.recall, 1 / 2, 'r(b)');
  close(m.per_class.b.f1, 2 / 5, 'f1(b)');
  close(m.per_class.c.f1, 2 / 3, 'f1(c)');
  assert.equal(m.per_class.c.support, 5);
  close(m.precision, (2 / 3 + 1 / 3 + 3 / 4) / 3, 'macro p');
  close(m.recall, (2 / 3 + 1 / 2 + 3 / 5) / 3, 'macro r');
  close(m.f1_macro, (2 / 3 + 2 / 5 + 2 / 3) / 3, 'macro f1');
  close(m.f1_weighted, (3 * 2 / 3 + 2 * 2 / 5 + 5 * 2 / 3) / 10, 'weighted f1');
  assert.equal(m.examples, 10);
  assert.equal(m.roc_auc, undefined);
});

test('a class never predicted or never present scores 0, not NaN', () => {
  const m = classificationMetrics([0, 0, 1], [0, 0, 0], ['neg', 'pos', 'neutral']);
  assert.deepEqual(m.per_class.pos, { precision: 0, recall: 0, f1: 0, support: 1 });
  assert.deepEqual(m.per_class.neutral, { precision: 0, recall: 0, f1: 0, support: 0 });
  close(m.per_class.neg.precision, 2 / 3);
  close(m.f1_macro, (0.8 + 0 + 0) / 3);
});

test('ROC-AUC: hand-counted pairs, ties count one half, NaN without both classes', () => {
  // positives 0.8, 0.4, 0.35; negatives 0.1, 0.4, 0.7 → pairs won: 0.8: 3, 0.4: 1 + ½, 0.35: 1 → 5.5 / 9
  close(rocAuc([1, 1, 1, 0, 0, 0], [0.8, 0.4, 0.35, 0.1, 0.4, 0.7]), 5.5 / 9, 'auc');
  close(rocAuc([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.9]), 1, 'perfect');
  close(rocAuc([1, 1, 0, 0], [0.1, 0.2, 0.3, 0.9]), 0, 'inverted');
  close(rocAuc([1, 0, 1, 0], [0.5, 0.5, 0.5, 0.5]), 0.5, 'all tied');
  assert.ok(Number.isNaN(rocAuc([1, 1], [0.2, 0.3])));
  const m = classificationMetrics([1, 1, 1, 0, 0, 0], [1, 1, 0, 0, 1, 1], ['0', '1'], [0.8, 0.4, 0.35, 0.1, 0.4, 0.7]);
  close(m.roc_auc, 5.5 / 9, 'binary metrics');
  assert.equal(classificationMetrics([1, 1], [1, 1], ['0', '1'], [0.3, 0.9]).roc_auc, null);
});

test('confusionMatrix rejects mismatched lengths', () => {
  assert.throws(() => confusionMatrix([0, 1], [0], 2), RangeError);
});
