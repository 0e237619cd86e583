// The Trainer's ONNX graph: forward, loss and backward, returning the gradients (the optimizer step runs on the
// host, in place: host-optim.ts says why); with gradient accumulation, each micro-batch's gradients come scaled.
import type { Rng } from '../core/random.js';
import { gradients } from '../graph/autodiff.js';
import { GraphBuilder, type Value } from '../graph/builder.js';
import { softmaxCrossEntropy } from '../graph/losses.js';
import { ModelContext, type ModelDef } from './model.js';

/** Input naming shared by the graphs and the Trainer's feeds. */
export const ACCUM_SCALE_INPUT = 'accum/scale';
export const gradName = (param: string): string => `grad/${param}`;

export interface ForwardGraph {
  inputs: Value[];
  logits: Value;
  /** The logits' declared shape. */
  logitsShape: (string | number)[];
  labels: Value;
  loss: Value;
}

/** The model's forward pass, its label input and its loss (softmax cross-entropy unless the model defines one). */
export function buildForward(g: GraphBuilder, model: ModelDef, ctx: ModelContext): ForwardGraph {
  const { inputs, logits, objective } = model.build(ctx);
  if (objective) return { inputs, logits, logitsShape: objective.logitsShape, labels: objective.labels, loss: objective.loss };
  if (model.loss) return { inputs, logits, logitsShape: logitsShape(model), ...model.loss(g, logits) };
  const labels = g.input('labels', 'int64', ['batch']);
  const loss = softmaxCrossEntropy(g, { ...logits, shape: ['batch', model.classes] }, labels);
  return { inputs, logits, logitsShape: logitsShape(model), labels, loss };
}

export const logitsShape = (model: ModelDef): (string | number)[] => model.logitsShape ?? ['batch', model.classes];

export interface GraphOptions {
  seed: Rng;
  values?: ReadonlyMap<string, Float32Array>;
  frozen?: (name: string) => boolean;
}

/**
 * Forward + loss + backward: outputs the loss, the logits and `grad/p` for every trainable parameter (the optimizer
 * runs on the host, host-optim.ts). Sparse (embedding) parameters give the gradient of the touched rows and their
 * ids (`rows/p`). With `accumulate`, the gradients are scaled by `accum/scale`, the micro-batch's share of the step's
 * loss terms, so their sum over the micro-batches is the gradient of the concatenated batch; embedding tables are
 * dense then, as rows touched by different micro-batches differ.
 */
export function gradientGraph(model: ModelDef, o: GraphOptions & { accumulate?: boolean }): { g: GraphBuilder; ctx: ModelContext; forward: ForwardGraph } {
  const g = new GraphBuilder(`${model.kind}_${o.accumulate ? 'grad' : 'train'}`);
  const ctx = new ModelContext(g, true, o.seed, o.values, true, o.frozen, o.accumulate);
  const forward = buildForward(g, model, ctx);
  const grads = gradients(g, forward.loss, ctx.paramValues);
  const scale = o.accumulate ? g.input(ACCUM_SCALE_INPUT, 'float32', []) : undefined;
  ctx.params.forEach((p, i) => {
    const shape = p.rows ? ['rows', ...p.shape.slice(1)] : p.shape;
    g.output(scale ? g.mul(grads[i], scale) : grads[i], gradName(p.name), { dtype: 'float32', shape });
    if (p.rows) g.output(p.rows, `rows/${p.name}`, { dtype: 'int64', shape: ['rows'] });
  });
  g.output(forward.loss, 'loss', { dtype: 'float32', shape: [] });
  g.output(forward.logits, 'logits', { dtype: 'float32', shape: forward.logitsShape });
  return { g, ctx, forward };
}
