// Text classifiers from scratch: bag of embeddings (fastText-style, hashed bigrams in-graph), an embedding MLP and
// RNN/GRU/LSTM stacks (bidirectional, last state or mean/max pooling).
import type { Value } from '../../graph/builder.js';
import { lstm } from '../../graph/lstm.js';
import { recurrent, type Cell } from '../../graph/rnn.js';
import type { ModelContext, ModelDef } from '../model.js';

export type Pooling = 'mean' | 'max' | 'last';

export interface BowConfig {
  vocab: number;
  dim: number;
  classes: number;
  /** Hash buckets for word bigrams (0: unigrams only). Bigram ids are computed inside the graph from input_ids. */
  buckets?: number;
  dropout?: number;
}

export interface EmbeddingMlpConfig {
  vocab: number;
  embedding: number;
  /** Hidden layer widths after the mean-pooled embeddings. */
  hidden: number[];
  classes: number;
  dropout?: number;
}

export type TextCell = Cell | 'lstm';

export interface RecurrentConfig {
  vocab: number;
  embedding: number;
  hidden: number;
  classes: number;
  cell: TextCell;
  layers?: number;
  bidirectional?: boolean;
  pooling?: Pooling;
  dropout?: number;
  /**
   * How many tokens back the gated cells remember at initialisation (chrono initialisation); default
   * DEFAULT_GATE_MEMORY. The plain RNN has no gate and ignores it.
   */
  memory?: number;
}

/** Gate memory when a config gives none: about a sentence or two of tokens. */
export const DEFAULT_GATE_MEMORY = 64;

const BIGRAM_PRIME = 1000003;

/** input_ids / attention_mask [batch, seq] (int64), as transformers.js feeds them. */
function textInputs(ctx: ModelContext): [Value, Value] {
  return [ctx.g.input('input_ids', 'int64', ['batch', 'seq']), ctx.g.input('attention_mask', 'int64', ['batch', 'seq'])];
}

/** An int64 attention mask [B, T] as float32 [B, T, 1], ready to multiply [B, T, D] activations. */
function floatMask(ctx: ModelContext, mask: Value, tokens: string): Value {
  const { g } = ctx;
  return g.withShape(g.unsqueeze(g.cast(mask, 'float32'), [-1]), ['batch', tokens, 1]);
}

/** Masked mean over axis 1 of x [B, T, D] with mask [B, T, 1] (float). */
function maskedMean(ctx: ModelContext, x: Value, mask: Value, dim: number): Value {
  const { g } = ctx;
  const total = g.withShape(g.reduceSum(g.mul(x, mask), [1], false), ['batch', dim]);
  // Max has no typed helper: clamps the token count at 1 so an all-padding row divides by 1, not 0.
  const count = g.op1('Max', [g.reduceSum(mask, [1], false), g.scalar(1)]);
  return g.withShape(g.div(total, count), ['batch', dim]);
}

export function bagOfEmbeddings(config: BowConfig): ModelDef {
  const buckets = config.buckets ?? 0;
  return {
    kind: 'bow',
    classes: config.classes,
    config: { ...config },
    build(ctx) {
      const { g } = ctx;
      const [ids, mask] = textInputs(ctx);
      let allIds = ids;
      let allMask = mask;
      if (buckets > 0) {
        const head = (v: Value) => g.slice(v, [0], [-1], [1]);
        const tail = (v: Value) => g.slice(v, [1], [Number.MAX_SAFE_INTEGER], [1]);
        // Mod has no typed helper; int64 throughout, so the bigram hash is exact.
        const hashed = g.op1('Mod', [g.add(g.mul(head(ids), g.int(BIGRAM_PRIME)), tail(ids)), g.int(buckets)]);
        allIds = g.concat([ids, g.add(hashed, g.int(config.vocab))], 1);
        allMask = g.concat([mask, g.mul(head(mask), tail(mask))], 1);
      }
      const emb = ctx.embedding('embeddings.weight', [config.vocab + buckets, config.dim], { ...allIds, shape: ['batch', 'tokens'] }, { uniform: 1 / config.dim });
      const maskF = floatMask(ctx, allMask, 'tokens');
      const pooled = ctx.dropout(maskedMean(ctx, emb, maskF, config.dim), config.dropout ?? 0);
      return { inputs: [ids, mask], logits: ctx.linear('classifier', pooled, config.dim, config.classes) };
    },
  };
}

/** Mean of the word embeddings (padding masked) → ReLU layers → classifier. */
export function embeddingMlp(config: EmbeddingMlpConfig): ModelDef {
  return {
    kind: 'mlp',
    classes: config.classes,
    config: { ...config },
    build(ctx) {
      const { g } = ctx;
      const [ids, mask] = textInputs(ctx);
      const emb = ctx.embedding('embeddings.weight', [config.vocab, config.embedding], ids, { normal: 0.1 });
      const maskF = floatMask(ctx, mask, 'seq');
      let h = ctx.dropout(maskedMean(ctx, emb, maskF, config.embedding), config.dropout ?? 0);
      let width = config.embedding;
      config.hidden.forEach((size, i) => {
        h = ctx.dropout(g.withShape(g.relu(ctx.linear(`layers.${i}`, h, width, size)), ['batch', size]), config.dropout ?? 0);
        width = size;
      });
      return { inputs: [ids, mask], logits: ctx.linear('classifier', h, width, config.classes) };
    },
  };
}

