// Masked-LM cross-entropy as Hugging Face computes it: mean over the positions whose label is not -100.
import type { GraphBuilder, Value } from '../../graph/builder.js';
import { oneHot } from '../../graph/losses.js';

/** HF's ignore_index: labels at unmasked positions. */
export const IGNORED_LABEL = -100;

/** logits [batch, seq, vocab] (static vocab), labels int64 [batch, seq] holding token ids or -100. */
export function maskedLmLoss(g: GraphBuilder, logits: Value, labels: Value, vocabSize: number): Value {
  const counted = g.not(g.equal(labels, g.int(IGNORED_LABEL)));
  const weight = g.cast(counted, 'float32');
  const safeLabels = g.where(counted, labels, g.int(0));
  const picked = g.reduceSum(g.mul(g.logSoftmax(logits, -1), oneHot(g, safeLabels, vocabSize)), [-1], false);
  const total = g.reduceSum(g.mul(picked, weight), undefined, false);
  return g.withShape(g.neg(g.div(total, g.reduceSum(weight, undefined, false))), []);
}
