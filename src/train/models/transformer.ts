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
      const positions = g.range(0, g.dim(ids, 1), 1);
      const pos = g.withShape(g.gather(ctx.param('embeddings.position', [config.maxLength, D], { normal: 0.02 }), positions), ['seq', D]);
      let x = layerNorm(ctx, 'embeddings.norm', g.withShape(g.add(tok, pos), BT), D);
      x = ctx.dropout(x, drop);
      const maskF = g.withShape(g.cast(mask, 'float32'), ['batch', 'seq']);
      // Additive attention bias [B, 1, 1, T]: 0 for tokens, -1e4 for padding.
      const bias = g.withShape(g.unsqueeze(g.mul(g.sub(1, maskF), -1e4), [1, 2]), ['batch', 1, 1, 'seq']);
      const heads = (v: Value) => g.withShape(g.transpose(g.withShape(g.reshape(v, [0, 0, Hd, dh]), ['batch', 'seq', Hd, dh]), [0, 2, 1, 3]), ['batch', Hd, 'seq', dh]);
      for (let l = 0; l < config.layers; l++) {
        const p = `layers.${l}`;
        const [q, k, v] = g.split(ctx.linear(`${p}.attention.qkv`, x, D, 3 * D), [D, D, D], 2);
        const kT = g.withShape(g.transpose(heads(k), [0, 1, 3, 2]), ['batch', Hd, dh, 'seq']);
        const scores = g.withShape(g.add(g.mul(g.matmul(heads(q), kT), 1 / Math.sqrt(dh)), bias), ['batch', Hd, 'seq', 'seq']);
        const probs = ctx.dropout(g.withShape(g.softmax(scores, -1), ['batch', Hd, 'seq', 'seq']), drop);
        const mixed = g.withShape(g.matmul(probs, heads(v)), ['batch', Hd, 'seq', dh]);
        const merged = g.withShape(g.reshape(g.transpose(mixed, [0, 2, 1, 3]), [0, 0, D]), BT);
        const attn = ctx.dropout(ctx.linear(`${p}.attention.out`, merged, D, D), drop);
        x = layerNorm(ctx, `${p}.attention.norm`, g.withShape(g.add(x, attn), BT), D);
        const h = g.gelu(ctx.linear(`${p}.ffn.in`, x, D, F));
        const ff = ctx.dropout(ctx.linear(`${p}.ffn.out`, g.withShape(h, ['batch', 'seq', F]), F, D), drop);
        x = layerNorm(ctx, `${p}.ffn.norm`, g.withShape(g.add(x, ff), BT), D);
      }
      const m3 = g.withShape(g.unsqueeze(maskF, [-1]), ['batch', 'seq', 1]);
      const total = g.withShape(g.reduceSum(g.mul(x, m3), [1], false), ['batch', D]);
      // Max has no typed helper: clamps the token count at 1 so an all-padding row divides by 1, not 0.
      const count = g.op1('Max', [g.reduceSum(m3, [1], false), g.scalar(1)]);
      const pooled = g.withShape(g.div(total, count), ['batch', D]);
      return { inputs: [ids, mask], logits: ctx.linear('classifier', ctx.dropout(pooled, drop), D, config.classes) };
    },
  };
}

function layerNorm(ctx: ModelContext, name: string, x: Value, D: number): Value {
  const scale = ctx.param(`${name}.weight`, [D], 'ones');
  const bias = ctx.param(`${name}.bias`, [D], 'zeros');
  return ctx.g.layerNorm(x, scale, bias);
}
