// nn.MultiheadAttention (torch's parameters and defaults), written with tensor ops: projections, scaled dot products, softmax.
import { geulError } from '../../core/errors.js';
import { defaultGenerator, fromHost, zeros, type Generator } from '../create.js';
import type { Tensor } from '../tensor.js';
import { Linear } from './layers.js';
import { Module, Parameter } from './module.js';

export interface AttentionOptions {
  /** [batch, seq, embed] instead of [seq, batch, embed] (torch's batch_first). */
  batchFirst?: boolean;
  generator?: Generator;
}

export interface AttentionCall {
  /** true where a key position of a batch row is padding and must not be attended to: bool [batch, keys]. */
  keyPaddingMask?: Tensor;
  /** Added to the scores (float [queries, keys]), or bool where attention is not allowed. */
  attnMask?: Tensor;
}

/** Xavier-uniform values, as torch initialises `in_proj_weight`. */
function xavier(rows: number, cols: number, generator: Generator): Tensor {
  const bound = Math.sqrt(6 / (rows / 3 + cols));
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = (generator.rng.next() * 2 - 1) * bound;
  return fromHost(data, 'float32', [rows, cols]);
}

export class MultiheadAttention extends Module {
  readonly in_proj_weight: Parameter;
  readonly in_proj_bias: Parameter;
  readonly out_proj: Linear;
  readonly headDim: number;

  constructor(readonly embedDim: number, readonly numHeads: number, private readonly o: AttentionOptions = {}) {
    super();
    if (embedDim % numHeads !== 0) throw geulError('INVALID_INPUT', { detail: `MultiheadAttention: embedDim ${embedDim} is not divisible by numHeads ${numHeads}` });
    const generator = o.generator ?? defaultGenerator;
    this.headDim = embedDim / numHeads;
    this.in_proj_weight = new Parameter(xavier(3 * embedDim, embedDim, generator));
    this.in_proj_bias = new Parameter(zeros([3 * embedDim]));
    this.out_proj = new Linear(embedDim, embedDim, { generator });
    this.out_proj.bias?.assign(new Float32Array(embedDim));
  }

  /** Attention output ([L, B, E], or [B, L, E] with batchFirst) and the weights averaged over heads [B, L, S]. */
  attend(query: Tensor, key: Tensor, value: Tensor, call: AttentionCall = {}): { output: Tensor; weights: Tensor } {
    const E = this.embedDim;
    for (const [name, t] of [['query', query], ['key', key], ['value', value]] as const) {
      if (t.ndim !== 3 || t.shape[2] !== E) throw geulError('INVALID_INPUT', { detail: `MultiheadAttention: ${name} must be 3-D with ${E} features (got [${t.shape.join(', ')}])` });
    }
    const batchMajor = (t: Tensor) => (this.o.batchFirst ? t : t.transpose(0, 1));
    const [q0, k0, v0] = [batchMajor(query), batchMajor(key), batchMajor(value)];
    const [B, L] = q0.shape;
    const S = k0.shape[1];
    const [h, d] = [this.numHeads, this.headDim];
    const [wq, wk, wv] = this.in_proj_weight.split(E, 0);
    const [bq, bk, bv] = this.in_proj_bias.split(E, 0);
    const heads = (x: Tensor, w: Tensor, b: Tensor, n: number) => x.matmul(w.T).add(b).reshape(B, n, h, d).permute(0, 2, 1, 3);
    const q = heads(q0, wq, bq, L);
    const k = heads(k0, wk, bk, S);
    const v = heads(v0, wv, bv, S);
    let scores = q.matmul(k.transpose(-2, -1)).div(Math.sqrt(d));
    if (call.attnMask) scores = call.attnMask.dtype === 'bool' ? scores.maskedFill(call.attnMask, -Infinity) : scores.add(call.attnMask);
    if (call.keyPaddingMask) scores = scores.maskedFill(call.keyPaddingMask.reshape(B, 1, 1, S), -Infinity);
    const weights = scores.softmax(-1);
    const merged = weights.matmul(v).permute(0, 2, 1, 3).reshape(B, L, E);
    const out = this.out_proj.forward(merged.reshape(B * L, E)).reshape(B, L, E);
    return { output: this.o.batchFirst ? out : out.transpose(0, 1), weights: weights.mean(1) };
  }

  /** Self-attention when key and value are omitted; returns the attention output only (`attend` gives the weights). */
  forward(query: Tensor, key: Tensor = query, value: Tensor = key): Tensor {
    return this.attend(query, key, value).output;
  }
}
