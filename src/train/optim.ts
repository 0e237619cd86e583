// Optimizers emitted into the training graph (SGD/momentum, Adam, AdamW, global-norm clipping) and LR schedules.
import type { GraphBuilder, Value } from '../graph/builder.js';

export type OptimizerName = 'sgd' | 'adam' | 'adamw';
export type ScheduleName = 'constant' | 'linear' | 'cosine';

export interface OptimizerConfig {
  name: OptimizerName;
  lr: number;
  momentum?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** L2 penalty for sgd/adam, decoupled decay for adamw. */
  weightDecay?: number;
  /** Clip gradients to this global L2 norm (0 or absent: no clipping). */
  clipNorm?: number;
  schedule?: ScheduleName;
  /** Warmup steps for the linear/cosine schedules. */
  warmup?: number;
  /**
   * Parameters exempt from weight decay (both the L2 penalty and AdamW's decoupled decay), by name; the Hugging Face
   * Trainer exempts biases and LayerNorm weights (`hfNoDecay`). Absent: every parameter decays.
   */
  noDecay?: (name: string) => boolean;
}

/** The Hugging Face Trainer's rule: no weight decay for any parameter named like a bias or inside a LayerNorm. */
export function hfNoDecay(name: string): boolean {
  return name.includes('bias') || /(LayerNorm|layer_norm)\./.test(name);
}

/** Per-step scalars the graph reads, computed on the host (schedule, Adam bias correction). */
export const STEP_INPUTS = ['opt/lr', 'opt/eps', 'opt/decay'] as const;

/** Names of the state tensors an optimizer keeps per parameter. */
export function stateSlots(config: OptimizerConfig): string[] {
  if (config.name === 'sgd') return config.momentum ? ['velocity'] : [];
  return ['m', 'v'];
}

/** Learning rate at `step` (0-based) of `total` under the schedule. */
export function scheduledLr(config: OptimizerConfig, step: number, total: number): number {
  const warmup = config.warmup ?? 0;
  if (step < warmup) return (config.lr * (step + 1)) / warmup;
  const progress = total > warmup ? Math.min(1, (step - warmup) / (total - warmup)) : 0;
  if (config.schedule === 'linear') return config.lr * (1 - progress);
  if (config.schedule === 'cosine') return config.lr * 0.5 * (1 + Math.cos(Math.PI * progress));
  return config.lr;
}

/** The scalars fed as STEP_INPUTS for step `t` (0-based): Adam's bias corrections are folded into lr and eps. */
export function stepScalars(config: OptimizerConfig, t: number, lr: number): Float32Array {
  if (config.name === 'sgd') return Float32Array.of(lr, 0, 1);
  const b1 = config.beta1 ?? 0.9;
  const b2 = config.beta2 ?? 0.999;
  const c2 = Math.sqrt(1 - b2 ** (t + 1));
  const decay = config.name === 'adamw' ? 1 - lr * (config.weightDecay ?? 0.01) : 1;
  return Float32Array.of((lr * c2) / (1 - b1 ** (t + 1)), (config.eps ?? 1e-8) * c2, decay);
}

export interface ParamUpdate {
  param: Value;
  grad: Value;
  /** Optimizer states in the order of stateSlots(). */
  states: Value[];
  /** False: this parameter gets no weight decay (OptimizerConfig.noDecay). */
  decay?: boolean;
}

/** Emits the update; returns the new parameters and the new states (same order as given). */
export function emitUpdate(g: GraphBuilder, config: OptimizerConfig, updates: ParamUpdate[], step: { lr: Value; eps: Value; decay: Value }): { params: Value[]; states: Value[][] } {
  const mul = (a: Value, b: Value) => g.mul(a, b);
  const add = (a: Value, b: Value) => g.add(a, b);
  const c = (v: number) => g.scalar(v);
  let grads = updates.map((u) => u.grad);
  if (config.clipNorm) {
    const sq = grads.map((d) => g.reduceSum(mul(d, d), undefined, false));
    // Sum (variadic) and Min have no typed helpers.
    const norm = g.sqrt(sq.length > 1 ? g.op1('Sum', sq) : sq[0]);
    const scale = g.op1('Min', [c(1), g.div(c(config.clipNorm), add(norm, c(1e-6)))]);
    grads = grads.map((d) => mul(d, scale));
  }
  const l2 = config.name !== 'adamw' ? config.weightDecay ?? 0 : 0;
  if (l2) grads = grads.map((d, i) => (updates[i].decay === false ? d : add(d, mul(updates[i].param, c(l2)))));
  const params: Value[] = [];
  const states: Value[][] = [];
  updates.forEach((u, i) => {
    const d = grads[i];
    g.scope(`update/${u.param.name}`, () => {
      if (config.name === 'sgd') {
        if (config.momentum) {
          const v = add(mul(u.states[0], c(config.momentum)), d);
          params.push(g.sub(u.param, mul(v, step.lr)));
          states.push([v]);
        } else {
          params.push(g.sub(u.param, mul(d, step.lr)));
          states.push([]);
        }
        return;
      }
      const b1 = config.beta1 ?? 0.9;
      const b2 = config.beta2 ?? 0.999;
      const m = add(mul(u.states[0], c(b1)), mul(d, c(1 - b1)));
      const v = add(mul(u.states[1], c(b2)), mul(mul(d, d), c(1 - b2)));
      const stepValue = g.div(mul(m, step.lr), add(g.sqrt(v), step.eps));
      const decayed = config.name === 'adamw' && u.decay !== false ? mul(u.param, step.decay) : u.param;
      params.push(g.sub(decayed, stepValue));
      states.push([m, v]);
    });
  });
  return { params, states };
}
