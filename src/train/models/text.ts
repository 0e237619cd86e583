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
}

const BIGRAM_PRIME = 1000003;

/** input_ids / attention_mask [batch, seq] (int64), as transformers.js feeds them. */
function textInputs(ctx: ModelContext): [Value, Value] {
  return [ctx.g.input('input_ids', 'int64', ['batch', 'seq']), ctx.g.input('attention_mask', 'int64', ['batch', 'seq'])];
}

/** An int64 attention mask [B, T] as float32 [B, T, 1], ready to multiply [B, T, D] activations. */
function floatMask(ctx: ModelContext, mask: Value, tokens: string): Value {
  const { g } = ctx;
  return g.op1('Unsqueeze', [g.op1('Cast', [mask], { to: 1 }), g.ints([-1])], {}, { shape: ['batch', tokens, 1] });
}

/** Masked mean over axis 1 of x [B, T, D] with mask [B, T, 1] (float). */
function maskedMean(ctx: ModelContext, x: Value, mask: Value, dim: number): Value {
  const { g } = ctx;
  const total = g.op1('ReduceSum', [g.op1('Mul', [x, mask]), g.ints([1])], { keepdims: 0 }, { shape: ['batch', dim] });
  const count = g.op1('Max', [g.op1('ReduceSum', [mask, g.ints([1])], { keepdims: 0 }), g.scalar(1)]);
  return g.op1('Div', [total, count], {}, { shape: ['batch', dim] });
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
        const head = (v: Value) => g.op1('Slice', [v, g.ints([0]), g.ints([-1]), g.ints([1])]);
        const tail = (v: Value) => g.op1('Slice', [v, g.ints([1]), g.ints([Number.MAX_SAFE_INTEGER]), g.ints([1])]);
        const hashed = g.op1('Mod', [g.op1('Add', [g.op1('Mul', [head(ids), g.int(BIGRAM_PRIME)]), tail(ids)]), g.int(buckets)]);
        allIds = g.op1('Concat', [ids, g.op1('Add', [hashed, g.int(config.vocab)])], { axis: 1 });
        allMask = g.op1('Concat', [mask, g.op1('Mul', [head(mask), tail(mask)])], { axis: 1 });
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
        h = ctx.dropout(g.op1('Relu', [ctx.linear(`layers.${i}`, h, width, size)], {}, { shape: ['batch', size] }), config.dropout ?? 0);
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
      let x = ctx.dropout(g.op1('Transpose', [emb], { perm: [1, 0, 2] }, { shape: ['seq', 'batch', config.embedding] }), config.dropout ?? 0);
      const maskT = g.op1('Unsqueeze', [g.op1('Cast', [g.op1('Transpose', [mask], { perm: [1, 0] })], { to: 1 }), g.ints([-1])], {}, { shape: ['seq', 'batch', 1] });
      let width = config.embedding;
      let lasts: Value[] = [];
      for (let l = 0; l < layers; l++) {
        const outs: Value[] = [];
        lasts = [];
        for (let d = 0; d < directions; d++) {
          const p = `rnn.${l}.${d === 0 ? 'forward' : 'backward'}`;
          const w = {
            wx: ctx.param(`${p}.wx`, [width, G * H], 'glorot'),
            // LSTM: forget-gate bias 1, so early steps keep their cell state.
            bx: ctx.param(`${p}.bx`, [G * H], config.cell === 'lstm' ? { data: Float32Array.from({ length: G * H }, (_, i) => (i >= H && i < 2 * H ? 1 : 0)) } : 'zeros'),
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
        x = outs.length > 1 ? g.op1('Concat', outs, { axis: 2 }, { shape: ['seq', 'batch', width] }) : outs[0];
        if (l < layers - 1) x = ctx.dropout(x, config.dropout ?? 0);
      }
      let pooled: Value;
      const pooling = config.pooling ?? 'last';
      if (pooling === 'last') pooled = lasts.length > 1 ? g.op1('Concat', lasts, { axis: 1 }, { shape: ['batch', width] }) : lasts[0];
      else if (pooling === 'mean') pooled = maskedMean(ctx, g.op1('Transpose', [x], { perm: [1, 0, 2] }, { shape: ['batch', 'seq', width] }), g.op1('Transpose', [maskT], { perm: [1, 0, 2] }), width);
      else pooled = g.op1('ReduceMax', [g.op1('Where', [g.op1('Greater', [maskT, g.scalar(0)]), x, g.scalar(-1e4)])], { axes: [0], keepdims: 0 }, { shape: ['batch', width] });
      pooled = ctx.dropout(pooled, config.dropout ?? 0);
      return { inputs: [ids, mask], logits: ctx.linear('classifier', pooled, width, config.classes) };
    },
  };
}
