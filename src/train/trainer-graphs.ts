// The Trainer's ONNX graphs: one fused step (forward, loss, backward, optimizer), or for gradient accumulation a
// gradient graph that adds a micro-batch's weighted gradients into an accumulator plus an optimizer-only graph.
import type { Rng } from '../core/random.js';
import { gradients } from '../graph/autodiff.js';
import { GraphBuilder, type Value } from '../graph/builder.js';
import { softmaxCrossEntropy } from '../graph/losses.js';
import { ModelContext, type ModelDef, type ParamInfo } from './model.js';
import { emitUpdate, stateSlots, type OptimizerConfig } from './optim.js';

/** Input naming shared by the graphs and the Trainer's feeds. */
export const ACCUM_SCALE_INPUT = 'accum/scale';
export const accumulatorName = (param: string): string => `acc/${param}`;
export const accumulatedName = (param: string): string => `acc_new/${param}`;
export const gradName = (param: string): string => `grad/${param}`;

export interface ForwardGraph {
  inputs: Value[];
  logits: Value;
  labels: Value;
  loss: Value;
}

/** The model's forward pass, its label input and its loss (softmax cross-entropy unless the model defines one). */
export function buildForward(g: GraphBuilder, model: ModelDef, ctx: ModelContext): ForwardGraph {
  const { inputs, logits } = model.build(ctx);
  if (model.loss) return { inputs, logits, ...model.loss(g, logits) };
  const labels = g.input('labels', 'int64', ['batch']);
  const loss = softmaxCrossEntropy(g, { ...logits, shape: ['batch', model.classes] }, labels);
  return { inputs, logits, labels, loss };
}

export const logitsShape = (model: ModelDef): (string | number)[] => model.logitsShape ?? ['batch', model.classes];

export interface GraphOptions {
  seed: Rng;
  values?: ReadonlyMap<string, Float32Array>;
  frozen?: (name: string) => boolean;
}

/** Optimizer inputs of a step graph (per-step scalars) and the update of `params` given their gradients. */
function optimizerStep(g: GraphBuilder, optimizer: OptimizerConfig, params: ParamInfo[], paramValues: Value[], grads: Value[]) {
  const slots = stateSlots(optimizer);
  const stateInputs = params.map((p) => slots.map((s) => g.input(`${p.name}/${s}`, 'float32', p.shape)));
  const step = { lr: g.input('opt/lr', 'float32', []), eps: g.input('opt/eps', 'float32', []), decay: g.input('opt/decay', 'float32', []) };
  // Sparse (embedding) parameters update only the gathered rows, and their optimizer states likewise.
  const updates = paramValues.map((param, i) => {
    const rows = params[i].rows;
    const decay = !optimizer.noDecay?.(params[i].name);
    return { param, grad: grads[i], decay, states: rows ? stateInputs[i].map((st) => g.gather(st, rows)) : stateInputs[i] };
  });
  const next = emitUpdate(g, optimizer, updates, step);
  params.forEach((p, i) => {
    const shape = p.rows ? ['rows', ...p.shape.slice(1)] : p.shape;
    g.output(next.params[i], `new/${p.name}`, { dtype: 'float32', shape });
    slots.forEach((s, j) => g.output(next.states[i][j], `new/${p.name}/${s}`, { dtype: 'float32', shape }));
    if (p.rows) g.output(p.rows, `rows/${p.name}`, { dtype: 'int64', shape: ['rows'] });
  });
}

/** Forward + loss + backward + update in one graph: what one step without accumulation runs. */
export function fusedStepGraph(model: ModelDef, optimizer: OptimizerConfig, o: GraphOptions): { g: GraphBuilder; ctx: ModelContext; forward: ForwardGraph } {
  const g = new GraphBuilder(`${model.kind}_train`);
  const ctx = new ModelContext(g, true, o.seed, o.values, true, o.frozen);
  const forward = buildForward(g, model, ctx);
  const grads = gradients(g, forward.loss, ctx.paramValues);
  optimizerStep(g, optimizer, ctx.params, ctx.paramValues, grads);
  g.output(forward.loss, 'loss', { dtype: 'float32', shape: [] });
  g.output(forward.logits, 'logits', { dtype: 'float32', shape: logitsShape(model) });
  return { g, ctx, forward };
}

/**
 * Forward + loss + backward of one micro-batch: `acc_new/p = acc/p + scale · ∂loss/∂p`, where `scale` is the
 * micro-batch's share of the step's loss terms, so the accumulated gradient is that of the concatenated batch.
 * Embedding tables are dense here: rows touched by different micro-batches differ.
 */
export function gradientGraph(model: ModelDef, o: GraphOptions): { g: GraphBuilder; ctx: ModelContext; forward: ForwardGraph } {
  const g = new GraphBuilder(`${model.kind}_grad`);
  const ctx = new ModelContext(g, true, o.seed, o.values, true, o.frozen, true);
  const forward = buildForward(g, model, ctx);
  const grads = gradients(g, forward.loss, ctx.paramValues);
  const scale = g.input(ACCUM_SCALE_INPUT, 'float32', []);
  ctx.params.forEach((p, i) => {
    const acc = g.input(accumulatorName(p.name), 'float32', p.shape);
    g.output(g.add(acc, g.mul(grads[i], scale)), accumulatedName(p.name), { dtype: 'float32', shape: p.shape });
  });
  g.output(forward.loss, 'loss', { dtype: 'float32', shape: [] });
  g.output(forward.logits, 'logits', { dtype: 'float32', shape: logitsShape(model) });
  return { g, ctx, forward };
}

/** The optimizer alone: parameters, states and accumulated gradients in, new parameters and states out. */
export function applyGraph(model: ModelDef, optimizer: OptimizerConfig, params: ParamInfo[]): GraphBuilder {
  const g = new GraphBuilder(`${model.kind}_apply`);
  const values = params.map((p) => g.input(p.name, 'float32', p.shape));
  const grads = params.map((p) => g.input(gradName(p.name), 'float32', p.shape));
  optimizerStep(g, optimizer, params.map((p) => ({ ...p, rows: undefined })), values, grads);
  return g;
}
