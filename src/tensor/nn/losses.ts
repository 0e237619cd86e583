// Losses (mean over the batch, as torch's defaults): crossEntropy, nll, mse, bce and bceWithLogits, via src/graph.
import { geulError } from '../../core/errors.js';
import { binaryCrossEntropy, oneHot, softmaxCrossEntropy } from '../../graph/losses.js';
import { broadcastShape, castTo } from '../elementwise.js';
import { record, type Node } from '../lazy.js';
import { Tensor } from '../tensor.js';

const shapeText = (s: readonly number[]) => `[${s.join(', ')}]`;

/** Class indices (int64, or integer-valued float32) for logits/log-probabilities [batch, classes]. */
function classTargets(input: Tensor, target: Tensor, what: string): Node {
  if (input.ndim !== 2 || target.ndim !== 1 || target.shape[0] !== input.shape[0]) {
    throw geulError('INVALID_INPUT', { detail: `${what}: needs input [batch, classes] and class indices [batch] (got ${shapeText(input.shape)} and ${shapeText(target.shape)})` });
  }
  return castTo(target.node, 'int64');
}

/**
 * Softmax cross-entropy of logits [batch, classes] against class indices [batch] (int64 or integer-valued float32),
 * or against class probabilities of the logits' shape.
 */
export function crossEntropy(logits: Tensor, target: Tensor): Tensor {
  if (target.dtype === 'float32' && target.shape.join() === logits.shape.join()) {
    return logits.logSoftmax(-1).mul(target).sum(-1).mean().neg();
  }
  const labels = classTargets(logits, target, 'crossEntropy');
  return new Tensor(record('crossEntropy', [logits.float().node, labels], (g, [l, t]) => softmaxCrossEntropy(g, l, t)));
}

/** Negative log-likelihood of log-probabilities [batch, classes] at class indices [batch]. */
export function nll(logProbs: Tensor, target: Tensor): Tensor {
  const labels = classTargets(logProbs, target, 'nll');
  const classes = logProbs.shape[1];
  return new Tensor(record('nll', [logProbs.float().node, labels], (g, [l, t]) => g.neg(g.reduceMean(g.reduceSum(g.mul(l, oneHot(g, t, classes)), [-1], false), undefined, false))));
}

function sameShape(a: Tensor, b: Tensor, what: string): void {
  if (a.shape.join() !== b.shape.join()) broadcastShape(a.shape, b.shape, what);
}

/** Mean squared error. */
export function mse(input: Tensor, target: Tensor): Tensor {
  sameShape(input, target, 'mse');
  const d = input.sub(target);
  return d.mul(d).mean();
}

/** Binary cross-entropy of probabilities (logs clamped at -100, as torch does). */
export function bce(probabilities: Tensor, target: Tensor): Tensor {
  sameShape(probabilities, target, 'bce');
  const t = target.float();
  const logP = probabilities.log().clamp(-100);
  const log1mP = probabilities.neg().add(1).log().clamp(-100);
  return t.mul(logP).add(t.neg().add(1).mul(log1mP)).mean().neg();
}

/** Binary cross-entropy of logits, computed without overflow (src/graph's binaryCrossEntropy). */
export function bceWithLogits(logits: Tensor, target: Tensor): Tensor {
  sameShape(logits, target, 'bceWithLogits');
  return new Tensor(record('bceWithLogits', [logits.float().node, target.float().node], (g, [l, t]) => binaryCrossEntropy(g, l, t)));
}
