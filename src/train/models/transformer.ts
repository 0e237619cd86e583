// A Transformer encoder text classifier (post-LayerNorm like BERT and torch's default): token + position embeddings,
// multi-head self-attention with a padding mask, GELU feed-forward, masked mean pooling, linear head.
import type { Value } from '../../graph/builder.js';
import type { ModelContext, ModelDef } from '../model.js';

export interface TransformerConfig {
  vocab: number;
  /** Longest sequence (size of the position table). */
  maxLength: number;
  hidden: number;
  heads: number;
  ffn: number;
  layers: number;
  classes: number;
  dropout?: number;
}

export function transformerClassifier(config: TransformerConfig): ModelDef {
  const { hidden: D, heads: Hd, ffn: F } = config;
  const dh = D / Hd;
  const drop = config.dropout ?? 0.1;
  return {
    kind: 'transformer',
    classes: config.classes,
    config: { ...config },
    build(ctx) {
      const { g } = ctx;
      const ids = g.input('input_ids', 'int64', ['batch', 'seq']);
      const mask = g.input('attention_mask', 'int64', ['batch', 'seq']);
      const BT = ['batch', 'seq', D];
      const tok = ctx.embedding('embeddings.word', [config.vocab, D], ids, { normal: 0.02 });
      const positions = g.op1('Range', [g.int(0), g.op1('Gather', [g.op1('Shape', [ids]), g.int(1)]), g.int(1)]);
      const pos = g.op1('Gather', [ctx.param('embeddings.position', [config.maxLength, D], { normal: 0.02 }), positions], {}, { shape: ['seq', D] });
      let x = layerNorm(ctx, 'embeddings.norm', g.op1('Add', [tok, pos], {}, { shape: BT }), D);
      x = ctx.dropout(x, drop);
      const maskF = g.op1('Cast', [mask], { to: 1 }, { shape: ['batch', 'seq'] });
      // Additive attention bias [B, 1, 1, T]: 0 for tokens, -1e4 for padding.
      const bias = g.op1('Unsqueeze', [g.op1('Mul', [g.op1('Sub', [g.scalar(1), maskF]), g.scalar(-1e4)]), g.ints([1, 2])], {}, { shape: ['batch', 1, 1, 'seq'] });
      const heads = (v: Value) => g.op1('Transpose', [g.op1('Reshape', [v, g.ints([0, 0, Hd, dh])], {}, { shape: ['batch', 'seq', Hd, dh] })], { perm: [0, 2, 1, 3] }, { shape: ['batch', Hd, 'seq', dh] });
      for (let l = 0; l < config.layers; l++) {
        const p = `layers.${l}`;
        const [q, k, v] = g.op('Split', [ctx.linear(`${p}.attention.qkv`, x, D, 3 * D), g.ints([D, D, D])], { axis: 2 }, { outputs: 3 });
        const kT = g.op1('Transpose', [heads(k)], { perm: [0, 1, 3, 2] }, { shape: ['batch', Hd, dh, 'seq'] });
        const scores = g.op1('Add', [g.op1('Mul', [g.op1('MatMul', [heads(q), kT]), g.scalar(1 / Math.sqrt(dh))]), bias], {}, { shape: ['batch', Hd, 'seq', 'seq'] });
        const probs = ctx.dropout(g.op1('Softmax', [scores], { axis: -1 }, { shape: ['batch', Hd, 'seq', 'seq'] }), drop);
        const mixed = g.op1('MatMul', [probs, heads(v)], {}, { shape: ['batch', Hd, 'seq', dh] });
        const merged = g.op1('Reshape', [g.op1('Transpose', [mixed], { perm: [0, 2, 1, 3] }), g.ints([0, 0, D])], {}, { shape: BT });
        const attn = ctx.dropout(ctx.linear(`${p}.attention.out`, merged, D, D), drop);
        x = layerNorm(ctx, `${p}.attention.norm`, g.op1('Add', [x, attn], {}, { shape: BT }), D);
        const h = g.gelu(ctx.linear(`${p}.ffn.in`, x, D, F));
        const ff = ctx.dropout(ctx.linear(`${p}.ffn.out`, { ...h, shape: ['batch', 'seq', F] }, F, D), drop);
        x = layerNorm(ctx, `${p}.ffn.norm`, g.op1('Add', [x, ff], {}, { shape: BT }), D);
      }
      const m3 = g.op1('Unsqueeze', [maskF, g.ints([-1])], {}, { shape: ['batch', 'seq', 1] });
      const total = g.op1('ReduceSum', [g.op1('Mul', [x, m3]), g.ints([1])], { keepdims: 0 }, { shape: ['batch', D] });
      const count = g.op1('Max', [g.op1('ReduceSum', [m3, g.ints([1])], { keepdims: 0 }), g.scalar(1)]);
      const pooled = g.op1('Div', [total, count], {}, { shape: ['batch', D] });
      return { inputs: [ids, mask], logits: ctx.linear('classifier', ctx.dropout(pooled, drop), D, config.classes) };
    },
  };
}

function layerNorm(ctx: ModelContext, name: string, x: Value, D: number): Value {
  const scale = ctx.param(`${name}.weight`, [D], 'ones');
  const bias = ctx.param(`${name}.bias`, [D], 'zeros');
  return ctx.g.layerNorm(x, scale, bias);
}
