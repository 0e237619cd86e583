// Reads a Hugging Face encoder config.json (bert, distilbert, roberta, xlm-roberta) into one normalised shape.
import { geulError } from '../../core/errors.js';

export const SUPPORTED_MODEL_TYPES = ['bert', 'distilbert', 'roberta', 'xlm-roberta'] as const;
export type EncoderModelType = (typeof SUPPORTED_MODEL_TYPES)[number];

/** What sits on top of the encoder. */
export type EncoderHead = 'base' | 'sequence-classification' | 'masked-lm';

export interface EncoderConfig {
  readonly modelType: EncoderModelType;
  readonly head: EncoderHead;
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly layers: number;
  readonly heads: number;
  readonly intermediateSize: number;
  readonly maxPositions: number;
  /** 0 where the architecture has no token-type embeddings (DistilBERT). */
  readonly typeVocabSize: number;
  readonly layerNormEps: number;
  readonly hiddenAct: string;
  readonly padTokenId: number;
  readonly numLabels: number;
  readonly id2label: readonly string[];
}

/** HF ACT2FN names the encoder graph implements. */
export const SUPPORTED_ACTIVATIONS = ['gelu', 'relu', 'gelu_new', 'gelu_pytorch_tanh', 'silu', 'swish'] as const;

const HEAD_BY_SUFFIX: ReadonlyArray<[string, EncoderHead]> = [['ForSequenceClassification', 'sequence-classification'], ['ForMaskedLM', 'masked-lm']];

/** Normalises `raw` (a parsed config.json); `model` names it in errors; `head` overrides the one `architectures` implies. */
export function parseEncoderConfig(raw: unknown, model: string, head?: EncoderHead): EncoderConfig {
  const config = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const modelType = config['model_type'];
  if (!SUPPORTED_MODEL_TYPES.includes(modelType as EncoderModelType)) {
    throw geulError('MODEL_INVALID', { model, detail: `model_type "${String(modelType)}" is not a supported encoder (supported: ${SUPPORTED_MODEL_TYPES.join(', ')})` });
  }
  const type = modelType as EncoderModelType;
  const distil = type === 'distilbert';
  const number = (key: string, fallback?: number): number => {
    const value = config[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw geulError('MODEL_INVALID', { model, detail: `config.json lacks a valid "${key}"` });
    return value;
  };
  const id2label = labels(config, model);
  const architecture = Array.isArray(config['architectures']) ? String(config['architectures'][0] ?? '') : '';
  const impliedHead = HEAD_BY_SUFFIX.find(([suffix]) => architecture.endsWith(suffix))?.[1] ?? 'base';
  const hiddenSize = number(distil ? 'dim' : 'hidden_size');
  const heads = number(distil ? 'n_heads' : 'num_attention_heads');
  if (heads === 0 || hiddenSize % heads !== 0) throw geulError('MODEL_INVALID', { model, detail: `hidden size ${hiddenSize} is not a multiple of ${heads} attention heads` });
  if (distil && config['sinusoidal_pos_embds'] === true) throw geulError('MODEL_INVALID', { model, detail: 'sinusoidal position embeddings are not supported' });
  const positionType = config['position_embedding_type'] ?? 'absolute';
  if (positionType !== 'absolute') throw geulError('MODEL_INVALID', { model, detail: `position_embedding_type "${String(positionType)}" is not supported (only "absolute")` });
  const hiddenAct = String(config[distil ? 'activation' : 'hidden_act'] ?? 'gelu');
  if (!(SUPPORTED_ACTIVATIONS as readonly string[]).includes(hiddenAct)) {
    throw geulError('MODEL_INVALID', { model, detail: `activation "${hiddenAct}" is not supported (${SUPPORTED_ACTIVATIONS.join(', ')})` });
  }
  return {
    modelType: type,
    head: head ?? impliedHead,
    vocabSize: number('vocab_size'),
    hiddenSize,
    layers: number(distil ? 'n_layers' : 'num_hidden_layers'),
    heads,
    intermediateSize: number(distil ? 'hidden_dim' : 'intermediate_size'),
    maxPositions: number('max_position_embeddings'),
    typeVocabSize: distil ? 0 : number('type_vocab_size', 2),
    // DistilBERT hard-codes 1e-12 and has no config key.
    layerNormEps: distil ? 1e-12 : number('layer_norm_eps', 1e-12),
    hiddenAct,
    padTokenId: number('pad_token_id', type === 'bert' || distil ? 0 : 1),
    numLabels: id2label.length,
    id2label,
  };
}

function labels(config: Record<string, unknown>, model: string): string[] {
  const map = config['id2label'];
  if (typeof map === 'object' && map !== null) {
    const entries = Object.entries(map as Record<string, unknown>).map(([id, label]) => [Number(id), String(label)] as const);
    const out: string[] = [];
    for (const [id, label] of entries) {
      if (!Number.isInteger(id) || id < 0 || id >= entries.length) throw geulError('MODEL_INVALID', { model, detail: 'id2label ids are not 0…n-1' });
      out[id] = label;
    }
    return out;
  }
  const count = config['num_labels'];
  return Array.from({ length: typeof count === 'number' ? count : 2 }, (_, i) => `LABEL_${i}`);
}