export function recurrentClassifier(config: RecurrentConfig): ModelDef {
  const layers = config.layers ?? 1;
  const directions = config.bidirectional ? 2 : 1;
  const H = config.hidden;
  const G = config.cell === 'lstm' ? 4 : config.cell === 'gru' ? 3 : 1;
  return {
    kind: `${config.bidirectional ? 'bi' : ''}${config.cell}`,
    classes: config.classes,
    config: { ...config },
    build(ctx) {
      const { g } = ctx;
      const [ids, mask] = textInputs(ctx);
      const emb = ctx.embedding('embeddings.weight', [config.vocab, config.embedding], ids, { normal: 0.1 });
      let x = ctx.dropout(g.withShape(g.transpose(emb, [1, 0, 2]), ['seq', 'batch', config.embedding]), config.dropout ?? 0);
      const maskT = g.withShape(g.unsqueeze(g.cast(g.transpose(mask, [1, 0]), 'float32'), [-1]), ['seq', 'batch', 1]);
      let width = config.embedding;
      let lasts: Value[] = [];
      for (let l = 0; l < layers; l++) {
        const outs: Value[] = [];
        lasts = [];
        for (let d = 0; d < directions; d++) {
          const p = `rnn.${l}.${d === 0 ? 'forward' : 'backward'}`;
          const w = {
            wx: ctx.param(`${p}.wx`, [width, G * H], 'glorot'),
            // Gated cells start remembering up to `memory` tokens back (gateBiases).
            bx: ctx.param(`${p}.bx`, [G * H], { data: gateBiases(config.cell, H, config.memory ?? DEFAULT_GATE_MEMORY) }),
            wh: ctx.param(`${p}.wh`, [H, G * H], 'glorot'),
            bh: ctx.param(`${p}.bh`, [G * H], 'zeros'),
          };
          const options = { hidden: H, reverse: d === 1, train: ctx.train };
          const cell = config.cell;
          const r = g.scope(p, () => (cell === 'lstm' ? lstm(g, x, maskT, w, options) : recurrent(g, x, maskT, w, { ...options, cell })));
          outs.push(r.outputs);
          lasts.push(r.last);
        }
        width = H * directions;
        x = outs.length > 1 ? g.withShape(g.concat(outs, 2), ['seq', 'batch', width]) : outs[0];
        if (l < layers - 1) x = ctx.dropout(x, config.dropout ?? 0);
      }
      let pooled: Value;
      const pooling = config.pooling ?? 'last';
      if (pooling === 'last') pooled = lasts.length > 1 ? g.withShape(g.concat(lasts, 1), ['batch', width]) : lasts[0];
      else if (pooling === 'mean') pooled = maskedMean(ctx, g.withShape(g.transpose(x, [1, 0, 2]), ['batch', 'seq', width]), g.transpose(maskT, [1, 0, 2]), width);
      else pooled = g.withShape(g.reduceMax(g.where(g.greater(maskT, 0), x, -1e4), [0], false), ['batch', width]);
      pooled = ctx.dropout(pooled, config.dropout ?? 0);
      return { inputs: [ids, mask], logits: ctx.linear('classifier', pooled, width, config.classes) };
    },
  };
}

/**
 * Input biases that make the gated cells keep their state for 1 … `memory` steps at initialisation: the chrono
 * initialisation of Tallec & Ollivier (2018, "Can recurrent neural networks warp time?"), with the units' time scales
 * spread evenly over [1, memory − 1] instead of drawn at random. Why: with a forget-gate bias of 1 an LSTM keeps
 * σ(1) ≈ 0.73 of its cell per step (0.73³⁰ ≈ 10⁻⁴) and a GRU with zero biases half its state, so a token 30 steps
 * back gets no gradient and the gated cells stayed at chance on "the class is the first token" while a plain RNN
 * learned it. LSTM [i, f, g, o]: forget bias log(τ), input bias −log(τ); GRU [r, z, n]: update bias log(τ)
 * (z is the share of the old state kept). The plain RNN gets zeros.
 */
export function gateBiases(cell: TextCell, H: number, memory: number): Float32Array {
  const G = cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1;
  const out = new Float32Array(G * H);
  if (cell === 'rnn') return out;
  const span = Math.max(memory, 2) - 2;
  for (let j = 0; j < H; j++) {
    const keep = Math.log(1 + (span * (j + 0.5)) / H);
    if (cell === 'lstm') {
      out[j] = -keep;
      out[H + j] = keep;
    } else out[H + j] = keep;
  }
  return out;
}
