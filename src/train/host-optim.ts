// The optimizer step on the host, in place: parameters and states are updated where they lie, from gradients the
// training session wrote into preallocated buffers.
//
//   const norm = globalNorm(grads);                              // for clipping, over every gradient of the step
//   hostUpdate(config, stepScalars(config, t, lr), { param, grad, states: [m, v] }, { gradScale: clipScale(config, norm) });
//
// Why on the host rather than in the graph: an in-graph update takes every parameter and state as an input and
// returns new ones as outputs, so the host holds them twice (ping-pong buffers) and ONNX Runtime materialises each
// intermediate (m·β₁, g², √v …) as a full-size tensor, then copies the states once more through the Identity that
// an output consumed elsewhere needs. Here the session returns gradients only (one buffer per parameter, written in
// place through fetches) and one fused pass per parameter updates it with its states: the step holds parameters,
// two moments and gradients once each, as torch does, and allocates nothing proportional to the parameter count.
import type { OptimizerConfig } from './optim.js';

export interface HostParamUpdate {
  param: Float32Array;
  grad: Float32Array;
  /** Optimizer states in the order of stateSlots(config). */
  states: Float32Array[];
  /** Rows of a sparse (embedding) table: `grad` holds these rows of width `width`; param and states are full tables. */
  rows?: { ids: ArrayLike<bigint | number>; width: number };
}

export interface HostUpdateOptions {
  /** Multiplies the gradient first (global-norm clipping, gradient averaging). Default 1. */
  gradScale?: number;
  /** Whether weight decay applies to this parameter (false for biases and LayerNorm weights under no-decay groups). */
  decay?: boolean;
}

/**
 * L2 norm over all the gradients, in float64: each gradient's sum of squares on its own, then those sums in order.
 * Why per gradient: the threaded optimizer (host-optim-threads.ts) sums each gradient where it is updated, and the
 * norm must not depend on how gradients are shared out among threads.
 */
export function globalNorm(grads: Iterable<Float32Array>): number {
  let sum = 0;
  for (const g of grads) sum += sumOfSquares(g);
  return Math.sqrt(sum);
}

/** Σ g[i]², accumulated in float64 from 0. */
export function sumOfSquares(g: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < g.length; i++) sum += g[i] * g[i];
  return sum;
}

/** The gradient scale of global-norm clipping (1 without clipping), as emitUpdate computes it. */
export function clipScale(config: OptimizerConfig, norm: number): number {
  return config.clipNorm ? Math.min(1, config.clipNorm / (norm + 1e-6)) : 1;
}

/**
 * Applies one step of `config` to one parameter, in place. `scalars` are stepScalars(config, t, lr): the learning
 * rate and epsilon with Adam's bias corrections folded in, and AdamW's decay factor 1 − lr·wd.
 */
export function hostUpdate(config: OptimizerConfig, scalars: ArrayLike<number>, update: HostParamUpdate, options: HostUpdateOptions = {}): void {
  const { rows } = update;
  if (!rows) return updateRange(config, scalars, update, 0, 0, update.grad.length, options);
  const { ids, width } = rows;
  for (let u = 0; u < ids.length; u++) updateRange(config, scalars, update, Number(ids[u]) * width, u * width, width, options);
}

/** Updates param/states[offset … offset+count) from grad[gradOffset …]. */
function updateRange(config: OptimizerConfig, scalars: ArrayLike<number>, u: HostParamUpdate, offset: number, gradOffset: number, count: number, options: HostUpdateOptions): void {
  const { param: p, grad } = u;
  const scale = options.gradScale ?? 1;
  const decays = options.decay ?? true;
  const lr = scalars[0];
  const l2 = config.name !== 'adamw' && decays ? config.weightDecay ?? 0 : 0;
  const end = offset + count;
  const shift = gradOffset - offset;
  if (config.name === 'sgd') {
    const momentum = config.momentum ?? 0;
    const velocity = u.states[0];
    for (let i = offset; i < end; i++) {
      const d = grad[i + shift] * scale + l2 * p[i];
      if (momentum) {
        const vel = velocity[i] * momentum + d;
        velocity[i] = vel;
        p[i] -= vel * lr;
      } else p[i] -= d * lr;
    }
    return;
  }
  const [m, v] = u.states;
  const b1 = config.beta1 ?? 0.9;
  const b2 = config.beta2 ?? 0.999;
  const eps = scalars[1];
  const decay = config.name === 'adamw' && decays ? scalars[2] : 1;
  for (let i = offset; i < end; i++) {
    const d = grad[i + shift] * scale + l2 * p[i];
    const mi = m[i] * b1 + d * (1 - b1);
    const vi = v[i] * b2 + d * d * (1 - b2);
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * decay - (mi * lr) / (Math.sqrt(vi) + eps);
  }
}
