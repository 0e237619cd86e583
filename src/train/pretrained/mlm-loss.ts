// Masked-LM cross-entropy as Hugging Face computes it: mean over the positions whose label is not -100, with the LM
// head run at those positions only.
//
//   const { positions, targets } = maskedTargets(g, labels);                 // labels int64 [batch, seq]
//   const out = buildEncoder(g, config, param, { inputIds, attentionMask, maskedPositions: positions });
//   const loss = maskedLmLoss(g, out.logits!, targets, config.vocabSize);    // logits [masked, vocab]
//
// Why gather first: HF scores every position ([batch, seq, vocab] logits, 250 MB at BERT 16 × 128 with its softmax,
// gradient and a one-hot of the same size each) and ignores all but the ~15 % masked ones. The head (dense → GELU →
// LayerNorm → decoder) works position by position, so running it on the masked rows alone gives the same loss and
// gradients with logits of [masked, vocab], and skips 85 % of the decoder's matmul, forward and backward.
import type { GraphBuilder, Value } from '../../graph/builder.js';
import { softmaxCrossEntropy } from '../../graph/losses.js';

/** HF's ignore_index: labels at unmasked positions. */
export const IGNORED_LABEL = -100;

export interface MaskedTargets {
  /** int64 [masked]: the positions whose label is not -100, as indices into the flattened batch × seq. */
  readonly positions: Value;
  /** int64 [masked]: their labels. */
  readonly targets: Value;
}

/** The masked positions of `labels` (int64 [batch, seq], token ids or -100) and their labels, in row-major order. */
export function maskedTargets(g: GraphBuilder, labels: Value): MaskedTargets {
  const flat = g.reshape(labels, [-1]);
  const counted = g.not(g.equal(flat, g.int(IGNORED_LABEL)));
  const positions = g.withShape(g.reshape(g.op1('NonZero', [counted]), [-1]), ['masked']);
  return { positions, targets: g.withShape(g.gather(flat, positions, 0), ['masked']) };
}

/** Mean cross-entropy of logits [masked, vocab] (static vocab) against `targets` [masked]. */
export function maskedLmLoss(g: GraphBuilder, logits: Value, targets: Value, vocabSize: number): Value {
  return g.withShape(softmaxCrossEntropy(g, g.withShape(logits, ['masked', vocabSize]), targets), []);
}
