// Losses written with differentiable, float64-safe ops: softmax cross-entropy and binary cross-entropy with logits.
import type { GraphBuilder, Value } from './builder.js';
import { geulError } from '../core/errors.js';

const dtypeOf = (v: Value): 'float32' | 'float64' => (v.dtype === 'float64' ? 'float64' : 'float32');

/** One-hot rows (Equal + Cast, float64-safe) of int64 `labels` [batch] over `classes` classes. */
export function oneHot(g: GraphBuilder, labels: Value, classes: number, dtype: 'float32' | 'float64' = 'float32'): Value {
  const ids = g.ints(Array.from({ length: classes }, (_, i) => i));
  const eq = g.op1('Equal', [g.op1('Unsqueeze', [labels, g.ints([-1])]), ids]);
  return g.op1('Cast', [eq], { to: dtype === 'float64' ? 11 : 1 });
}

/** Mean over the batch of -log softmax(logits)[label]; logits [batch, classes] with a static class count. */
export function softmaxCrossEntropy(g: GraphBuilder, logits: Value, labels: Value): Value {
  const classes = logits.shape?.[logits.shape.length - 1];
  if (typeof classes !== 'number') throw geulError('GRAPH_INVALID', { detail: 'cross-entropy needs a static class dimension' });
  const logp = g.op1('LogSoftmax', [logits], { axis: -1 });
  const picked = g.op1('ReduceSum', [g.op1('Mul', [logp, oneHot(g, labels, classes, dtypeOf(logits))]), g.ints([-1])], { keepdims: 0 });
  return g.op1('Neg', [g.op1('ReduceMean', [picked], { keepdims: 0 })], {}, { shape: [] });
}

/** Mean of log(1 + e^z) - z·t, written as relu(z) + log(1 + e^-|z|) - z·t so large logits do not overflow. */
export function binaryCrossEntropy(g: GraphBuilder, logits: Value, targets: Value): Value {
  const dtype = dtypeOf(logits);
  const softplus = g.op1('Add', [g.op1('Relu', [logits]), g.op1('Log', [g.op1('Add', [g.scalar(1, dtype), g.op1('Exp', [g.op1('Neg', [g.op1('Abs', [logits])])])])])]);
  const perItem = g.op1('Sub', [softplus, g.op1('Mul', [logits, targets])]);
  return g.op1('ReduceMean', [perItem], { keepdims: 0 }, { shape: [] });
}
