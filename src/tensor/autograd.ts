// backward(): one recorded node that runs src/graph's reverse-mode autodiff over the forward graph to every leaf.
import { geulError } from '../core/errors.js';
import { gradients } from '../graph/autodiff.js';
import { castTo } from './elementwise.js';
import { recordOp, type GradOwner, type Node } from './lazy.js';

const shapeText = (s: readonly number[]) => `[${s.join(', ')}]`;

/** The leaves with requiresGrad that `root` depends on through differentiable ops, in walk order. */
function leavesOf(root: Node): Node[] {
  const seen = new Set<Node>();
  const leaves: Node[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const node = stack.pop() as Node;
    if (seen.has(node)) continue;
    seen.add(node);
    if (node.owner && !node.op) leaves.push(node);
    for (const input of node.op?.inputs ?? []) if (input.requiresGrad) stack.push(input);
  }
  return leaves.reverse();
}

/**
 * Records the backward pass of `loss`: each leaf's gradient becomes a pending tensor added to its `.grad`.
 * `gradient` is d(something)/d(loss) for a non-scalar loss (torch's `backward(gradient)`).
 */
export function backward(loss: Node, gradient?: Node): void {
  if (!loss.requiresGrad) {
    throw geulError('INVALID_INPUT', {
      detail: `backward(): this ${loss.dtype} tensor does not require gradients: it depends on no tensor with requiresGrad, or only through ops that have none (integer or bool results such as argmax and comparisons, detach(), noGrad)`,
    });
  }
  if (loss.size !== 1 && !gradient) {
    throw geulError('INVALID_INPUT', { detail: `backward() on a tensor of shape ${shapeText(loss.shape)} needs a gradient argument of that shape (only a one-element tensor's gradient is implied)` });
  }
  if (gradient && gradient.shape.join() !== loss.shape.join()) {
    throw geulError('INVALID_INPUT', { detail: `backward(gradient): gradient shape ${shapeText(gradient.shape)} differs from the tensor's ${shapeText(loss.shape)}` });
  }
  const leaves = leavesOf(loss).filter((n) => n.requiresGrad);
  const seed = gradient ? [castTo(gradient, 'float32')] : [];
  const picks = recordOp({
    key: `backward${gradient ? '+seed' : ''}:${leaves.length}`,
    backward: true,
    emit: (g, [l, ...rest]) => {
      const s = gradient ? rest.shift() : undefined;
      // A one-element loss of rank > 0 is seeded with ones of its shape (the autodiff's default for non-scalars).
      return gradients(g, l, rest, s ? { seed: s } : {});
    },
    infer: () => leaves.map((n) => ({ dtype: 'float32' as const, shape: [...n.shape] })),
  }, [loss, ...seed, ...leaves], leaves.length, false);
  const group = picks[0]?.op?.inputs[0];
  if (group) group.rideAlong = loss;
  leaves.forEach((leaf, i) => (leaf.owner as GradOwner).addGrad(picks[i]));
}
