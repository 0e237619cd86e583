// Losses written with differentiable, float64-safe ops: softmax cross-entropy and binary cross-entropy with logits.
import type { GraphBuilder, Value } from './builder.js';
import { geulError } from '../core/errors.js';

const dtypeOf = (v: Value): 'float32' | 'float64' => (v.dtype === 'float64' ? 'float64' : 'float32');

/** One-hot rows (Equal + Cast, float64-safe) of int64 `labels` [batch] over `classes` classes. */
export function oneHot(g: GraphBuilder, labels: Value, classes: number, dtype: 'float32' | 'float64' = 'float32'): Value {
  const ids = g.ints(Array.from({ length: classes }, (_, i) => i));
  return g.cast(g.equal(g.unsqueeze(labels, [-1]), ids), dtype);
}

/** Mean over the batch of -log softmax(logits)[label]; logits [batch, classes] with a static class count. */
export function softmaxCrossEntropy(g: GraphBuilder, logits: Value, labels: Value): Value {
  const classes = logits.shape?.[logits.shape.length - 1];
  if (typeof classes !== 'number') throw geulError('GRAPH_INVALID', { detail: 'cross-entropy needs a static class dimension' });
  const picked = g.reduceSum(g.mul(g.logSoftmax(logits), oneHot(g, labels, classes, dtypeOf(logits))), [-1], false);
  return g.neg(g.reduceMean(picked, undefined, false));
}

/** Mean of log(1 + e^z) - z·t, written as relu(z) + log(1 + e^-|z|) - z·t so large logits do not overflow. */
export function binaryCrossEntropy(g: GraphBuilder, logits: Value, targets: Value): Value {
  const dtype = dtypeOf(logits);
  const softplus = g.add(g.relu(logits), g.log(g.add(g.scalar(1, dtype), g.exp(g.neg(g.abs(logits))))));
  // Declared scalar: the loss is one even when the logits' rank is unknown to inference.
  return g.withShape(g.reduceMean(g.sub(softplus, g.mul(logits, targets)), undefined, false), []);
}
