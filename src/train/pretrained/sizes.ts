// Encoder sizes for pre-training from scratch (BERT layout) as Hugging Face config.json files.

export const ENCODER_SIZES = ['tiny', 'mini', 'small', 'base'] as const;
export type EncoderSize = (typeof ENCODER_SIZES)[number];

/**
 * Layers × hidden: mini, small and base are Google's BERT-mini (4 × 256), BERT-small (4 × 512) and BERT-base
 * (12 × 768), with a 4 × hidden feed-forward and hidden / 64 heads. `tiny` (2 × 64, 2 heads of 32) trains in seconds
 * on a CPU, for tests and smoke runs.
 */
const SHAPES: Record<EncoderSize, { layers: number; hidden: number; heads: number }> = {
  tiny: { layers: 2, hidden: 64, heads: 2 },
  mini: { layers: 4, hidden: 256, heads: 4 },
  small: { layers: 4, hidden: 512, heads: 8 },
  base: { layers: 12, hidden: 768, heads: 12 },
};

/** BERT's initializer_range: weights start as normal(0, 0.02). */
export const INITIALIZER_RANGE = 0.02;

export interface SizeOptions {
  readonly vocabSize: number;
  /** max_position_embeddings (BERT: 512). */
  readonly maxPositions: number;
  readonly padTokenId: number;
  /** hidden_dropout_prob and attention_probs_dropout_prob (BERT: 0.1). */
  readonly dropout?: number;
}

/** A Hugging Face `config.json` for a BertForMaskedLM of `size`. */
export function bertMaskedLmConfig(size: EncoderSize, options: SizeOptions): Record<string, unknown> {
  const { layers, hidden, heads } = SHAPES[size];
  const dropout = options.dropout ?? 0.1;
  return {
    architectures: ['BertForMaskedLM'],
    model_type: 'bert',
    vocab_size: options.vocabSize,
    hidden_size: hidden,
    num_hidden_layers: layers,
    num_attention_heads: heads,
    intermediate_size: 4 * hidden,
    hidden_act: 'gelu',
    hidden_dropout_prob: dropout,
    attention_probs_dropout_prob: dropout,
    max_position_embeddings: options.maxPositions,
    type_vocab_size: 2,
    initializer_range: INITIALIZER_RANGE,
    layer_norm_eps: 1e-12,
    pad_token_id: options.padTokenId,
    position_embedding_type: 'absolute',
    torch_dtype: 'float32',
  };
}
